"""A Python worker's conversation with the server (the Python twin of
worker/worker_loop.cc): reads TaskFrames from the task socket, runs their
items with a function of the template's module, and sends results (batched,
see ``_result_batch``) and channel messages (at once).

Frames on the task socket are a 4-byte little-endian length and a
serialized TaskFrame (in) or ResultFrame (out). End of input ends the
worker (status 0).

- TaskFrame.callable is the function's qualified name in the module
  ("f", "Cls.method"), or "channel:QUALNAME" for a channel function (called
  through Start): its first parameter is a :class:`Channel`.
- Each element of the task's packed inputs (one JSON array, decoded in one
  call) is one item, bound to the function's parameters as the server binds
  them: to a function of one parameter (a channel function's first not
  counted) the value is that argument; otherwise a list spreads over the
  positional parameters, an object gives keyword arguments, null calls the
  function with no argument when it takes none, and any other value is the
  first argument. An item that does not bind fails with
  ERROR_KIND_INVALID_ARGUMENT and the TypeError's message.
- An exception fails its item with ERROR_KIND_RAISED, "Type: message", and
  the traceback on stderr (so in its logs and stderr tail); SystemExit and
  KeyboardInterrupt too: the worker goes on.
- What an item writes to stdout and stderr becomes its logs. Writes through
  sys.stdout/sys.stderr are seen after each item without a system call;
  other writes (os.write, subprocesses) are found when results are sent, and
  go to that item (after which this worker checks after every item).

Belongs to the worker process's one thread.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import os
import resource
import socket
import sys
import time
import traceback
import types


from . import _packed, _wire
from ._result_batch import ENCODE_ERRORS, Result, ResultBatch, describe_unsendable, send_frame
from ._worker_output import (install_streams, output_pending, prepare_streams, stderr_tail,
                             take_standard_output)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (Any, Callable, Deque, Dict, Iterator, List, NoReturn, Optional, Sequence,
                        Tuple, Union)

_EXIT_PROTOCOL_ERROR = 70
# Results are sent when this many bytes are buffered, when this much time
# passed since the last send, and at the end of each task.
_FLUSH_BYTES = 64 << 10
_SLOW_ITEM_NS = 2_000_000
# On the hot path the time between sends grows with the task: half the time
# the task has run so far, at least _SLOW_ITEM_NS, at most _MAX_SEND_NS. A
# send costs about 0.3 ms of CPU between this worker, the server and the
# caller, which every 2 ms would take a sixth of a core from the items; a
# long task sends about a dozen times in its first quarter second, then
# every 50 ms.
_MAX_SEND_NS = 50_000_000
# The hot path's runs of items between clock readings: a run grows while it
# takes less than _RUN_NS, up to _MAX_RUN items.
_RUN_NS = 200_000
_MAX_RUN = 1024
_READ_BYTES = 64 << 10
_MAX_READ_BYTES = 4 << 20
_CHANNEL_PREFIX = "channel:"
_BINDABLE = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
# Frames of these files are the runtime's, left out of tracebacks.
_OWN_FILES = frozenset([__file__])


def _send_interval(elapsed_ns: int) -> int:
    """The hot path's time from a send to the next one, in a task that has
    run for ``elapsed_ns`` (see _MAX_SEND_NS)."""
    return min(_MAX_SEND_NS, max(_SLOW_ITEM_NS, elapsed_ns >> 1))


def _die(what: str) -> NoReturn:
    print(f"pprocd worker: {what}", file=sys.stderr, flush=True)
    os._exit(_EXIT_PROTOCOL_ERROR)


def _error_line(error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    return lines[-1].strip() if lines else type(error).__name__


def _user_traceback(error: BaseException) -> Optional[types.TracebackType]:
    """The traceback of ``error`` without the runtime's frames (None when
    it has no other frame)."""
    frames = error.__traceback__
    while frames is not None and frames.tb_frame.f_code.co_filename in _OWN_FILES:
        frames = frames.tb_next
    return frames


class _ItemLimits:
    """A callable's limits (TaskFrame.limits) applied around one item, as
    the C++ worker's ScopedItemLimits does: soft limits relative to what the
    process already uses, the previous ones restored after. A MemoryError
    raised under them is marked as the limit's."""

    def __init__(self, limits: Tuple[int, int, int]) -> None:
        self._limits = limits
        self._saved: List[Tuple[int, Tuple[int, int]]] = []

    def _set(self, which: int, soft: int) -> None:
        old = resource.getrlimit(which)
        hard = old[1]
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))
        self._saved.append((which, old))

    def __enter__(self) -> None:
        memory_mib, cpu_seconds, open_files = self._limits
        if memory_mib:
            with open("/proc/self/statm", "rb") as statm:
                used = int(statm.read().split()[0]) * resource.getpagesize()
            self._set(resource.RLIMIT_AS, used + memory_mib * (1 << 20))
        if cpu_seconds:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            self._set(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime) + cpu_seconds)
        if open_files:
            self._set(resource.RLIMIT_NOFILE, open_files)

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        while self._saved:
            which, old = self._saved.pop()
            resource.setrlimit(which, old)
        if isinstance(error, MemoryError) and self._limits[0]:
            error.pprocd_memory_limit = True  # type: ignore[attr-defined]


