"""The Python template process: the server's worker factory for one Python
module, and the workers it forks.

The server starts it for a Python function reference (PythonFunction in the
contract) as::

    [interpreter, "-I", "-c", BOOTSTRAP, SERVER_PID, *SYS_PATH]

with its control socket (AF_UNIX, SOCK_SEQPACKET) as descriptor 3, the
server's environment, working directory, stdout and stderr, and /dev/null as
stdin. It loads this runtime and runs it on tasks of its own
(``_worker_session.warm_up``: workers then fork from warm code), then waits
for the first datagram of the control socket: ``MODULE \0 MODULE_FILE`` (the
server may start a template ahead, as a spare, and name its module later; the
end of the socket before that ends it quietly). The template imports the
module once, says whether it could (TemplateEvent.started), then forks
workers on request, each a copy of the template that shares the module's
memory copy-on-write. It speaks the protocol of the server's own template
(proto/pprocd/wire/v1/wire.proto: one serialized TemplateRequest or
TemplateEvent per datagram, a spawned worker's task socket and output files
sent with SCM_RIGHTS), and its workers that of the server's workers (see
``_worker_session``), so that the server runs them like its own.

The template is single-threaded and prints nothing unless it cannot go on
(then one line on stderr, in the server's log format: $PPROCD_LOG_FORMAT,
"text" or "json", which the server sets for it). What the module prints
while it is imported goes to that log too, as one line. It dies with the
server (PR_SET_PDEATHSIG), and when the server closes the control socket it
kills every worker's process group, reaps them and exits.
"""

from __future__ import annotations

import contextlib
import _signal
import ctypes
import io
import json
import fcntl
import gc
import importlib
import importlib.util
import os
import select
import signal
import socket
import sys
import time
import traceback
import types

from . import _wire

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, NoReturn, Optional

# The command line the server runs (the server has a copy of this text:
# change both together). It puts the client's import path first, so that
# this package and the function's module import as in the client.
BOOTSTRAP = ("import sys;sys.path[:0]=sys.argv[2:];"
             "from pprocd._template import main;main(int(sys.argv[1]))")

CONTROL_FD = 3
# Requests are a few bytes; a datagram is read whole or not at all.
_MAX_CONTROL_MESSAGE = 4096
# The module's name and file (a path is at most PATH_MAX).
_MAX_MODULE_MESSAGE = 8192
_PR_SET_PDEATHSIG = 1
# Plain ints, for what a forked worker does before it runs its item: the
# signal module's enum conversions would write to (and so copy) pages the
# template shares with it.
_SIGKILL = int(signal.SIGKILL)
_SIGNALS_RESET_IN_WORKERS = (int(signal.SIGCHLD), int(signal.SIGINT), int(signal.SIGTERM))
# Exit status of a worker whose own runtime failed (as the C++ worker's).
_EXIT_PROTOCOL_ERROR = 70

_libc: Optional[ctypes.CDLL] = None
# The server's --log-format ($PPROCD_LOG_FORMAT): "text" (logfmt) or "json".
_log_format = "text"
# A value of the text format is quoted when it holds one of these.
_LOGFMT_SPECIAL = frozenset(' ="\\') | frozenset(chr(c) for c in range(0x20)) | {"\x7f"}


