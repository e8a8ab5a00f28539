"""Map, Queue and Exchange: pprocess's collections of parallel invocations.

Each collection opens one streaming call per callable name, lazily, on its
first input; inputs stream to the server as they are added; results are read
on a background thread. Thread-safety: inputs may be added from any thread;
read results from one thread at a time.

Which results an input gives: the values its callable sent (channel
callables), then its final result (the return value, or the error). With
``continuous=True`` a final result that is a null value (a channel callable
that returns nothing) is left out; errors and non-null return values stay.
So a function callable gives exactly one result per input unless it returns
null in a continuous collection.
"""

from __future__ import annotations

import collections
import threading
import weakref
from typing import (TYPE_CHECKING, Any, Callable, Deque, Dict, Generic, Iterator, List, Optional,
                    Tuple, TypeVar, Union, cast, overload)


from ._channel import Channel
from ._errors import FarmError, ItemCancelled
from ._connection import CallableArg, Connection, default_farm
from ._function_ref import Target, as_target
from ._results import (LogCallback, LogRecord, Result, emit_logs, failed_result,
                       result_from_proto)
from ._stream import ItemStream, RawResult

if TYPE_CHECKING:
    from ._farm import Farm

T = TypeVar("T")


class _Slot:
    """One input of a collection and what arrived for it."""

    __slots__ = ("index", "target", "callable", "results", "done", "channel")

    def __init__(self, index: int, target: Target) -> None:
        self.index = index
        self.target = target
        self.callable = str(target)
        self.results: List[Result] = []
        self.done = False
        self.channel: Optional["InputChannel"] = None


class ManagedCallable:
    """A server callable or Python function whose invocations a collection
    collects (what ``manage`` returns). Calling it adds one input and
    returns the input's index in the collection. For a callable by name,
    several positional arguments become a list (spread over the
    parameters), keywords a struct (named parameters), a single argument the
    value itself; a Python function is called as it is called here."""

    def __init__(self, collection: "_Collection", target: Target) -> None:
        self._collection = collection
        self.target = target
        """What runs: the callable's name or the function reference."""
        self.name = str(target)
        """The callable's name on the server (``module.qualname`` for a
        function)."""

    def __repr__(self) -> str:
        return f"<managed {self.name!r} of {type(self._collection).__name__}>"

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        return self._collection._add(self.target, args, kwargs)