def _within_limits(call: Callable[[Any], Any],
                   limits: Tuple[int, int, int]) -> Callable[[Any], Any]:
    def limited(value: Any) -> Any:
        with _ItemLimits(limits):
            return call(value)
    return limited


def _memory_limited() -> bool:
    """Whether this process runs under a memory limit (RLIMIT_AS or
    RLIMIT_DATA): a MemoryError is then the limit's."""
    return any(resource.getrlimit(limit)[0] != resource.RLIM_INFINITY
               for limit in (resource.RLIMIT_AS, resource.RLIMIT_DATA))


def _is_binding_error(error: BaseException) -> bool:
    """A TypeError raised by the call itself, before the function ran."""
    return isinstance(error, TypeError) and _user_traceback(error) is None


class Shape:
    """What the binding rule needs of a function's parameters (a channel
    function's first one left out): whether it has exactly one, which
    are positional-only, and whether it can be called with none."""

    __slots__ = ("single", "positional_only", "takes_none")

    def __init__(self, single: bool, positional_only: Sequence[str], takes_none: bool) -> None:
        self.single = single
        self.positional_only = tuple(positional_only)
        self.takes_none = takes_none


def shape_of(function: Callable[..., Any], skip_first: bool = False) -> Shape:
    """The Shape of ``function``: from its code object when it is a plain
    function (a fresh worker computes it for each item: inspect.signature
    costs a hundred times more), else from its signature."""
    if type(function) is types.FunctionType and not hasattr(function, "__wrapped__"):
        code = function.__code__
        names = code.co_varnames
        argc = code.co_argcount
        posonly = code.co_posonlyargcount
        kwonly = names[argc:argc + code.co_kwonlyargcount]
        variadic = bool(code.co_flags & inspect.CO_VARARGS) + bool(
            code.co_flags & inspect.CO_VARKEYWORDS)
        required = argc - len(function.__defaults__ or ())
        kwdefaults = function.__kwdefaults__ or {}
        first = 1 if skip_first and argc > 0 else 0
        return Shape(single=argc - first == 1 and not kwonly and not variadic,
                     positional_only=names[first:posonly],
                     takes_none=required <= first and all(n in kwdefaults for n in kwonly))
    try:
        params = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # No signature (some built-ins).
        return Shape(single=False, positional_only=(), takes_none=False)
    if skip_first:
        params = params[1:]
    return Shape(
        single=len(params) == 1 and params[0].kind in _BINDABLE,
        positional_only=[p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_ONLY],
        takes_none=all(p.default is not inspect.Parameter.empty or p.kind in _VARIADIC
                       for p in params))


def make_call(function: Callable[..., Any], shape: Shape) -> Callable[[Any], Any]:
    """A callable of one item's value that calls ``function`` (of ``shape``)
    by the binding rule of the module doc."""
    if shape.single:
        return function
    positional_only = shape.positional_only
    takes_none = shape.takes_none

    def call(value: Any) -> Any:
        kind = type(value)
        if kind is list:
            return function(*value)
        if kind is dict:
            if positional_only:
                keywords = dict(value)
                positional = []
                for name in positional_only:
                    if name not in keywords:
                        break
                    positional.append(keywords.pop(name))
                return function(*positional, **keywords)
            return function(**value)
        if value is None and takes_none:
            return function()
        return function(value)

    return call