def _logfmt_value(value: str) -> str:
    if value and not any(c in _LOGFMT_SPECIAL for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    escaped = escaped.replace("\r", "\\r").replace("\t", "\\t")
    escaped = "".join(c if c >= " " and c != "\x7f" else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def log(level: str, msg: str, **fields: Any) -> None:
    """Writes one line of the server's log (base/log/log.h) on stderr, in
    its format: ``time level=... msg=... key=value`` or a JSON object."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    if _log_format == "json":
        line = json.dumps({"time": stamp, "level": level, "msg": msg, **fields},
                          separators=(",", ":"))
    else:
        parts = [stamp, f"level={level}", f"msg={_logfmt_value(msg)}"]
        for key, value in fields.items():
            text = value if isinstance(value, str) else json.dumps(value)
            parts.append(f"{key}={_logfmt_value(text)}")
        line = " ".join(parts)
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def die_with_parent(parent: int) -> None:
    """Asks the kernel to SIGKILL this process when its parent thread ends,
    and exits at once if the parent is no longer ``parent`` (it ended
    before the request took effect)."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    _libc.prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _error_line(error: BaseException) -> str:
    """``ExceptionType: message``, the last line of its traceback."""
    lines = traceback.format_exception_only(type(error), error)
    return lines[-1].strip() if lines else type(error).__name__


def import_module(name: str, module_file: str) -> types.ModuleType:
    """Imports the module a function reference names. ``__main__`` (a
    script) is loaded from ``module_file`` as ``__mp_main__`` and also
    installed as ``__main__``, as multiprocessing's spawn does: its
    ``if __name__ == "__main__":`` block does not run. Any other module is
    imported by name and must come from ``module_file`` (when given).
    Raises ImportError saying why not; exceptions of the module propagate."""
    if name == "__main__":
        spec = importlib.util.spec_from_file_location("__mp_main__", module_file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {module_file} as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules["__mp_main__"] = module
        sys.modules["__main__"] = module
        spec.loader.exec_module(module)
        return module
    module = importlib.import_module(name)
    found = getattr(module, "__file__", None)
    if module_file and found and os.path.realpath(found) != os.path.realpath(module_file):
        raise ImportError(f"module {name!r} resolves to {found}, not {module_file}")
    return module


def main(server_pid: int) -> NoReturn:
    """Runs the template (see the module doc); never returns."""
    die_with_parent(server_pid)
    fcntl.fcntl(CONTROL_FD, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
    control = socket.socket(fileno=CONTROL_FD)
    # The runtime first: a failure to load it is the template's, not the
    # module's.
    from ._worker_session import WorkerSession, warm_up

    global _log_format
    _log_format = "json" if os.environ.get("PPROCD_LOG_FORMAT") == "json" else "text"
    # Before the module is named: a spare template does it while it waits.
    warm_up()
    try:
        named = control.recv(_MAX_MODULE_MESSAGE)
    except OSError:
        os._exit(1)
    if not named:
        os._exit(0)  # A spare the server no longer needs.
    name_bytes, _, file_bytes = named.partition(b"\0")
    name = os.fsdecode(name_bytes)
    module_file = os.fsdecode(file_bytes)
    # Files written since the runtime was loaded (a spare waits long).
    importlib.invalidate_caches()
    error = ""
    module: Optional[types.ModuleType] = None
    try:
        # What the module prints while importing must not reach the
        # server's stdout, which may be read by whoever started the server:
        # it becomes one line of the server's log.
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                module = import_module(name, module_file)
        finally:
            if printed.getvalue():
                log("info", "a Python module printed while imported", module=name,
                    pid=os.getpid(), output=printed.getvalue()[-4000:])
    except BaseException as caught:  # SystemExit of a script too
        where = f" (from {module_file})" if module_file else ""
        error = f"cannot import module {name!r}{where}: {_error_line(caught)}"
    # One datagram of the control socket holds at most 4 KiB.
    if len(error.encode("utf-8", "replace")) > 3000:
        error = error.encode("utf-8", "replace")[:2990].decode("utf-8", "ignore") + " [...]"
    try:
        control.send(_wire.template_started(error))
    except OSError:
        os._exit(1)
    if module is None:
        os._exit(1)
    Template(control, module, name, WorkerSession).run()


class Template:
    """The control loop: spawns and kills workers as the server asks, and
    reports each worker's end. Owns the control socket and the workers."""

    def __init__(self, control: socket.socket, module: types.ModuleType, module_name: str,
                 session_class: Any) -> None:
        self._control = control
        self._module = module
        self._module_name = module_name
        self._session_class = session_class
        # The session every worker starts from (built at the first spawn).
        self._session: Any = None
        self._workers: Dict[int, int] = {}  # pid -> worker_id, until reaped
        self._pids: Dict[int, int] = {}  # worker_id -> pid, until reaped
        self._wakeup_r = -1
        self._wakeup_w = -1

    def run(self) -> NoReturn:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self._wakeup_r, self._wakeup_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        # SIGCHLD wakes the poll below through the pipe; the handler itself
        # does nothing (Python runs it between two bytecodes).
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.set_wakeup_fd(self._wakeup_w, warn_on_full_buffer=False)
        poller = select.poll()
        poller.register(self._control.fileno(), select.POLLIN)
        poller.register(self._wakeup_r, select.POLLIN)
        try:
            # Children that ended before the handler was set.
            self._reap()
            while True:
                for fd, _ in poller.poll():
                    if fd == self._wakeup_r:
                        self._reap()
                    else:
                        self._handle_control()
        except Exception as error:  # A defect here: no worker may outlive it.
            self._exit(f"{_error_line(error)}\n{traceback.format_exc()}")

    def _exit(self, why: Optional[str]) -> NoReturn:
        if why is not None:
            log("error", "the Python template process stops", module=self._module_name,
                pid=os.getpid(), error=why)
        for pid in self._workers:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        # Only the workers: a process the module started is not waited for.
        for pid in self._workers:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        os._exit(0 if why is None else 1)

    def _send(self, data: bytes, fds: Optional[List[int]] = None) -> None:
        """Sends a serialized TemplateEvent (with ``fds``)."""
        try:
            if fds:
                socket.send_fds(self._control, [data], fds, socket.MSG_NOSIGNAL)
            else:
                self._control.send(data, socket.MSG_NOSIGNAL)
        except OSError:
            self._exit(None)  # The server is gone.

    def _handle_control(self) -> None:
        try:
            data = self._control.recv(_MAX_CONTROL_MESSAGE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._exit(None)
        if not data:
            self._exit(None)  # The server closed the socket: shut down.
        try:
            kind, worker_id, callable_name = _wire.template_request(data)
        except (ValueError, IndexError):
            self._exit("malformed request")
        if kind == "spawn":
            self._spawn(worker_id, callable_name)
        elif kind == "kill":
            self._kill(worker_id)

    def _kill(self, worker_id: int) -> None:
        # Only a worker not yet reaped: until then its pid (and process
        # group id) cannot name another process.
        pid = self._pids.get(worker_id)
        if pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)

    def _report_failure(self, worker_id: int, what: str, error: OSError) -> None:
        reason = os.strerror(error.errno) if error.errno else str(error)
        self._send(_wire.worker_exited(worker_id, -1, -1, 0, f"{what}: {reason}"))

    def _spawn(self, worker_id: int, callable_name: str) -> None:
        if self._session is None:
            self._session = self._session_class(self._module, self._module_name)
        if callable_name:
            # A FRESH worker's function: resolved here once, not in every
            # process (a lookup that fails is kept for the item to report).
            # Looking it up may run the module's code: whatever that raises
            # is the worker's to meet, not the template's.
            with contextlib.suppress(Exception):
                self._session.prepare(callable_name)
        try:
            server_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        except OSError as error:
            return self._report_failure(worker_id, "socketpair", error)
        files = []
        try:
            try:
                # Output files: appended to by the worker, read by the worker
                # and the server (see worker/output_capture.h).
                for file_name in ("pprocd-stdout", "pprocd-stderr"):
                    fd = os.memfd_create(file_name, os.MFD_CLOEXEC)
                    files.append(fd)
                    fcntl.fcntl(fd, fcntl.F_SETFL, os.O_APPEND)
            except OSError as error:
                return self._report_failure(worker_id, "create an output file", error)
            parent = os.getpid()
            # Objects of the module and the runtime are never collected in
            # the workers: their pages stay shared.
            gc.freeze()
            try:
                pid = os.fork()
            except OSError as error:
                return self._report_failure(worker_id, "fork", error)
            if pid == 0:
                server_end.close()
                self._run_child(parent, worker_end, files[0], files[1])
            worker_end.close()
            with contextlib.suppress(OSError):  # Also done by the child.
                os.setpgid(pid, pid)
            self._workers[pid] = worker_id
            self._pids[worker_id] = pid
            self._send(_wire.worker_spawned(worker_id, pid),
                       [server_end.fileno(), files[0], files[1]])
        finally:
            server_end.close()
            worker_end.close()
            for fd in files:
                os.close(fd)

    def _run_child(self, parent: int, task: socket.socket, stdout_fd: int,
                   stderr_fd: int) -> NoReturn:
        status = _EXIT_PROTOCOL_ERROR
        # A forked Python process pays for every page it writes (refcounts,
        # allocations): this set-up runs in every worker, so it uses the C
        # functions (_signal), plain ints and no context managers.
        try:
            try:
                os.setpgid(0, 0)
            except OSError:
                pass
            die_with_parent(parent)
            _signal.set_wakeup_fd(-1)
            for signum in _SIGNALS_RESET_IN_WORKERS:
                _signal.signal(signum, _signal.SIG_DFL)
            # SIGPIPE stays ignored, as in any Python program: a write to a
            # closed pipe raises BrokenPipeError (subprocesses get the
            # default back from the subprocess module).
            os.close(self._wakeup_r)
            os.close(self._wakeup_w)
            self._control.close()
            null_fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            os.dup2(null_fd, 0)
            os.close(null_fd)
            os.dup2(stdout_fd, 1)
            os.dup2(stderr_fd, 2)
            os.close(stdout_fd)
            os.close(stderr_fd)
            session = self._session
            session.bind(task)
            session.run()
            status = 0
        except BaseException:  # The runtime's own failure: say so and exit.
            with contextlib.suppress(BaseException):
                traceback.print_exc(file=sys.stderr)
                sys.stderr.flush()
        finally:
            os._exit(status)

    def _reap(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._wakeup_r, 512):
                pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker_id = self._workers.pop(pid, None)
            if worker_id is None:
                continue  # Not a worker (a process the module started).
            del self._pids[worker_id]
            self._send(_wire.worker_exited(
                worker_id, pid, os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
                os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0))


__all__ = ["BOOTSTRAP", "CONTROL_FD", "Template", "import_module", "main"]
