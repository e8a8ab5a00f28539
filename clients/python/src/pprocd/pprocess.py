"""pprocess's API over a pprocd farm: ``import pprocd.pprocess as pprocess``.

Programs written for pprocess run with only their import changed: their
own functions run in the farm's Python workers, forked from a template
process that imported the program's module once (as pprocess forks the
program). The farm is the default one (:func:`pprocd.default_farm`: the
address in $PPROCD_ADDRESS, else ``unix:run/pprocd.sock``).

The names and signatures are pprocess's: :func:`pmap` ``(callable,
sequence, limit=None, **kw)``; :class:`Exchange` ``(channels=None,
limit=None, reuse=0, continuous=0, autoclose=1)`` with ``store_data``,
``add``, ``add_wait``, ``wait``, ``active``, ``ready``, ``finish``,
``start`` and ``manage``; :class:`Map` and :class:`Queue` (exchanges whose
results are indexed in call order, or iterated as they arrive);
:class:`MakeParallel` and :class:`MakeReusable`; :func:`start` (returns a
channel with ``send`` and ``receive``); :class:`BackgroundCallable`,
:func:`BackgroundQueue` and :class:`PersistentQueue`.

As in pprocess, a callable given to ``start`` or ``manage`` receives a
channel as its first argument and sends its results with
``channel.send(value)``; ``MakeParallel(fn)`` (and ``MakeReusable``) wraps
a function that just returns its result. ``reuse=0`` (pprocess's default)
runs each call in a new process forked for it, ``reuse=1`` in the farm's
pooled workers. ``limit`` is the number of calls of the exchange running at
once.

What differs, because nothing is pickled:

- The callable must be a module-level function of a ``.py`` file (the
  program's own ``__main__`` included) or a registered callable's name; a
  lambda, a closure or a bound method is a TypeError at the call.
- Arguments, values sent on channels and results are JSON-shaped: a tuple
  arrives as a list (``i, j = t`` and ``i, j, r = ch.receive()`` still
  unpack it), dict keys are strings, other objects are refused.
- A channel callable's return value is not a result (as in pprocess, where
  it is ignored) unless it is not None.
- ``create()`` and ``exit()`` (forking the calling program itself) are not
  available: a server cannot fork its client. Use ``start`` or ``manage``.
- A background callable is a job of the farm: it outlives the calling
  program without a process of the program's own, and its address is the
  job's name (and socket file, as pprocd's :class:`BackgroundCallable`
  describes). A function that itself uses the farm (the tutorial's
  background ``task``) reaches it at the address in the farm's own
  environment ($PPROCD_ADDRESS), and holds a worker while it waits.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, List, Optional, Union

from . import _background, _collections
from ._channel import Channel
from ._farm import Farm, default_farm
from ._function_ref import FunctionRef, Target, function_ref

__all__ = ["BackgroundCallable", "BackgroundQueue", "Channel", "Exchange", "MakeParallel",
           "MakeReusable", "Map", "PersistentQueue", "Queue", "create", "exit", "pmap",
           "start"]


class MakeParallel:
    """Wraps a function that returns its result, so that it can be managed
    or started like a channel callable: its return value is what it sends.
    Called here, ``MakeParallel(fn)(channel, *args)`` sends ``fn(*args)``."""

    def __init__(self, callable: Union[str, Callable[..., Any]]) -> None:
        self.callable = callable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.callable!r})"

    def __call__(self, channel: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(self.callable, str):
            raise TypeError(f"{self.callable!r} is a registered callable's name: manage or start "
                            "it through an exchange")
        channel.send(self.callable(*args, **kwargs))


class MakeReusable(MakeParallel):
    """:class:`MakeParallel` for exchanges with ``reuse=1``: the farm's
    pooled workers are reused whatever the callable."""


def _target(callable: Any) -> Target:
    """What runs for a pprocess callable: a MakeParallel-wrapped function
    returns its result; any other function takes a channel first."""
    if isinstance(callable, str):
        return callable
    if isinstance(callable, FunctionRef):
        return callable
    if isinstance(callable, MakeParallel):
        inner = callable.callable
        return inner if isinstance(inner, str) else function_ref(inner)
    return function_ref(callable, channel=True)


def _farm(farm: Optional[Farm]) -> Farm:
    return farm if farm is not None else default_farm()


class _Pprocess:
    """What the exchanges of this module share: pprocess's ``manage`` and
    ``start``, and which final results count."""

    def manage(self, callable: Any) -> _collections.ManagedCallable:
        """A callable that starts ``callable`` with its arguments in this
        exchange (pprocess ``manage``)."""
        return _collections.ManagedCallable(self, _target(callable))  # type: ignore[arg-type]

    def start(self, name: Any, *args: Any, **kwargs: Any) -> int:
        """Runs ``name(channel, *args, **kwargs)`` (or, for a MakeParallel
        function, ``name(*args, **kwargs)``) in the exchange (pprocess
        ``start``); returns the call's index."""
        index: int = self._add(_target(name), args, kwargs)  # type: ignore[attr-defined]
        return index

    def add_wait(self, channel: Channel) -> None:
        """Adds a channel (the farm enforces the limit)."""
        self.add(channel)  # type: ignore[attr-defined]

    def wait(self) -> None:
        """Returns at once: the farm holds calls past the limit itself."""

    def create(self) -> Channel:
        """Not available: see the module's documentation."""
        return create()

    def _keeps_final(self, slot: Any, result: Any) -> bool:
        target = slot.target
        if isinstance(target, FunctionRef):
            # A channel function's return value is not data unless it is
            # something; a MakeParallel function's always is.
            return not target.channel or result.error is not None or result.value is not None
        return bool(super()._keeps_final(slot, result))  # type: ignore[misc]


