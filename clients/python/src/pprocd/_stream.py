"""One streaming Map or Queue call: the engine under Map, Queue, Exchange and
FarmExecutor.

Thread-safety: ``add``, ``cancel`` and ``close_input`` may be called from any
thread. Inputs wait in a buffer and go out in batches from the request
iterator, which gRPC runs on a thread of its own; a batch holds whatever
accumulated while the previous one was being written, so a fast producer
sends few large requests and a slow one sends each input at once. Results
are read on one daemon reader thread and handed, a response at a time, to
``on_results``; ``on_end`` runs once, on that thread, when the call ends.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import grpc
from google.protobuf.struct_pb2 import Value

from ._results import is_final
from .v1 import item_pb2, service_pb2

if TYPE_CHECKING:
    from ._farm import Farm

# A request carries at most this many inputs or about this many bytes (the
# server's default limit for one message is 16 MiB).
MAX_BATCH_INPUTS = 1024
MAX_BATCH_BYTES = 1 << 20

ResultsCallback = Callable[[List[Tuple[Any, item_pb2.ItemResult]]], None]
EndCallback = Callable[["ItemStream", Optional[Exception], List[Tuple[int, Any]]], None]


class ItemStream:
    """A Map (``ordered``) or Queue call of one callable with fixed options.

    Every input carries a token (any object) that comes back with each of its
    results: ``on_results([(token, ItemResult), ...])``. When the call ends,
    ``on_end(stream, error, unanswered)`` gets the error (None when the call
    finished normally) and the (index, token) pairs of inputs without a final
    result.
    """

    def __init__(self, farm: "Farm", ordered: bool, callable_name: str,
                 options: item_pb2.CallOptions, on_results: ResultsCallback,
                 on_end: EndCallback) -> None:
        self.farm = farm
        self.callable = callable_name
        self._ordered = ordered
        self._options = options
        self._on_results = on_results
        self._on_end = on_end
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: List[Value] = []
        self._pending_bytes = 0
        self._cancels: List[int] = []
        self._tokens: Dict[int, Any] = {}
        self._added = 0
        self._sent = 0
        self._input_closed = False
        self._finished = False
        self._sender_waiting = False
        self._aborted = False
        self._call: Any = None
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name=f"pprocd-{callable_name}")

    # Producer side ---------------------------------------------------------

    def start(self) -> "ItemStream":
        """Opens the call (the server sees it once the first request goes)."""
        rpc = self.farm._stub.Map if self._ordered else self.farm._stub.Queue
        self._call = rpc(self._requests(), wait_for_ready=False)
        self._reader.start()
        return self

    def add(self, value: Value, token: Any) -> int:
        """Queues one input (before or after start()); returns its index in
        the call. Raises RuntimeError when input is closed or the call has
        ended."""
        with self._lock:
            if self._input_closed or self._finished:
                raise RuntimeError(f"the {self.callable} call takes no more inputs")
            index = self._added
            self._added += 1
            self._tokens[index] = token
            self._pending.append(value)
            kind = value.WhichOneof("kind")
            if kind == "number_value" or kind == "null_value" or kind == "bool_value":
                self._pending_bytes += 11
            else:
                self._pending_bytes += value.ByteSize() + 3
            if self._sender_waiting:
                self._wake.notify()
            return index

    def cancel(self, indices: Sequence[int]) -> None:
        """Asks the server to cancel these inputs (queued: dropped; running:
        killed); each still gets a final result, ERROR_KIND_CANCELLED."""
        with self._lock:
            if self._finished:
                return
            self._cancels.extend(indices)
            self._wake.notify()

    def close_input(self) -> None:
        """Half-closes the call once every queued input is sent: the server
        finishes the inputs it has, then ends the call."""
        with self._lock:
            self._input_closed = True
            self._wake.notify()

    def abort(self) -> None:
        """Cancels the whole call: the server kills its running inputs."""
        with self._lock:
            if self._finished:
                return
            self._aborted = True
            self._wake.notify()
        if self._call is not None:
            self._call.cancel()

    @property
    def aborted(self) -> bool:
        """True once abort() was called."""
        return self._aborted

    def outstanding(self) -> List[Tuple[int, Any]]:
        """(index, token) of every input still waiting for its final result."""
        with self._lock:
            return list(self._tokens.items())

    def join(self, timeout: Optional[float] = None) -> None:
        """Waits for the call to end."""
        if self._reader.is_alive():
            self._reader.join(timeout)

    # gRPC side -------------------------------------------------------------

    def _requests(self) -> Iterator[Any]:
        request_type = service_pb2.MapRequest if self._ordered else service_pb2.QueueRequest
        yield request_type(callable=self.callable, options=self._options)
        while True:
            with self._lock:
                while not (self._pending or self._cancels or self._input_closed
                           or self._finished or self._aborted):
                    self._sender_waiting = True
                    self._wake.wait()
                    self._sender_waiting = False
                if self._finished or self._aborted:
                    return
                batch = self._take_batch()
                self._sent += len(batch)
                # A cancel must follow its input, which the server numbers
                # on arrival: keep cancels of inputs not sent yet.
                cancels = [i for i in self._cancels if i < self._sent]
                if cancels:
                    self._cancels = [i for i in self._cancels if i >= self._sent]
                done = self._input_closed and not self._pending and not self._cancels
            if batch:
                yield request_type(inputs=batch)
            if cancels:
                yield request_type(cancel_indices=cancels)
            if done:
                return

    def _take_batch(self) -> List[Value]:
        pending = self._pending
        if len(pending) <= MAX_BATCH_INPUTS and self._pending_bytes <= MAX_BATCH_BYTES:
            self._pending = []
            self._pending_bytes = 0
            return pending
        size = 0
        count = 0
        for value in pending[:MAX_BATCH_INPUTS]:
            item = value.ByteSize() + 3
            if count and size + item > MAX_BATCH_BYTES:
                break
            size += item
            count += 1
        batch = pending[:count]
        del pending[:count]
        self._pending_bytes = max(0, self._pending_bytes - size)
        return batch

    def _read(self) -> None:
        error: Optional[Exception] = None
        received = False
        try:
            for response in self._call:
                received = True
                batch = []
                with self._lock:
                    tokens = self._tokens
                    for result in response.results:
                        if is_final(result):
                            token = tokens.pop(result.index, None)
                        else:
                            token = tokens.get(result.index)
                        batch.append((token, result))
                self._on_results(batch)
        except grpc.RpcError as rpc_error:
            error = self.farm._call_error(rpc_error, received, self.callable)
        except Exception as unexpected:  # a bug in a callback: fail the rest
            error = unexpected
            self._call.cancel()
        finally:
            with self._lock:
                self._finished = True
                unanswered = list(self._tokens.items())
                self._tokens.clear()
                self._pending = []
                self._wake.notify_all()
            self._on_end(self, error, unanswered)