class _Function:
    """A function of the module, resolved once per worker."""

    __slots__ = ("function", "name", "channel", "shape", "call")

    def __init__(self, function: Callable[..., Any], name: str, channel: bool) -> None:
        self.function = function
        self.name = name
        self.channel = channel
        self.shape = shape_of(function, skip_first=channel)
        self.call = None if channel else make_call(function, self.shape)


def resolve(module: types.ModuleType, module_name: str, callable_name: str
            ) -> Union[_Function, str]:
    """The function TaskFrame.callable names, or why there is none."""
    channel = callable_name.startswith(_CHANNEL_PREFIX)
    qualname = callable_name[len(_CHANNEL_PREFIX):] if channel else callable_name
    value: Any = module
    for part in qualname.split("."):
        value = getattr(value, part, None) if part else None
        if value is None:
            return f"unknown function {module_name}.{qualname}"
    if not callable(value):
        return f"{module_name}.{qualname} is not a function (its type is {type(value).__name__})"
    return _Function(value, qualname, channel)


class Channel:
    """What a channel function gets as its first argument: ``send(value)``
    sends a message to the caller at once; ``receive()`` returns the next
    value the caller sent, blocking, and raises EOFError once the caller
    closed its side and every value was received. Iterating receives until
    then. Values are JSON-shaped, as everywhere in pprocd."""

    __slots__ = ("_session",)

    def __init__(self, session: "WorkerSession") -> None:
        self._session = session

    def send(self, value: Any) -> None:
        self._session.send_message(value)

    def receive(self) -> Any:
        return self._session.receive_message()

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                yield self.receive()
            except EOFError:
                return


