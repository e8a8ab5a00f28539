"""pprocess's background callables and persistent queues, over pprocd jobs.

``BackgroundCallable(address, name)`` submits a job named ``address`` when
called; ``BackgroundQueue(address)`` and ``PersistentQueue().connect(address)``
attach to such jobs later, from any process, and yield their results as they
are stored. When ``address`` looks like a socket file (``task.socket``), the
job also asks the server for a socket of its own at that path, and the
queues dial it directly; otherwise (or when the server has no such socket)
they find the job by name on the farm's server.
"""

from __future__ import annotations

import collections
import os
import queue
import socket
import stat
import threading
from typing import Any, Deque, Dict, Iterable, List, Optional, Set, Tuple, Union

from ._errors import FarmError, JobExists, JobNotFound
from ._farm import Farm, default_farm
from ._function_ref import Target, as_target
from ._jobs import (Job, JobEvent, JobResult, JobState, JobStatus, JobUpdate, ReconnectCall,
                    outcome_error, submit_job)

FarmLike = Union[Farm, str, None]
"""A :class:`Farm`, a server address for one, or None for the default farm."""

# Codes with which a per-job socket that cannot serve the job answers before
# any output: the queue then asks the farm's server by name instead.
_FALL_BACK_CODES = ("UNAVAILABLE", "UNIMPLEMENTED", "INVALID_ARGUMENT", "NOT_FOUND")


def _farm_of(farm: FarmLike) -> Farm:
    if farm is None:
        return default_farm()
    if isinstance(farm, str):
        return Farm(farm)
    if not isinstance(farm, Farm):
        raise TypeError(f"farm must be a pprocd.Farm, a server address or None, "
                        f"not {type(farm).__name__}")
    return farm


def is_socket_address(address: str) -> bool:
    """Whether a background ``address`` names a socket file: it has a ``/``
    or ends in ``.sock`` or ``.socket`` (as ``task.socket`` does)."""
    return "/" in address or address.endswith((".sock", ".socket"))


def _answers(path: str) -> bool:
    """Whether something accepts connections on the socket file ``path``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _live_socket(address: str) -> Optional[str]:
    """The absolute path of ``address`` if it is a socket file now."""
    path = os.path.abspath(address)
    try:
        return path if stat.S_ISSOCK(os.stat(path).st_mode) else None
    except OSError:
        return None


class BackgroundCallable:
    """A server callable that runs as a background job when called
    (pprocess.BackgroundCallable).

    ``BackgroundCallable(address, name)``: calling it with arguments (as
    ``manage()`` callables take them) submits a one-input job of callable
    ``name`` (or of a module-level Python function), named ``address``,
    and returns its :class:`Job`; the calling process may then exit.
    ``map(inputs)`` submits one job of many inputs.
    Collect the results with :class:`BackgroundQueue` (or
    :class:`PersistentQueue`), ``farm.job(address)``, from any process.

    ``address`` is the job's name, unique among your jobs. When it looks
    like a socket file (``socket=None``: it has a ``/`` or ends in ``.sock``
    or ``.socket``; ``socket=True``/``False`` decide), the job also asks the
    server to serve it alone on a UNIX socket at that path (made absolute),
    when the farm is reached over a UNIX socket (over TCP the server cannot
    tell whose the socket would be); a server without per-job sockets runs
    the job without one. Either way the queues find the job by name.

    ``farm``: a :class:`Farm`, a server address, or None (the default farm).
    ``replace``: when a job named ``address`` has ended, delete it and
    submit anew (else :class:`JobExists`, as for a job still running).
    ``ordered``, ``retries``, ``retry_backoff``, ``limit``, ``reuse``,
    ``timeout``: as for :meth:`Farm.submit_job`.
    """

    def __init__(self, address: str, callable: Any, *, farm: FarmLike = None,
                 socket: Optional[bool] = None, replace: bool = False, ordered: bool = False,
                 retries: int = 0, retry_backoff: Optional[float] = None,
                 limit: Optional[int] = None, reuse: bool = True,
                 timeout: Optional[float] = None) -> None:
        if not address:
            raise ValueError("a background callable needs an address (the job's name)")
        self.address = address
        """The job's name (and socket file, see ``socket``)."""
        self.callable: Target = as_target(callable)
        """The server callable it runs (its name), or the Python function's
        reference."""
        self.farm = _farm_of(farm)
        """The farm (server) the job runs on."""
        self.socket = is_socket_address(address) if socket is None else bool(socket)
        """Whether the job asks for a socket of its own at ``address``."""
        self.replace = replace
        self.job: Optional[Job] = None
        """The last job this callable submitted."""
        self._options: Dict[str, Any] = dict(ordered=ordered, retries=retries,
                                             retry_backoff=retry_backoff, limit=limit,
                                             reuse=reuse, timeout=timeout)

    def __repr__(self) -> str:
        return f"pprocd.BackgroundCallable({self.address!r}, {self.callable!r})"

    def __call__(self, *args: Any, **kwargs: Any) -> Job:
        """Submits ``callable(*args, **kwargs)`` as a background job named
        ``address``; returns its :class:`Job`."""
        return self._submit([self.farm.pack_obj(self.callable, args, kwargs)], built=True)

    def map(self, inputs: Iterable[Any]) -> Job:
        """Submits one background job named ``address`` with one invocation
        per element of ``inputs`` (a tuple or list spreads over the
        parameters, a dict names them); returns its :class:`Job`."""
        return self._submit(list(inputs))

    def _submit(self, inputs: List[Any], built: bool = False) -> Job:
        # Only a caller on a UNIX socket of the server may ask for a job
        # socket (the server must know who owns it).
        on_unix = self.farm.address.startswith("unix:")
        socket_path = self.address if self.socket and on_unix else None
        try:
            job = self._submit_once(inputs, socket_path, built)
        except JobExists:
            if not self.replace or not self._clear_address():
                raise
            job = self._submit_once(inputs, socket_path, built)
        self.job = job
        return job

    def _clear_address(self) -> bool:
        """For ``replace``: deletes the ended job named ``address``, or a
        stale socket file at ``address`` that no job has any more; True if
        something went."""
        try:
            existing: Optional[Job] = self.farm.job(self.address)
        except JobNotFound:
            existing = None
        if existing is not None:
            if not existing.status.ended:
                return False
            existing.delete()
            return True
        path = _live_socket(self.address) if self.socket else None
        if path is None or _answers(path):
            return False
        os.unlink(path)
        return True

    def _submit_once(self, inputs: List[Any], socket_path: Optional[str], built: bool) -> Job:
        try:
            return submit_job(self.farm, self.callable, inputs, name=self.address,
                              socket_path=socket_path, built=built, **self._options)
        except FarmError as error:
            if not (socket_path and error.code_name == "UNIMPLEMENTED"
                    and "socket_path" in error.details):
                raise
        # This server has no per-job sockets: the name alone finds the job.
        return submit_job(self.farm, self.callable, inputs, name=self.address, built=built,
                          **self._options)


