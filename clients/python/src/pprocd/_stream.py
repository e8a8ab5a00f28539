"""One streaming Map or Queue call: the engine under Map, Queue, Exchange and
FarmExecutor.

Thread-safety: ``add``, ``cancel`` and ``close_input`` may be called from any
thread. Inputs wait in a buffer and go out in batches from the request
iterator, which gRPC runs on a thread of its own; a batch holds whatever
accumulated while the previous one was being written, so a fast producer
sends few large requests and a slow one sends each input at once. Results
are read on one daemon reader thread and handed, a response at a time, to
``on_results``; ``on_end`` runs once, on that thread, when the call ends.

The call uses the packed form when its options say so (``packed``): inputs
are then JSON texts (one per input, from ``_packed.dumps``) joined into one
array per request, and a response's ResultBlocks are decoded once each.
"""

from __future__ import annotations

import threading
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import grpc
from google.protobuf.struct_pb2 import Value

from . import _packed
from ._function_ref import Target, target_fields
from ._results import Stats, is_final, stats_from_proto
from .v1 import item_pb2, service_pb2

if TYPE_CHECKING:
    from ._connection import Connection

# A request carries at most this many inputs or about this many bytes (the
# server's default limit for one message is 16 MiB).
MAX_BATCH_INPUTS = 1024
MAX_BATCH_BYTES = 1 << 20
# The packed form: inputs cost far less each, so a request takes more.
MAX_PACKED_BATCH_INPUTS = 4096

BlockItem = Tuple[Any, Optional[Stats]]
"""A successful result from a ResultBlock: (value, stats). Its stats are
the item's own (item_stats per_item), the block's summary (per_chunk, the
packed form's default) or None."""
RawResult = Union[item_pb2.ItemResult, BlockItem]
"""An ItemResult, or a BlockItem (a tuple) for a result that came in a block."""
ResultsCallback = Callable[[List[Tuple[Any, RawResult]]], None]
EndCallback = Callable[["ItemStream", Optional[Exception], List[Tuple[int, Any]]], None]


class ItemStream:
    """A Map (``ordered``) or Queue call of one callable with fixed options.

    Every input carries a token (any object) that comes back with each of its
    results: ``on_results([(token, ItemResult), ...])``. When the call ends,
    ``on_end(stream, error, unanswered)`` gets the error (None when the call
    finished normally) and the (index, token) pairs of inputs without a final
    result.
    """

    def __init__(self, farm: "Connection", ordered: bool, target: Target,
                 options: item_pb2.CallOptions, on_results: ResultsCallback,
                 on_end: EndCallback) -> None:
        self.farm = farm
        self.target = target
        """What the call runs: a callable's name or a function reference."""
        self.callable = str(target)
        """Its name, as errors and results carry it."""
        self._ordered = ordered
        self._options = options
        self._on_results = on_results
        self._on_end = on_end
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._packed = options.packed
        self._pending: List[Any] = []
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
        self._request_error: Optional[Exception] = None
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name=f"pprocd-{self.callable}")

    # Producer side ---------------------------------------------------------

    def start(self) -> "ItemStream":
        """Opens the call (the server sees it once the first request goes)."""
        rpc = self.farm._stub.Map if self._ordered else self.farm._stub.Queue
        self._call = rpc(self._requests(), wait_for_ready=False)
        self._reader.start()
        return self

    def add(self, value: Union[Value, bytes], token: Any) -> int:
        """Queues one input (before or after start()): a Value, or in the
        packed form its JSON text; returns its index in the call. Raises
        RuntimeError when input is closed or the call has ended."""
        with self._lock:
            if self._input_closed or self._finished:
                raise RuntimeError(f"the {self.callable} call takes no more inputs")
            index = self._added
            self._added += 1
            self._tokens[index] = token
            self._pending.append(value)
            if self._packed:
                self._pending_bytes += len(value) + 1  # type: ignore[arg-type]
                if self._sender_waiting:
                    self._wake.notify()
                return index
            kind = value.WhichOneof("kind")  # type: ignore[union-attr]
            if kind == "number_value" or kind == "null_value" or kind == "bool_value":
                self._pending_bytes += 11
            else:
                self._pending_bytes += value.ByteSize() + 3  # type: ignore[union-attr]
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
        """The call's requests. An error while building them ends the call
        with that error (gRPC would report it as "Exception iterating
        requests")."""
        try:
            yield from self._build_requests()
        except Exception as error:
            self._request_error = error
            if self._call is not None:
                self._call.cancel()

    def _build_requests(self) -> Iterator[Any]:
        request_type = service_pb2.MapRequest if self._ordered else service_pb2.QueueRequest
        yield request_type(options=self._options, **target_fields(self.target))
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
            if batch and self._packed:
                yield request_type(packed_inputs=_packed.join(batch))
            elif batch:
                yield request_type(inputs=batch)
            if cancels:
                yield request_type(cancel_indices=cancels)
            if done:
                return

    def _take_batch(self) -> List[Any]:
        pending = self._pending
        most = MAX_PACKED_BATCH_INPUTS if self._packed else MAX_BATCH_INPUTS
        if len(pending) <= most and self._pending_bytes <= MAX_BATCH_BYTES:
            self._pending = []
            self._pending_bytes = 0
            return pending
        size = 0
        count = 0
        for value in pending[:most]:
            item = len(value) + 1 if self._packed else value.ByteSize() + 3
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
                batch: List[Tuple[Any, RawResult]] = []
                if response.blocks:
                    entries = response_entries(response.results, response.blocks)
                    with self._lock:
                        tokens = self._tokens
                        for index, raw in entries:
                            if type(raw) is tuple or is_final(raw):  # type: ignore[arg-type]
                                token = tokens.pop(index, None)
                            else:
                                token = tokens.get(index)
                            batch.append((token, raw))
                else:
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
            error = self._request_error or self.farm._call_error(rpc_error, received,
                                                                 self.callable)
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
            if self._request_error is not None:  # the call ended for it
                error = self._request_error
            self._on_end(self, error, unanswered)


def block_items(block: item_pb2.ResultBlock) -> List[BlockItem]:
    """The results of one ResultBlock as (value, stats), in order: its JSON
    array decoded once; stats each item's own, else the block's summary
    (one Stats object shared by its items), else None."""
    values = _packed.loads_values(block.values)
    if block.item_stats:
        return [(value, stats_from_proto(stats))
                for value, stats in zip(values, block.item_stats)]
    shared = stats_from_proto(block.stats) if block.HasField("stats") else None
    return [(value, shared) for value in values]


def response_entries(results: Sequence[item_pb2.ItemResult],
                     blocks: Sequence[item_pb2.ResultBlock]) -> List[Tuple[int, RawResult]]:
    """One response's results and blocks merged by input index, as
    (index, ItemResult or BlockItem); results of one input keep their order
    (an input is in a block or among the results, never both)."""
    entries: List[Tuple[int, RawResult]] = []
    for block in blocks:
        first = block.first_index
        entries.extend(zip(range(first, first + block.count), block_items(block)))
    if results:
        entries.extend((result.index, result) for result in results)
        entries.sort(key=_index_of)
    return entries


def _index_of(entry: Tuple[int, RawResult]) -> int:
    return entry[0]