class _Collection:
    """What Map, Queue and Exchange share: options, streams, slots."""

    _ordered_rpc = False

    def __init__(self, farm: Optional[Farm] = None, limit: Optional[int] = None, *,
                 reuse: bool = True, continuous: bool = False, timeout: Optional[float] = None,
                 chunksize: int = 0, on_log: Optional[LogCallback] = None,
                 packed: Optional[bool] = None, item_stats: Optional[str] = None) -> None:
        if farm is None:
            farm = cast("Farm", default_farm())
        if not isinstance(farm, Connection):
            raise TypeError(f"{type(self).__name__}(farm, limit=...): the first argument is a "
                            f"pprocd.Farm, not {type(farm).__name__}")
        self.farm = farm
        """The farm the inputs run on."""
        self.limit = limit
        """Inputs of each callable running at once (None: the pool's size)."""
        self.reuse = bool(reuse)
        """True: pooled, reused workers; False: a new process per input."""
        self.continuous = bool(continuous)
        """True: null final values of channel callables are not results."""
        self._options = farm.options(limit, self.reuse, timeout, chunksize, packed, item_stats)
        self.packed = self._options.packed
        """True when the calls use the packed form (see :class:`Farm`)."""
        self._on_log = on_log if on_log is not None else farm.on_log
        self._cond = threading.Condition()
        self._streams: Dict[Target, ItemStream] = {}
        self._slots: List[_Slot] = []
        self._open = 0
        self._closed = False

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # Adding inputs -----------------------------------------------------------

    def manage(self, name: CallableArg) -> ManagedCallable:
        """Returns a callable that adds one input of server callable ``name``
        to this collection per call (pprocess ``manage``). ``name`` may be a
        module-level Python function: each call of the result is a call of
        the function, whose return value is the input's result."""
        return ManagedCallable(self, as_target(name))

    def start(self, name: CallableArg, *args: Any, **kwargs: Any) -> int:
        """Adds one invocation of callable ``name`` with these arguments
        (pprocess ``start``); the values it sends and its return value become
        results. Returns the input's index. A module-level Python function
        is called as ``name(channel, *args, **kwargs)``: it sends values
        with ``channel.send(value)``."""
        return self._add(as_target(name, channel=True), args, kwargs)

    def _add(self, name: Target, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> int:
        # A refused input takes no index: its InvalidItem names the index
        # it would have had (the next one, unless another thread adds first).
        value: Any
        if self.packed:
            value = self.farm.encode(name, args, kwargs, index=len(self._slots))
        else:
            value = self.farm.pack(name, args, kwargs, index=len(self._slots))
        return self._submit(name, value).index

    def _submit(self, name: Target, value: Any) -> _Slot:
        with self._cond:
            if self._closed:
                raise RuntimeError(f"this {type(self).__name__} is closed")
            slot = self._new_slot(len(self._slots), name)
            stream = self._streams.get(name)
            try:
                if stream is None:
                    raise RuntimeError("no call yet")
                stream.add(value, slot)
            except RuntimeError:  # no call, or it has ended: open one
                on_results, on_end = self._weak_callbacks()
                stream = ItemStream(self.farm, self._ordered_rpc, name, self._options,
                                    on_results, on_end)
                self._streams[name] = stream
                stream.add(value, slot)
                stream.start()
            self._slots.append(slot)
            self._open += 1
        return slot

    def _new_slot(self, index: int, name: Target) -> _Slot:
        return _Slot(index, name)

    def _weak_callbacks(self) -> Tuple[Callable[..., None], Callable[..., None]]:
        """Stream callbacks that do not keep the collection alive: a
        collection nobody holds any more is closed (its idle calls end)."""
        ref = weakref.ref(self)

        def on_results(batch: List[Tuple[Any, RawResult]]) -> None:
            collection = ref()
            if collection is not None:
                collection._on_results(batch)

        def on_end(stream: ItemStream, error: Optional[Exception],
                   unanswered: List[Tuple[int, Any]]) -> None:
            collection = ref()
            if collection is not None:
                collection._on_end(stream, error, unanswered)

        return on_results, on_end

    # Results (reader threads) ----------------------------------------------

    def _on_results(self, batch: List[Tuple[Any, RawResult]]) -> None:
        converted = [(slot, Result(slot.callable, slot.index, 0, True, raw[0], None, raw[1])
                      if type(raw) is tuple else
                      result_from_proto(raw, slot.callable, slot.index))  # type: ignore[arg-type]
                     for slot, raw in batch if slot is not None]
        # The callback sees the logs before any reader sees their results.
        logs: List[LogRecord] = [log for _, result in converted for log in result.logs]
        if logs:
            emit_logs(self._on_log, logs)
        with self._cond:
            for slot, result in converted:
                if result.last:
                    if self._keeps_final(slot, result):
                        self._deliver(slot, result)
                    slot.done = True
                    self._open -= 1
                else:
                    self._deliver(slot, result)
            self._after_results()
            self._cond.notify_all()

    def _on_end(self, stream: ItemStream, error: Optional[Exception],
                unanswered: List[Tuple[int, Any]]) -> None:
        with self._cond:
            if self._streams.get(stream.target) is stream:
                del self._streams[stream.target]
            for _, slot in unanswered:
                if stream.aborted:
                    reason: Exception = ItemCancelled("the collection was closed",
                                                      callable=slot.callable, index=slot.index)
                else:
                    reason = error or FarmError(f"{slot.callable}: the call ended without a "
                                                "result for this input")
                self._deliver(slot, failed_result(reason, slot.callable, slot.index))
                slot.done = True
                self._open -= 1
            self._after_results()
            self._cond.notify_all()

    def _keeps_final(self, slot: _Slot, result: Result) -> bool:
        """Whether an input's final result is one of its results (a null
        value in a continuous collection is not)."""
        return not self.continuous or result.error is not None or result.value is not None

    def _deliver(self, slot: _Slot, result: Result) -> None:
        raise NotImplementedError

    def _after_results(self) -> None:
        pass

    # Waiting and closing -----------------------------------------------------

    def _wait_all(self) -> None:
        with self._cond:
            while self._open > 0:
                self._cond.wait()
        self._close_idle_streams()

    def _close_idle_streams(self) -> None:
        """Half-closes calls whose inputs all have their results; a later
        input opens a new call."""
        with self._cond:
            if self._open > 0:
                return
            streams = list(self._streams.values())
            self._streams.clear()
        for stream in streams:
            stream.close_input()

    def finish(self) -> None:
        """Waits until every input added so far has all its results, then
        ends the calls (inputs added later open new ones)."""
        self._wait_all()

    def close(self) -> None:
        """Ends the collection: calls with inputs still running are cancelled
        (their workers killed, their results ItemCancelled); idle ones end."""
        with self._cond:
            self._closed = True
            streams = list(self._streams.values())
        for stream in streams:
            if stream.outstanding():
                stream.abort()
            else:
                stream.close_input()

    def __del__(self) -> None:
        try:
            if not self._closed:
                self.close()
        except Exception:
            pass


class _Reader(Generic[T]):
    """An iterator that survives the exceptions it raises: after an input's
    error is raised, ``next()`` goes on with the following result."""

    def __init__(self, step: Callable[[], Optional[Result]], unwrap: bool) -> None:
        self._step = step
        self._unwrap = unwrap

    def __iter__(self) -> "_Reader[T]":
        return self

    def __next__(self) -> Any:
        result = self._step()
        if result is None:
            raise StopIteration
        return result.get() if self._unwrap else result


class Map(_Collection):
    """Results in input order, indexable while they arrive (pprocess.Map).

    ``Map(farm, limit=None, reuse=True, continuous=False, timeout=None,
    chunksize=0, on_log=None)`` (``farm.Map(...)`` is the same). Add inputs
    with ``manage(name)`` or ``start(name, ...)``. ``results[i]`` and
    ``results[a:b]`` block until those results are there; iteration yields
    the results of every input added so far, in order, as soon as each is
    there; an input's error is raised where its result is read. ``len()``
    waits for every input. ``results()`` yields :class:`Result` objects
    (value or error, stats, logs) instead of raising.
    """

    _ordered_rpc = True

    def __init__(self, farm: Optional[Farm] = None, limit: Optional[int] = None, *,
                 reuse: bool = True, continuous: bool = False, timeout: Optional[float] = None,
                 chunksize: int = 0, on_log: Optional[LogCallback] = None,
                 packed: Optional[bool] = None, item_stats: Optional[str] = None) -> None:
        super().__init__(farm, limit, reuse=reuse, continuous=continuous, timeout=timeout,
                         chunksize=chunksize, on_log=on_log, packed=packed,
                         item_stats=item_stats)
        self._flat: List[Result] = []
        self._frontier = 0
        self._frontier_pos = 0

    def _deliver(self, slot: _Slot, result: Result) -> None:
        slot.results.append(result)

    def _after_results(self) -> None:
        slots = self._slots
        while self._frontier < len(slots):
            slot = slots[self._frontier]
            if len(slot.results) > self._frontier_pos:
                self._flat.extend(slot.results[self._frontier_pos:])
                self._frontier_pos = len(slot.results)
            if not slot.done:
                break
            slot.results = []
            self._frontier += 1
            self._frontier_pos = 0

    def _complete(self) -> bool:
        return self._frontier == len(self._slots)

    def _wait_count(self, count: int) -> None:
        with self._cond:
            while len(self._flat) < count and not self._complete():
                self._cond.wait()

    def _result_at(self, position: int) -> Optional[Result]:
        with self._cond:
            while len(self._flat) <= position and not self._complete():
                self._cond.wait()
            if position < len(self._flat):
                return self._flat[position]
        self._close_idle_streams()
        return None

    @overload
    def __getitem__(self, key: int) -> Any: ...

    @overload
    def __getitem__(self, key: slice) -> List[Any]: ...

    def __getitem__(self, key: Union[int, slice]) -> Any:
        if isinstance(key, slice):
            start, stop, step = key.start, key.stop, key.step
            if (stop is None or stop < 0 or (start is not None and start < 0)
                    or (step is not None and step < 0)):
                self._wait_all()
            else:
                self._wait_count(stop)
            with self._cond:
                chosen = self._flat[key]
            return [result.get() for result in chosen]
        index = key.__index__()
        if index < 0:
            self._wait_all()
            with self._cond:
                return self._flat[index].get()
        result = self._result_at(index)
        if result is None:
            raise IndexError(f"Map index {index} out of range")
        return result.get()

    def __len__(self) -> int:
        self._wait_all()
        with self._cond:
            return len(self._flat)

    def __iter__(self) -> Iterator[Any]:
        return self._reader(unwrap=True)

    def results(self) -> Iterator[Result]:
        """Every :class:`Result` in input order (blocking as needed), without
        raising errors."""
        return self._reader(unwrap=False)

    def _reader(self, unwrap: bool) -> "_Reader[Any]":
        # Takes every result already there at once (one lock for many).
        taken: Deque[Result] = collections.deque()
        position = [0]

        def step() -> Optional[Result]:
            if not taken:
                with self._cond:
                    while len(self._flat) <= position[0] and not self._complete():
                        self._cond.wait()
                    taken.extend(self._flat[position[0]:])
                if not taken:
                    self._close_idle_streams()
                    return None
                position[0] += len(taken)
            return taken.popleft()

        return _Reader(step, unwrap)


class Queue(_Collection):
    """Results as they complete (pprocess.Queue).

    ``Queue(farm, limit=None, reuse=True, continuous=False, timeout=None,
    chunksize=0, on_log=None)`` (``farm.Queue(...)`` is the same). Iterating
    takes each result once, in completion order, blocking until the next one
    arrives, and ends when every input added so far has all its results; an
    input's error is raised where its result is taken. With
    ``continuous=True`` every value a channel callable sends is one result
    as it arrives. ``results()`` yields :class:`Result` objects instead.
    """

    def __init__(self, farm: Optional[Farm] = None, limit: Optional[int] = None, *,
                 reuse: bool = True, continuous: bool = False, timeout: Optional[float] = None,
                 chunksize: int = 0, on_log: Optional[LogCallback] = None,
                 packed: Optional[bool] = None, item_stats: Optional[str] = None) -> None:
        super().__init__(farm, limit, reuse=reuse, continuous=continuous, timeout=timeout,
                         chunksize=chunksize, on_log=on_log, packed=packed,
                         item_stats=item_stats)
        self._arrived: Deque[Result] = collections.deque()

    def _deliver(self, slot: _Slot, result: Result) -> None:
        self._arrived.append(result)

    def _take(self) -> Optional[Result]:
        with self._cond:
            while not self._arrived and self._open > 0:
                self._cond.wait()
            if self._arrived:
                return self._arrived.popleft()
        self._close_idle_streams()
        return None

    def __iter__(self) -> Iterator[Any]:
        return _Reader(self._take, unwrap=True)

    def results(self) -> Iterator[Result]:
        """Every :class:`Result` as it completes, without raising errors."""
        return _Reader(self._take, unwrap=False)


class InputChannel:
    """The channel side of one input of an Exchange: what ``store_data``
    receives. ``receive()`` returns the next value the invocation produced
    (raising its error if it failed; EOFError once it has nothing more)."""

    def __init__(self, exchange: "Exchange", slot: _Slot) -> None:
        self._exchange = exchange
        self._slot = slot
        self._buffer: Deque[Result] = collections.deque()

    def __repr__(self) -> str:
        return f"<pprocd input {self._slot.index} of {self._slot.callable!r}>"

    @property
    def callable(self) -> str:
        """The callable's name."""
        return self._slot.callable

    @property
    def index(self) -> int:
        """The input's index in the exchange."""
        return self._slot.index

    def receive(self, timeout: Optional[float] = None) -> Any:
        """Returns the next value (blocking up to ``timeout`` seconds; None:
        no limit; TimeoutError past it); raises the input's error, or
        EOFError when it has no more values."""
        cond = self._exchange._cond
        with cond:
            if not cond.wait_for(lambda: self._buffer or self._slot.done, timeout):
                raise TimeoutError(f"no value from {self!r} within {timeout} s")
            if not self._buffer:
                raise EOFError(f"{self!r} has no more values")
            result = self._buffer.popleft()
        return result.get()

    def _has_data(self) -> bool:
        return bool(self._buffer)

    def _active(self) -> bool:
        return bool(self._buffer) or not self._slot.done


ExchangeChannel = Union[InputChannel, Channel]


class Exchange(_Collection):
    """Calls ``store_data(channel)`` whenever a channel has data (pprocess
    Exchange). Subclass it and define ``store_data``:

    .. code-block:: python

        class MyExchange(pprocd.Exchange):
            def store_data(self, channel):
                i, j, result = channel.receive()
                self.D[i * N + j] = result

        exchange = MyExchange(farm, limit=4)
        calc = exchange.manage("calculate_tagged")
        ...; exchange.finish()

    Channels are the inputs added with ``manage``/``start`` (one
    :class:`InputChannel` each) and :class:`Channel` objects from
    ``farm.start`` given to ``add``. ``store_data`` runs on the thread that
    calls ``finish()``, once per value that arrived (and once for a failed
    input, whose ``receive()`` raises). ``ready()`` and ``active()`` allow
    reading without ``store_data``.
    """

    def __init__(self, farm: Optional[Farm] = None, limit: Optional[int] = None, *,
                 reuse: bool = True, continuous: bool = False, timeout: Optional[float] = None,
                 chunksize: int = 0, on_log: Optional[LogCallback] = None,
                 packed: Optional[bool] = None, item_stats: Optional[str] = None) -> None:
        super().__init__(farm, limit, reuse=reuse, continuous=continuous, timeout=timeout,
                         chunksize=chunksize, on_log=on_log, packed=packed,
                         item_stats=item_stats)
        self._ready: Deque[ExchangeChannel] = collections.deque()
        self._added: List[Channel] = []

    def _new_slot(self, index: int, name: Target) -> _Slot:
        slot = _Slot(index, name)
        slot.channel = InputChannel(self, slot)
        return slot

    def _deliver(self, slot: _Slot, result: Result) -> None:
        assert slot.channel is not None
        slot.channel._buffer.append(result)
        self._ready.append(slot.channel)

    def add(self, channel: Channel) -> None:
        """Monitors a :class:`Channel` (from ``farm.start``): each value it
        sends, and its failure, make ``store_data(channel)`` run."""
        with self._cond:
            self._added.append(channel)
        channel._subscribe(self._channel_event)

    def _channel_event(self, channel: Channel, has_data: bool) -> None:
        with self._cond:
            if has_data:
                self._ready.append(channel)
            self._cond.notify_all()

    def _channels(self) -> List[ExchangeChannel]:
        inputs: List[ExchangeChannel] = [s.channel for s in self._slots if s.channel is not None]
        return inputs + list(self._added)

    def active(self) -> List[ExchangeChannel]:
        """The channels that have unread data or are still running."""
        with self._cond:
            return [c for c in self._channels() if c._active()]

    def ready(self, timeout: Optional[float] = None) -> List[ExchangeChannel]:
        """The channels with data to receive, waiting up to ``timeout``
        seconds (None: until one has data or none is active; 0: a poll)."""
        with self._cond:
            def some() -> bool:
                channels = self._channels()
                return (any(c._has_data() for c in channels)
                        or not any(c._active() for c in channels))
            self._cond.wait_for(some, timeout)
            return [c for c in self._channels() if c._has_data()]

    def store_data(self, channel: ExchangeChannel) -> None:
        """Called with a channel that has data; receive it here. Define it in
        a subclass."""
        raise NotImplementedError(
            f"{type(self).__name__}.store_data is not defined: subclass pprocd.Exchange and "
            "define store_data(self, channel), or read with ready() and receive()")

    def _busy(self) -> bool:
        return self._open > 0 or any(not c.done() for c in self._added)

    def finish(self) -> None:
        """Waits for every channel, calling ``store_data`` for each value as
        it arrives, until all inputs and added channels are done."""
        while True:
            with self._cond:
                while not self._ready and self._busy():
                    self._cond.wait()
                if not self._ready:
                    break
                channel = self._ready.popleft()
            if channel._has_data():
                self.store_data(channel)
        self._close_idle_streams()