class _Track:
    """What a queue knows of one job it reads."""

    __slots__ = ("attempt", "max_retries", "seen", "held", "raised", "ended")

    def __init__(self) -> None:
        self.attempt = 0
        self.max_retries = 0
        self.seen: Set[Tuple[int, int]] = set()
        self.held: List[JobResult] = []
        self.raised = False
        self.ended = False

    def retries_left(self) -> bool:
        return self.attempt <= self.max_retries and self.attempt > 0


class _Source(threading.Thread):
    """Reads one Reconnect stream into the queue's inbox: the jobs named
    through ``farm``, or the one job served on ``socket_path`` (asked by
    ``name`` through ``farm`` when that socket cannot serve it)."""

    def __init__(self, inbox: "queue.Queue[Tuple[str, Any]]", farm: Farm, names: List[str],
                 socket_path: Optional[str] = None) -> None:
        super().__init__(daemon=True, name="pprocd-reconnect")
        self._inbox = inbox
        self._farm = farm
        self._names = names
        self._socket_path = socket_path
        self._lock = threading.Lock()
        self._call: Optional[ReconnectCall] = None
        self._stopped = False

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            call = self._call
        if call is not None:
            call.cancel()

    def _open(self, farm: Farm, names: List[str]) -> Optional[ReconnectCall]:
        with self._lock:
            if self._stopped:
                return None
            self._call = ReconnectCall(farm, names)
            return self._call

    def run(self) -> None:
        try:
            if self._socket_path is not None:
                direct = Farm("unix:" + self._socket_path)
                try:
                    call = self._open(direct, [])
                    if call is None:
                        return
                    try:
                        for event in call:
                            self._inbox.put(("event", event))
                        return
                    except FarmError as error:
                        if call.received or error.code_name not in _FALL_BACK_CODES:
                            raise
                finally:
                    direct.close()
            call = self._open(self._farm, self._names)
            if call is None:
                return
            for event in call:
                self._inbox.put(("event", event))
        except Exception as error:  # handed to the reading thread
            self._inbox.put(("error", error))
        finally:
            self._inbox.put(("end", self))


