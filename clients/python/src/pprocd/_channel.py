"""Channel: one running callable and a two-way conversation with it (Start).

Thread-safety: ``send`` and ``close`` may be called from any thread;
``receive`` from one thread at a time. Responses are read on a daemon
thread of the channel's own.
"""

from __future__ import annotations

import collections
import threading
from typing import (TYPE_CHECKING, Any, Callable, Deque, Iterator, List, Optional, Tuple,
                    Union)

import grpc
from google.protobuf.struct_pb2 import Value

from . import _packed
from ._function_ref import Target, target_fields
from ._errors import FarmError, ItemCancelled
from ._results import (LogCallback, LogRecord, Result, emit_logs, logs_from_proto,
                       result_from_proto)
from ._values import from_value, to_value
from .v1 import item_pb2, service_pb2

if TYPE_CHECKING:
    from ._farm import Farm

_Watcher = Callable[["Channel", bool], None]


class Channel:
    """A running invocation of a callable, over the Start RPC (what
    ``farm.start(name, *args)`` returns; pprocess's channel).

    ``send(value)`` gives the callable a value; ``receive()`` returns the next
    value the callable sent; ``close()`` ends its input (a half-close: the
    callable sees end of input); ``result()`` waits for its return value.
    When the callable has returned and every sent value was received,
    ``receive()`` raises EOFError (or the callable's error if it failed).
    ``cancel()`` kills it; leaving a ``with`` block cancels it unless it has
    finished. ``logs`` holds what it wrote to stdout/stderr.

    In the packed form (``options.packed``) ``arguments`` is their JSON text
    and the values sent each way travel as JSON arrays.
    """

    def __init__(self, farm: "Farm", name: Target, arguments: Union[Value, bytes],
                 options: item_pb2.CallOptions, on_log: Optional[LogCallback] = None) -> None:
        self.farm = farm
        self.target = name
        """What runs: a callable's name or a function reference."""
        self.callable = str(name)
        """The callable's name (``module.qualname`` for a function)."""
        self.logs: List[LogRecord] = []
        """Every LogRecord received so far, in order."""
        self._on_log = on_log
        self._cond = threading.Condition()
        self._packed = options.packed
        self._outbox: Deque[Any] = collections.deque()
        self._input_closed = False
        self._inbox: Deque[Any] = collections.deque()
        self._final: Optional[Result] = None
        self._cancelled = False
        self._call_cancelled = False
        self._watchers: List[_Watcher] = []
        first = start_request(name, arguments, options)
        self._call = farm._stub.Start(self._requests(first), wait_for_ready=False)
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name=f"pprocd-{self.callable}")
        self._reader.start()

    def __repr__(self) -> str:
        return f"<pprocd.Channel {self.callable!r}{' done' if self.done() else ''}>"

    def __enter__(self) -> "Channel":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if not self.done():
            self.cancel()

    # Talking -----------------------------------------------------------------

    def send(self, value: Any) -> None:
        """Sends one value to the callable's channel (JSON-shaped)."""
        message = _packed.dumps(value) if self._packed else to_value(value)
        with self._cond:
            if self._input_closed:
                raise ValueError(f"{self!r}: input is closed")
            self._outbox.append(message)
            self._cond.notify_all()

    def receive(self, timeout: Optional[float] = None) -> Any:
        """Returns the next value the callable sent, waiting up to ``timeout``
        seconds (None: no limit; TimeoutError past it). Raises EOFError when
        the callable has finished and sent nothing more, or its
        :class:`ItemError` (or :class:`FarmError`) if it failed."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._inbox or self._final is not None, timeout):
                raise TimeoutError(f"{self!r} sent nothing within {timeout} s")
            if self._inbox:
                return self._inbox.popleft()
            final = self._final
        assert final is not None
        if final.error is not None:
            raise final.error
        raise EOFError(f"{self.callable} has finished and sent nothing more")

    def __iter__(self) -> Iterator[Any]:
        """Yields every value the callable sends until it finishes (raising
        its error if it failed)."""
        while True:
            try:
                yield self.receive()
            except EOFError:
                return

    def close(self) -> None:
        """Ends the callable's input once the values sent so far are
        delivered (a half-close); the callable sees the end of its input."""
        with self._cond:
            self._input_closed = True
            self._cond.notify_all()

    def result(self, timeout: Optional[float] = None) -> Any:
        """Waits up to ``timeout`` seconds (None: no limit; TimeoutError past
        it) for the callable to finish and returns its return value (None when
        it returns nothing); raises its error if it failed. Values it sent and
        nobody received stay available to ``receive``."""
        return self.final_result(timeout).get()

    def final_result(self, timeout: Optional[float] = None) -> Result:
        """Like :meth:`result`, as a :class:`Result` (value or error, stats)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._final is not None, timeout):
                raise TimeoutError(f"{self!r} did not finish within {timeout} s")
            assert self._final is not None
            return self._final

    def done(self) -> bool:
        """True once the callable has finished (or failed, or was cancelled)."""
        return self._final is not None

    def cancel(self) -> None:
        """Kills the invocation; its result becomes :class:`ItemCancelled`."""
        with self._cond:
            if self._final is not None:
                return
            self._cancelled = True
        # The call is cancelled before the request stream ends: its end is a
        # half-close, which could reach the server first and let the callable
        # finish on end of input instead of being killed.
        self._call.cancel()
        with self._cond:
            self._call_cancelled = True
            self._cond.notify_all()

    # Exchange hooks ----------------------------------------------------------

    def _subscribe(self, watcher: _Watcher) -> None:
        with self._cond:
            self._watchers.append(watcher)
            pending = len(self._inbox) + (1 if self._final is not None and
                                          self._final.error is not None else 0)
        for _ in range(pending):
            watcher(self, True)
        if pending == 0 and self.done():
            watcher(self, False)

    def _has_data(self) -> bool:
        final = self._final
        return bool(self._inbox) or (final is not None and final.error is not None)

    def _active(self) -> bool:
        return bool(self._inbox) or self._final is None

    # gRPC side ---------------------------------------------------------------

    def _requests(self, first: service_pb2.StartRequest) -> Iterator[service_pb2.StartRequest]:
        yield first
        while True:
            with self._cond:
                while not (self._outbox or self._input_closed or self._final is not None
                           or self._call_cancelled):
                    self._cond.wait()
                if self._final is not None or self._call_cancelled:
                    return
                messages = list(self._outbox)
                self._outbox.clear()
                closing = self._input_closed
            if self._packed and messages:  # what accumulated: one array
                yield service_pb2.StartRequest(packed_messages=_packed.join(messages))
            elif messages:
                for message in messages:
                    yield service_pb2.StartRequest(message=message)
            if closing:
                return

    def _notify(self, has_data: bool) -> None:
        for watcher in list(self._watchers):
            watcher(self, has_data)

    def _read(self) -> None:
        received = False
        final: Optional[Result] = None
        try:
            for response in self._call:
                received = True
                records, values, last = read_start_response(response, self.callable)
                if records:
                    with self._cond:
                        self.logs.extend(records)
                    emit_logs(self._on_log, records)
                if values:
                    with self._cond:
                        self._inbox.extend(values)
                        self._cond.notify_all()
                    for _ in values:
                        self._notify(True)
                if last is not None:
                    final = last
        except grpc.RpcError as error:
            if self._cancelled:
                final = Result(self.callable, 0, error=ItemCancelled(
                    "cancelled by the client", callable=self.callable))
            else:
                final = Result(self.callable, 0, error=self.farm._call_error(
                    error, received, self.callable))
        if final is None:
            final = Result(self.callable, 0, error=FarmError(
                f"{self.callable}: the server ended the channel without a result"))
        with self._cond:
            self._final = final
            self._cond.notify_all()
        self._notify(final.error is not None)


