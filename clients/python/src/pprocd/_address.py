"""Where the pprocd server is: the search order shared with the server and
every other client (README: Where is the server?).

In order: the address given, else $PPROCD_ADDRESS, else the per-user socket
(``$XDG_RUNTIME_DIR/pprocd/pprocd.sock``, or ``/tmp/pprocd-UID/pprocd.sock``
when XDG_RUNTIME_DIR is unset), where ``pprocd`` and ``scripts/run`` serve by
default, else the system socket ``/run/pprocd/pprocd.sock``. Without an
address and $PPROCD_ADDRESS, the first of the two sockets that exists is
used (the per-user one when neither does). Accepted forms: ``unix:PATH``
(relative or absolute), ``unix:///ABS``, a bare socket path (containing
``/`` or ending in ``.sock``), ``tcp:HOST:PORT`` and ``HOST:PORT``.
"""

from __future__ import annotations

import os
from typing import List, NamedTuple, Optional

ADDRESS_ENV = "PPROCD_ADDRESS"
"""The environment variable that names the server when no address is given."""

SYSTEM_SOCKET = "/run/pprocd/pprocd.sock"
"""Where a system-wide server listens (deploy/systemd)."""

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


def user_socket_path() -> str:
    """The per-user socket: ``$XDG_RUNTIME_DIR/pprocd/pprocd.sock`` when
    XDG_RUNTIME_DIR is an absolute path, else ``/tmp/pprocd-UID/pprocd.sock``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime.startswith("/"):
        return runtime.rstrip("/") + "/pprocd/pprocd.sock"
    return f"/tmp/pprocd-{os.geteuid()}/pprocd.sock"


class Located(NamedTuple):
    """Where :func:`locate_server` looked, and what it chose."""

    target: str
    """The gRPC target to connect to."""
    tried: List[str]
    """What was tried, in order, e.g. ``unix:/run/pprocd/pprocd.sock (the system socket)``."""
    no_server_hint: str
    """What a "no server" error adds: what was tried and how to start one."""


def _start_hint(target: str) -> str:
    listen = None
    if target.startswith("unix:"):
        path = target[len("unix:"):]
        listen = "unix:" + (path[2:] if path.startswith("///") else path)
    elif not target.startswith(_PASS_THROUGH_SCHEMES):
        listen = "tcp:" + target
    if listen is None:
        return "start one with `pprocd` or scripts/run"
    return f"start one with `pprocd --listen {listen}` or scripts/run --listen {listen}"


def locate_server(address: Optional[str] = None) -> Located:
    """Follows the search order (see the module) with ``address`` as the
    explicit address; raises ValueError when the chosen address is invalid."""
    if address:
        target = normalize_address(address)
        tried = [f"{target} (the address given)"]
        return Located(target, tried, f"tried {tried[0]}; {_start_hint(target)}")
    from_env = os.environ.get(ADDRESS_ENV, "")
    if from_env:
        try:
            target = normalize_address(from_env)
        except ValueError as error:
            raise ValueError(f"${ADDRESS_ENV}: {error}") from None
        tried = [f"{target} (from ${ADDRESS_ENV})"]
        return Located(target, tried, f"tried {tried[0]}; {_start_hint(target)}")
    user = user_socket_path()
    only_system = not os.path.exists(user) and os.path.exists(SYSTEM_SOCKET)
    tried = [f"unix:{user} (the per-user socket)", f"unix:{SYSTEM_SOCKET} (the system socket)"]
    hint = (f"tried {', then '.join(tried)}, as no address was given and ${ADDRESS_ENV} "
            "is unset; start one with `pprocd` or scripts/run")
    return Located("unix:" + (SYSTEM_SOCKET if only_system else user), tried, hint)


def resolve_address(address: Optional[str] = None) -> str:
    """Returns the gRPC target of the server: ``address``, else
    $PPROCD_ADDRESS, else the per-user or the system socket (see the
    module), normalized."""
    return locate_server(address).target
