"""Where the pprocd server is: the address rules shared with the C++ client.

An address is, in order of precedence, the one given, else $PPROCD_ADDRESS,
else ``unix:run/pprocd.sock`` (where ``scripts/run`` serves). Accepted forms:
``unix:PATH`` (relative or absolute), ``unix:///ABS``, a bare socket path
(containing ``/`` or ending in ``.sock``), ``tcp:HOST:PORT`` and ``HOST:PORT``.
"""

from __future__ import annotations

import os
from typing import Optional

ADDRESS_ENV = "PPROCD_ADDRESS"
"""The environment variable that names the server when no address is given."""

DEFAULT_ADDRESS = "unix:run/pprocd.sock"
"""The address used when neither an argument nor $PPROCD_ADDRESS names one."""

_PASS_THROUGH_SCHEMES = ("unix-abstract:", "dns:", "ipv4:", "ipv6:")


def _bad(address: str, why: str) -> ValueError:
    return ValueError(f"invalid address {address!r}: {why} "
                      "(use unix:PATH, a socket path, tcp:HOST:PORT or HOST:PORT)")


def _check_host_port(original: str, host_port: str) -> None:
    host, colon, port = host_port.rpartition(":")
    if not colon:
        raise _bad(original, "expected HOST:PORT")
    if not host:
        raise _bad(original, "the host is empty")
    if not port.isdigit() or not 0 < int(port) <= 65535:
        raise _bad(original, f"{port!r} is not a port")


def normalize_address(address: str) -> str:
    """Returns the gRPC target for ``address``; raises ValueError when invalid.

    ``unix:`` targets keep their form, ``tcp:HOST:PORT`` becomes ``HOST:PORT``
    and a bare socket path becomes ``unix:PATH``.
    """
    text = address.strip()
    if not text:
        raise _bad(address, "it is empty")
    if text.startswith("unix:"):
        path = text[len("unix:"):]
        if not path:
            raise _bad(address, "the socket path is empty")
        # gRPC reads unix://X as an authority, so only unix:/// is meaningful.
        if path.startswith("//") and not path.startswith("///"):
            raise _bad(address, "unix:// needs an absolute path: unix:///P")
        return text
    for scheme in _PASS_THROUGH_SCHEMES:
        if text.startswith(scheme):
            if len(text) == len(scheme):
                raise _bad(address, "nothing follows the scheme")
            return text
    if text.startswith("tcp:"):
        _check_host_port(address, text[len("tcp:"):])
        return text[len("tcp:"):]
    if "/" in text or text.endswith(".sock"):
        return "unix:" + text
    _check_host_port(address, text)
    return text


def resolve_address(address: Optional[str] = None) -> str:
    """Returns the gRPC target of the server: ``address``, else
    $PPROCD_ADDRESS, else :data:`DEFAULT_ADDRESS`, normalized."""
    if address:
        return normalize_address(address)
    from_env = os.environ.get(ADDRESS_ENV, "")
    if from_env:
        try:
            return normalize_address(from_env)
        except ValueError as error:
            raise ValueError(f"${ADDRESS_ENV}: {error}") from None
    return normalize_address(DEFAULT_ADDRESS)


def listen_hint(target: str) -> str:
    """How to start a server that serves ``target`` (for error messages)."""
    listen = None
    if target.startswith("unix:"):
        path = target[len("unix:"):]
        listen = "unix:" + (path[2:] if path.startswith("///") else path)
    elif not target.startswith(_PASS_THROUGH_SCHEMES):
        listen = "tcp:" + target
    if listen is None:
        return "start it with scripts/run"
    if listen == DEFAULT_ADDRESS:
        return f"start it with scripts/run (or pprocd --listen {listen})"
    return f"start it with scripts/run --listen {listen} (or pprocd --listen {listen})"