def start_request(name: Target, arguments: Union[Value, bytes],
                  options: item_pb2.CallOptions) -> service_pb2.StartRequest:
    """The first StartRequest of a channel: what runs, its arguments (a
    Value, or in the packed form their JSON text) and options."""
    if isinstance(arguments, bytes):
        return service_pb2.StartRequest(options=options, packed_arguments=arguments,
                                        **target_fields(name))
    return service_pb2.StartRequest(arguments=arguments, options=options,
                                    **target_fields(name))


def message_request(values: List[Any], packed: bool) -> List[service_pb2.StartRequest]:
    """The StartRequests that send ``values`` to a running callable: one
    packed array, or one Value message each."""
    if packed:
        return [service_pb2.StartRequest(packed_messages=_packed.dumps(values))]
    return [service_pb2.StartRequest(message=to_value(value)) for value in values]


def read_start_response(response: service_pb2.StartResponse, callable_name: str
                        ) -> Tuple[Tuple[LogRecord, ...], List[Any], Optional[Result]]:
    """What one StartResponse brings: the log records, the values the
    callable sent, and its final result (None until the last response)."""
    records = logs_from_proto(response.logs, callable_name, None) if response.logs else ()
    values: List[Any] = []
    if response.packed_messages:
        values = _packed.loads_values(response.packed_messages)
    final: Optional[Result] = None
    event = response.WhichOneof("event")
    if event == "message":
        values.append(from_value(response.message))
    elif event == "result":
        final = result_from_proto(response.result, callable_name, 0)
        final.last = True
        if not final.logs and records:
            final.logs = records
    return records, values, final
