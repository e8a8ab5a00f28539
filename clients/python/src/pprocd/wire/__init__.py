"""The private wire between the pprocd server, its template processes and
their workers (proto/pprocd/wire/v1): both ends are always one installation."""