class PersistentQueue:
    """Results of several background jobs as they arrive, from whichever job
    has one (pprocess.PersistentQueue).

    ``queue = PersistentQueue(); queue.connect(address)`` for each job (its
    name or id, or the socket path a :class:`BackgroundCallable` gave it);
    then iterate: each value an input of any of them gave, as it is stored.
    A failed input's :class:`ItemError` is raised where it is read and the
    iteration goes on after it; a job that ended cancelled or interrupted
    raises :class:`JobCancelled` / :class:`JobInterrupted` once. Iteration
    ends when every connected job has ended and its results were read.

    Jobs found by name on the same farm are read through one Reconnect; a
    job with a live socket of its own is read through that socket. When a
    job runs again (a retry, or a restart of the server), the results its
    earlier attempt already gave are not given again, and an input's error
    is held back while the job has a retry left. ``farm``: a :class:`Farm`,
    a server address, or None (the default farm). ``results()`` yields
    :class:`JobResult` events instead of values.
    """

    def __init__(self, *, farm: FarmLike = None) -> None:
        self.farm = _farm_of(farm)
        """The farm jobs are looked up on by name."""
        self._inbox: "queue.Queue[Tuple[str, Any]]" = queue.Queue()
        self._waiting: List[str] = []
        self._sources: List[_Source] = []
        self._running = 0
        self._tracks: Dict[str, _Track] = {}
        self._ready: Deque[Any] = collections.deque()
        self._started = False
        self._closed = False

    def __enter__(self) -> "PersistentQueue":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def connect(self, address: str) -> None:
        """Adds the job at ``address`` (a job's name or id, or its socket
        file) to the jobs this queue reads."""
        if self._closed:
            raise RuntimeError("this queue is closed")
        self._waiting.append(address)
        if self._started:
            self._start()

    def _start(self) -> None:
        self._started = True
        waiting, self._waiting = self._waiting, []
        by_name: List[str] = []
        for address in waiting:
            path = _live_socket(address) if is_socket_address(address) else None
            if path is not None:
                self._launch(_Source(self._inbox, self.farm, [address], path))
            else:
                by_name.append(address)
        if by_name:
            self._launch(_Source(self._inbox, self.farm, by_name))

    def _launch(self, source: _Source) -> None:
        self._sources.append(source)
        self._running += 1
        source.start()

    def close(self) -> None:
        """Stops reading (the jobs go on running on the server)."""
        self._closed = True
        for source in self._sources:
            source.stop()

    def __iter__(self) -> "PersistentQueue":
        return self

    def __next__(self) -> Any:
        return self._next().get()

    def results(self) -> "_Events":
        """An iterator of :class:`JobResult` events (value or error, the
        input's ``index``, its ``job_id``) instead of values; errors are not
        raised. :class:`JobError` for a job that did not succeed still is."""
        return _Events(self)

    def _next(self) -> JobResult:
        if not self._started:
            self._start()
        while True:
            if self._ready:
                item = self._ready.popleft()
                if isinstance(item, Exception):
                    raise item
                result: JobResult = item
                return result
            if self._running == 0 and self._inbox.empty():
                raise StopIteration
            kind, payload = self._inbox.get()
            if kind == "end":
                self._running -= 1
            elif kind == "error":
                self._ready.append(payload)
            else:
                self._take(payload)

    def _take(self, event: JobEvent) -> None:
        track = self._tracks.get(event.job_id)
        if track is None:
            track = self._tracks[event.job_id] = _Track()
        if isinstance(event, JobUpdate):
            self._update(track, event.status)
        elif isinstance(event, JobResult):
            result = event.result
            key = (result.index, result.seq)
            if key in track.seen:
                return  # given by an earlier attempt
            if result.error is not None:
                if track.retries_left():
                    track.held.append(event)
                    return
                track.raised = True
            elif result.last and result.seq > 0 and result.value is None:
                return  # a channel callable that sent its values and returned nothing
            track.seen.add(key)
            self._ready.append(event)

    def _update(self, track: _Track, status: JobStatus) -> None:
        if status.attempts > track.attempt:
            track.attempt = status.attempts
            track.held.clear()  # the new attempt runs those inputs again
        track.max_retries = status.max_retries
        if not status.ended or track.ended:
            return
        track.ended = True
        held = track.held
        track.held = []
        for event in held:
            key = (event.result.index, event.result.seq)
            if key not in track.seen:
                track.seen.add(key)
                track.raised = True
                self._ready.append(event)
        if status.state == JobState.FAILED and track.raised:
            return  # its inputs' errors say it
        error = outcome_error(status, [])
        if error is not None:
            self._ready.append(error)


class _Events:
    """The iterator of :meth:`PersistentQueue.results`."""

    def __init__(self, owner: PersistentQueue) -> None:
        self._owner = owner

    def __iter__(self) -> "_Events":
        return self

    def __next__(self) -> JobResult:
        return self._owner._next()


class BackgroundQueue(PersistentQueue):
    """The results of one background job as they arrive
    (pprocess.BackgroundQueue): a :class:`PersistentQueue` connected to
    ``address``, the job's name or id or the socket file a
    :class:`BackgroundCallable` gave it. Iterating yields each result value
    as it is stored and raises a failed input's :class:`ItemError` where it
    is read; it ends when the job has ended."""

    def __init__(self, address: str, *, farm: FarmLike = None) -> None:
        super().__init__(farm=farm)
        self.address = address
        """The job it reads."""
        self.connect(address)


__all__ = ["BackgroundCallable", "BackgroundQueue", "PersistentQueue", "is_socket_address"]