class Exchange(_Pprocess, _collections.Exchange):
    """pprocess's Exchange: define ``store_data(self, channel)`` in a
    subclass and call ``finish()``, or read with ``ready()``."""

    def __init__(self, channels: Optional[Iterable[Channel]] = None, limit: Optional[int] = None,
                 reuse: int = 0, continuous: int = 0, autoclose: int = 1, *,
                 farm: Optional[Farm] = None) -> None:
        super().__init__(_farm(farm), limit, reuse=bool(reuse), continuous=bool(continuous))
        self.autoclose = autoclose
        for channel in channels or ():
            self.add(channel)


class Map(_Pprocess, _collections.Map):
    """pprocess's Map: results in the order of the calls that made them,
    by index, slice or iteration."""

    def __init__(self, channels: Optional[Iterable[Channel]] = None, limit: Optional[int] = None,
                 reuse: int = 0, continuous: int = 0, autoclose: int = 1, *,
                 farm: Optional[Farm] = None) -> None:
        _no_channels(channels, "Map")
        super().__init__(_farm(farm), limit, reuse=bool(reuse), continuous=bool(continuous))


class Queue(_Pprocess, _collections.Queue):
    """pprocess's Queue: iterate to take the results as they arrive."""

    def __init__(self, channels: Optional[Iterable[Channel]] = None, limit: Optional[int] = None,
                 reuse: int = 0, continuous: int = 0, autoclose: int = 1, *,
                 farm: Optional[Farm] = None) -> None:
        _no_channels(channels, "Queue")
        super().__init__(_farm(farm), limit, reuse=bool(reuse), continuous=bool(continuous))


def _no_channels(channels: Optional[Iterable[Channel]], name: str) -> None:
    if channels:
        raise TypeError(f"pprocd's {name} takes no channels: start or manage the callables "
                        "through it (an Exchange monitors channels from start())")


def pmap(callable: Any, sequence: Iterable[Any], limit: Optional[int] = None,
         **kw: Any) -> List[Any]:
    """``[callable(x) for x in sequence]``, in parallel; the results in
    order. ``kw``: ``reuse`` (default 0: a new process per call, as in
    pprocess)."""
    if isinstance(callable, MakeParallel):
        callable = callable.callable
    reuse = bool(kw.pop("reuse", 0))
    kw.pop("continuous", None)
    farm = _farm(kw.pop("farm", None))
    if kw:
        raise TypeError(f"pmap() got unexpected keyword arguments {sorted(kw)}")
    return farm.pmap(callable, sequence, limit, reuse=reuse)


def start(callable: Any, *args: Any, **kwargs: Any) -> Channel:
    """Runs ``callable(channel, *args, **kwargs)`` in a new process and
    returns the channel to it (``send``, ``receive``). For a MakeParallel
    function, ``callable(*args, **kwargs)``: its return value is what the
    channel receives."""
    farm = default_farm()
    target = _target(callable)
    if isinstance(target, FunctionRef) and target.channel:
        return farm.open_channel(target, args, kwargs, reuse=False)
    options = farm.options(None, False, None, 0)
    arguments: Any
    if options.packed:
        arguments = farm.encode(target, args, kwargs)
    else:
        arguments = farm.pack(target, args, kwargs)
    return _ReturningChannel(farm, target, arguments, options, farm.on_log)


class _ReturningChannel(Channel):
    """The channel of a function that returns its result: ``receive()``
    gives the values it sent, then its return value once."""

    _returned = False

    def receive(self, timeout: Optional[float] = None) -> Any:
        try:
            return super().receive(timeout)
        except EOFError:
            if self._returned:
                raise
            self._returned = True
            return self.result()


def create() -> Channel:
    """Not available: a server cannot fork its client. Use :func:`start`."""
    raise NotImplementedError("pprocd.pprocess cannot fork the calling program (create/exit): "
                              "move the child's code into a module-level function and start() "
                              "or manage() it")


def exit(channel: Any) -> None:
    """Not available: see :func:`create`."""
    create()


class BackgroundCallable(_background.BackgroundCallable):
    """pprocess's BackgroundCallable(address, callable): calling it runs the
    callable as a background job of the farm named ``address``; collect its
    result with :func:`BackgroundQueue` or :class:`PersistentQueue`. A job
    of that name that has ended is replaced."""

    def __init__(self, address: str, callable: Any, *, farm: Optional[Farm] = None) -> None:
        super().__init__(address, _target(callable), farm=farm, replace=True)


def BackgroundQueue(address: str, *, farm: Optional[Farm] = None) -> _background.BackgroundQueue:
    """A queue of the results of the background callable at ``address``."""
    return _background.BackgroundQueue(address, farm=farm)


class PersistentQueue(_background.PersistentQueue):
    """A queue of the results of several background callables: ``connect``
    each address, then iterate."""