class WorkerSession:
    """Serves a task socket with the functions of ``module``.

    A template builds one session before it forks any worker (with the
    functions FRESH workers will run resolved: :meth:`prepare`); each worker
    then binds its copy to its own socket (:meth:`bind`) and runs it. What
    a worker would otherwise build and resolve itself, it inherits: a
    forked Python process pays for every page it writes."""

    def __init__(self, module: types.ModuleType, module_name: str) -> None:
        # Set by bind(), in the worker.
        self._sock: socket.socket = None  # type: ignore[assignment]
        self._module = module
        self._module_name = module_name
        self._buffer = bytearray()
        self._results = ResultBatch(None, 0)
        self._functions: Dict[str, Union[_Function, str]] = {}
        self._streams = prepare_streams()
        self._flag = self._streams[0]
        # Output was written past sys.stdout/sys.stderr: check the files
        # after every item from then on.
        self._probe = False
        # The running task and channel item.
        self._task_id = 0
        self._item_index = 0
        self._seq = 0
        self._received: Deque[Any] = collections.deque()
        self._input_ended = True

    def prepare(self, callable_name: str) -> None:
        """Resolves TaskFrame.callable ``callable_name`` now (in the
        template), so that workers forked from here do not."""
        self._function(callable_name)

    def bind(self, sock: socket.socket) -> None:
        """Makes this (forked) copy the session of this process on task
        socket ``sock``: results go there, sys.stdout and sys.stderr become
        the flagged streams on descriptors 1 and 2."""
        self._sock = sock
        self._results.bind(sock, os.getpid())
        install_streams(self._streams)

    def run(self) -> NoReturn:
        """Serves the bound socket until the server closes it."""
        assert self._sock is not None, "bind() first"
        while True:
            frame = self._read_task()
            # Input for a channel whose invocation has ended: nothing to do.
            if frame.channel_input is not None:
                continue
            self._run_task(frame)

    # --- Reading -----------------------------------------------------------

    def _read_task(self) -> _wire.TaskFrame:
        buffer = self._buffer
        while True:
            if len(buffer) >= 4:
                length = int.from_bytes(buffer[:4], "little")
                if len(buffer) >= 4 + length:
                    payload = bytes(buffer[4:4 + length])
                    del buffer[:4 + length]
                    break
                wanted = 4 + length - len(buffer)
            else:
                wanted = 4 - len(buffer)
            try:
                data = self._sock.recv(min(max(wanted, _READ_BYTES), _MAX_READ_BYTES))
            except ConnectionResetError:
                data = b""
            except OSError as error:
                _die(f"cannot read a task: {error}")
            if not data:
                os._exit(0)  # The server closed the socket.
            buffer += data
        try:
            return _wire.TaskFrame(payload)
        except (ValueError, IndexError, UnicodeDecodeError):
            _die("malformed task frame")

    # --- Running -----------------------------------------------------------

    def _function(self, callable_name: str) -> Union[_Function, str]:
        function = self._functions.get(callable_name)
        if function is None:
            function = resolve(self._module, self._module_name, callable_name)
            self._functions[callable_name] = function
        return function

    def _run_task(self, frame: _wire.TaskFrame) -> None:
        try:
            items = _packed.loads_values(frame.packed_inputs)
        except ValueError as error:
            _die(f"malformed packed inputs: {error}")
        if type(items) is not list:
            _die("malformed packed inputs: not a JSON array")
        function = self._function(frame.callable)
        self._task_id = frame.task_id
        results = self._results
        name = function.name if isinstance(function, _Function) else frame.callable
        start = results.start_task(frame.task_id, frame.packed_results, frame.item_stats, name)
        if isinstance(function, str):
            for index in range(len(items)):
                result = results.add_result(index, start)
                result.fail(_wire.ERROR_KIND_INVALID_ARGUMENT, function)
                results.set_stats(result, start, 0)
            results.flush(start)
        elif function.channel:
            for index, value in enumerate(items):
                self._run_channel_item(function, index, value, frame.channel_open)
        elif frame.limits is not None:
            assert function.call is not None
            self._run_items(function, items, frame.report_each, start,
                            call=_within_limits(function.call, frame.limits))
        elif frame.packed_results and not frame.report_each and not results.per_item:
            self._run_packed_items(function, items, start)
        else:
            self._run_items(function, items, frame.report_each, start)

    def _run_items(self, function: _Function, items: List[Any], report_each: bool,
                   start: int, call: Optional[Callable[[Any], Any]] = None) -> None:
        """Runs the items of a task one by one, each recorded as it ends
        (see the C++ worker's RunTask): results are sent at the end, after
        each item with ``report_each``, and when 2 ms passed or 64 KiB are
        buffered since the last send."""
        results = self._results
        if call is None:
            call = function.call
        assert call is not None
        now = time.monotonic_ns
        last = len(items) - 1
        last_flush = start
        for index, value in enumerate(items):
            try:
                result = call(value)
            except BaseException as error:
                end = now()
                self._record_failure(index, error, start, end)
                sending = index == last or report_each or end - last_flush >= _SLOW_ITEM_NS
            else:
                end = now()
                sending = index == last or report_each or end - last_flush >= _SLOW_ITEM_NS
                self._record_value(index, result, start, end, sending)
            start = end
            if sending or results.pending_bytes >= _FLUSH_BYTES:
                results.flush(end)
                last_flush = start = now()

    def _run_packed_items(self, function: _Function, items: List[Any], start: int) -> None:
        """The hot path: _run_items for a packed task without per-item
        stats or report_each. While a block is open, nothing was written
        past sys.stdout/sys.stderr and no send is due, items run in runs: each item costs one call, one check of
        the output flag and one list append, and the clock is read once per
        run. A run is as long as the open block's piece allows and grows
        (doubling, up to _MAX_RUN) while runs take under _RUN_NS, so that
        slow items still reach the server when a send is due. Sends are
        due 2 ms apart at a task's start, then further apart as the task
        goes on (see _send_interval). An item that raised or wrote output
        ends its run and is recorded alone."""
        results = self._results
        call = function.call
        assert call is not None
        flag = self._flag
        now = time.monotonic_ns
        count = len(items)
        last = count - 1
        task_start = start
        send_at = start + _SLOW_ITEM_NS
        run_length = 1
        index = 0
        value: Any = None
        failure: Optional[BaseException] = None
        while index < count:
            block = results.block
            if (block is not None and index < last and start < send_at and not flag.written
                    and not self._probe):
                pending = block.pending
                before = len(pending)
                append = pending.append
                stop = min(last, index + run_length, index + max(1, results.piece - before))
                failure = None
                wrote = False
                try:
                    for item in items[index:stop]:
                        value = call(item)
                        if flag.written:
                            wrote = True
                            break
                        append(value)
                except BaseException as error:
                    failure = error
                end = now()
                index += len(pending) - before
                if failure is None and not wrote:
                    if end - start < _RUN_NS and run_length < _MAX_RUN:
                        run_length *= 2
                    elif end - start > 4 * _RUN_NS:
                        run_length = max(1, run_length // 4)
                    start = end
                    if len(pending) >= results.piece:
                        results.encode_pending()
                        if results.pending_bytes >= _FLUSH_BYTES:
                            results.flush(end)
                            start = now()
                            send_at = start + _send_interval(start - task_start)
                    continue
                # Item `index` raised or wrote output: it is recorded alone
                # (its run's values stay in the block), taking the run's
                # time since the last clock reading.
                run_length = 1
                sending = index == last or end >= send_at
                if failure is not None:
                    self._record_failure(index, failure, start, end)
                else:
                    self._record_value(index, value, start, end, sending)
            else:
                try:
                    value = call(items[index])
                except BaseException as error:
                    end = now()
                    sending = index == last or end >= send_at
                    self._record_failure(index, error, start, end)
                else:
                    end = now()
                    sending = index == last or end >= send_at
                    self._record_value(index, value, start, end, sending)
            index += 1
            start = end
            if sending or results.pending_bytes >= _FLUSH_BYTES:
                results.flush(end)
                start = now()
                send_at = start + _send_interval(start - task_start)

    def _unflagged_output(self) -> bool:
        if not output_pending():
            return False
        self._probe = True
        return True

    def _record_value(self, index: int, value: Any, start: int, end: int,
                      sending: bool = False) -> None:
        """Records a successful value with what the item wrote: in the open
        block when the task is packed and it wrote nothing, else as an
        ItemResult. ``sending``: results are sent next, so output written
        past sys.stdout/sys.stderr is looked for (and goes to this item)."""
        results = self._results
        if self._flag.written or not results.packed or (
                (sending or self._probe) and self._unflagged_output()):
            logs = take_standard_output(self._flag)
        else:
            logs = []
        if results.packed and not logs:
            results.add_value(index, value, start, end)
            return
        result = results.add_result(index, start)
        self._set_value(result, value, results.name)
        result.logs = logs
        results.set_stats(result, start, end - start)

    @staticmethod
    def _set_value(result: Result, value: Any, name: str) -> None:
        """Sets the value of ``result``, or fails it when ``value`` has no
        JSON form."""
        try:
            result.value = _wire.encode_value(value)
        except ENCODE_ERRORS as error:
            result.fail(_wire.ERROR_KIND_RAISED, f"result of {name} is not JSON-serializable: "
                        f"{describe_unsendable(value, error)}")

    def _record_failure(self, index: int, error: BaseException, start: int, end: int,
                        channel: bool = False) -> None:
        results = self._results
        invalid_argument = _is_binding_error(error)
        if not invalid_argument:
            try:
                traceback.print_exception(type(error), error, _user_traceback(error),
                                          file=sys.stderr)
            except Exception:
                pass
        result = results.add_result(index, start)
        if invalid_argument:
            result.fail(_wire.ERROR_KIND_INVALID_ARGUMENT, str(error))
        elif isinstance(error, MemoryError) and (
                getattr(error, "pprocd_memory_limit", False) or _memory_limited()):
            result.fail(_wire.ERROR_KIND_MEMORY_LIMIT, _error_line(error), stderr_tail())
        else:
            result.fail(_wire.ERROR_KIND_RAISED, _error_line(error), stderr_tail())
        result.logs = take_standard_output(self._flag)
        if channel:
            result.seq = self._seq
        results.set_stats(result, start, end - start)

    # --- Channels ----------------------------------------------------------

    def _run_channel_item(self, function: _Function, index: int, value: Any,
                          channel_open: bool) -> None:
        # A channel item's messages must follow the results before it.
        self._results.flush(time.monotonic_ns())
        self._item_index = index
        self._seq = 0
        self._received.clear()
        self._input_ended = not channel_open
        call = make_call(functools.partial(function.function, Channel(self)), function.shape)
        start = time.monotonic_ns()
        results = self._results
        try:
            returned = call(value)
        except BaseException as error:
            end = time.monotonic_ns()
            self._record_failure(index, error, start, end, channel=True)
            results.flush(end)
            return
        end = time.monotonic_ns()
        logs = take_standard_output(self._flag)
        result = results.add_result(index, start)
        self._set_value(result, returned, function.name)
        result.logs = logs
        result.seq = self._seq
        results.set_stats(result, start, end - start)
        results.flush(end)

    def send_message(self, value: Any) -> None:
        """Sends one message of the running channel item (raises TypeError
        for a value that is not JSON-shaped)."""
        message = Result(self._item_index)
        message.value = _wire.encode_value(value)
        message.seq = self._seq
        message.last = False
        message.logs = take_standard_output(self._flag)
        self._seq += 1
        send_frame(self._sock, _wire.int_field(_wire.RESULT_FRAME_TASK_ID, self._task_id)
                   + _wire.bytes_field(_wire.RESULT_FRAME_RESULTS, message.encode(0, 0, 0)))

    def receive_message(self) -> Any:
        """The next channel input of the running item; EOFError at its end."""
        while not self._received and not self._input_ended:
            frame = self._read_task()
            if frame.channel_input is None:
                _die("a task arrived while one was running")
            messages, end = frame.channel_input
            self._received.extend(messages)
            if end:
                self._input_ended = True
        if not self._received:
            raise EOFError("the channel's input has ended")
        return self._received.popleft()


# --- Warming up ------------------------------------------------------------


def _identity(value: Any) -> Any:
    return value


# The tasks warm_up() runs: each packed form a worker meets (per-item stats,
# a summary per block, none), and the Value form.
_WARM_UP_TASKS = tuple(
    _wire.frame(_wire.int_field(1, 1) + _wire.string_field(2, "identity")
                + _wire.bytes_field(7, b'[0, 1, "a", [2.5, null], {"k": true}]')
                + _wire.int_field(8, packed) + _wire.int_field(9, stats))
    for packed, stats in ((1, _wire.ITEM_STATS_NONE), (1, _wire.ITEM_STATS_PER_CHUNK),
                          (1, _wire.ITEM_STATS_PER_ITEM), (0, _wire.ITEM_STATS_UNSPECIFIED)))
_WARM_UP_ROUNDS = 8


def warm_up() -> int:
    """Runs the worker's own code here for a few tasks of an identity
    function (never a module's: no user code runs), on a throwaway session
    over a socket pair, with memory files on descriptors 1 and 2 as a
    worker has; restores this process's descriptors and streams after.

    A template calls it before it forks: CPython specializes bytecode in
    place as it runs and fills its caches on first use, and in a forked
    worker each such write copies a page. Workers forked after this run
    warm code: a FRESH item costs the template and its worker 6-16 % less
    CPU (bench/RESULTS.md). Best effort: a failure (descriptors exhausted) only
    leaves the workers cold. Returns how many tasks ran."""
    ran = 0
    saved_streams = sys.stdout, sys.stderr
    saved_fds: List[int] = []
    opened: List[int] = []
    try:
        for fd in (1, 2):
            saved_fds.append(os.dup(fd))
            memory = os.memfd_create("pprocd-warm-up", os.MFD_CLOEXEC)
            opened.append(memory)
            os.dup2(memory, fd)
        module = types.ModuleType("pprocd-warm-up")
        module.identity = _identity  # type: ignore[attr-defined]
        session = WorkerSession(module, module.__name__)
        server_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with server_end, worker_end:
            # Results are drained as they come, never waited for.
            server_end.setblocking(False)
            session.bind(worker_end)
            for _ in range(_WARM_UP_ROUNDS):
                for task in _WARM_UP_TASKS:
                    server_end.sendall(task)
                    session._run_task(session._read_task())
                    ran += 1
                    with contextlib.suppress(BlockingIOError):
                        while server_end.recv(_READ_BYTES):
                            pass
    except Exception:  # Only the speed of the workers depends on it.
        pass
    finally:
        for fd, saved in zip((1, 2), saved_fds):
            os.dup2(saved, fd)
            os.close(saved)
        for fd in opened:
            os.close(fd)
        sys.stdout, sys.stderr = saved_streams
    return ran


__all__ = ["Channel", "WorkerSession", "make_call", "resolve", "warm_up"]
