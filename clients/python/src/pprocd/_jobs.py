"""Background jobs: Submit, the Job handle, and the outputs of Reconnect.

A job is a callable over inputs that the server runs whether or not its
client stays; its outputs (results and changes of state) are stored, each
with a sequence number (1, 2, 3, ... per job), and Reconnect replays them,
then streams new ones until the job ends. After a server restart a job may
run again (a new RUNNING state with one more attempt, then its results
again): whoever collects "the results" keeps only the last attempt's.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import enum
import os
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Tuple, Type,
                    Union)

import grpc

from ._errors import (FarmError, ItemError, JobCancelled, JobError, JobFailed, JobInterrupted)
from . import _packed
from ._function_ref import FunctionRef, Target, as_target, target_fields
from ._results import Result, result_from_proto, stats_from_proto
from ._values import to_value
from .v1 import service_pb2

if TYPE_CHECKING:
    from ._farm import Farm
    from ._inputs import InputChecks


class JobState(str, enum.Enum):
    """The life of a job. A ``str``: ``state == "RUNNING"`` works too."""

    UNSPECIFIED = "UNSPECIFIED"
    QUEUED = "QUEUED"
    """Waiting to run (also between a failed attempt and its retry)."""
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    """Every input has its result and none failed."""
    FAILED = "FAILED"
    """An input failed in the last attempt (or the job could not run)."""
    CANCELLED = "CANCELLED"
    """Cancelled (CancelJob); its running inputs were killed."""
    INTERRUPTED = "INTERRUPTED"
    """The server stopped while it ran, and it had no retry left."""

    def __str__(self) -> str:
        return self.value

    @property
    def ended(self) -> bool:
        """True for the final states: SUCCEEDED, FAILED, CANCELLED,
        INTERRUPTED."""
        return self in _ENDED

    @classmethod
    def from_proto(cls, value: int) -> "JobState":
        """The state of a ``pprocd.v1.JobState`` number."""
        name = service_pb2.JobState.Name(value)
        return cls(name[len("JOB_STATE_"):])

    def to_proto(self) -> int:
        """This state as a ``pprocd.v1.JobState`` number."""
        return int(service_pb2.JobState.Value("JOB_STATE_" + self.value))


_ENDED = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED,
                    JobState.INTERRUPTED})

_JOB_ERRORS: Dict[JobState, Type[JobError]] = {
    JobState.FAILED: JobFailed,
    JobState.CANCELLED: JobCancelled,
    JobState.INTERRUPTED: JobInterrupted,
}


def _time(message: Any, field: str) -> Optional[datetime.datetime]:
    if not message.HasField(field):
        return None
    stamp = getattr(message, field)
    return datetime.datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9,
                                           tz=datetime.timezone.utc)


@dataclass(frozen=True)
class JobStatus:
    """A job as the server reported it at one moment (``pprocd.v1.Job``)."""

    id: str
    """16 hex characters."""
    name: str
    """The name given at Submit (unique among its owner's jobs), or empty."""
    state: JobState
    callable: str
    items_done: int
    """Inputs whose final result is stored, of ``items_total``."""
    items_total: int
    attempts: int
    """Attempts started so far; a job runs at most ``1 + max_retries`` times."""
    max_retries: int
    last_seq: int
    """The sequence number of the job's last stored output."""
    error: str
    """Why it failed or was interrupted; empty otherwise."""
    create_time: Optional[datetime.datetime]
    start_time: Optional[datetime.datetime]
    """When the current (or last) attempt started."""
    end_time: Optional[datetime.datetime]
    owner_uid: int
    """The uid that submitted it; -1 for a caller over TCP."""
    socket_path: str
    """The job's own socket file, if it asked for one."""

    @property
    def ended(self) -> bool:
        """True once the job is in a final state."""
        return self.state.ended

    @classmethod
    def from_proto(cls, job: service_pb2.Job) -> "JobStatus":
        """Converts a ``pprocd.v1.Job``."""
        return cls(job.id, job.name, JobState.from_proto(job.state), job.callable,
                   job.items_done, job.items_total, job.attempts, job.max_retries, job.last_seq,
                   job.error, _time(job, "create_time"), _time(job, "start_time"),
                   _time(job, "end_time"), job.owner_uid, job.socket_path)


@dataclass(frozen=True)
class JobEvent:
    """One stored output of a job, as :meth:`Job.watch` yields it:
    a :class:`JobResult` or a :class:`JobUpdate`."""

    job_id: str
    seq: int
    """1, 2, 3, ... per job, in the order the outputs were stored."""


@dataclass(frozen=True)
class JobResult(JobEvent):
    """A result of one of the job's inputs."""

    result: Result
    """Its value or error, ``index`` (the input's position in the job),
    ``seq`` (the result's position among that input's), ``last``, stats and
    logs."""

    @property
    def index(self) -> int:
        """The input's position in the job."""
        return self.result.index

    @property
    def value(self) -> Any:
        """The value (None for an error)."""
        return self.result.value

    @property
    def error(self) -> Optional[Exception]:
        """The input's :class:`ItemError`, or None."""
        return self.result.error

    def get(self) -> Any:
        """Returns the value, or raises the error."""
        return self.result.get()


@dataclass(frozen=True)
class JobUpdate(JobEvent):
    """The job at a change of state, or (``progress``) its progress while
    it runs, about once a second."""

    status: JobStatus
    progress: bool = False
    """True when only the counts changed, not the state."""

    @property
    def state(self) -> JobState:
        """The job's state."""
        return self.status.state


def events_from_proto(response: service_pb2.ReconnectResponse,
                      callables: Dict[str, str]) -> List[JobEvent]:
    """Converts one ReconnectResponse: one event, or one per item of a
    ResultBlock (its items have the sequence numbers seq, seq + 1, ...)."""
    if response.WhichOneof("output") != "block":
        return [event_from_proto(response, callables)]
    block = response.block
    name = callables.get(response.job_id, "")
    values = _packed.loads_values(block.values)
    per_item = [stats_from_proto(s) for s in block.item_stats]
    shared = stats_from_proto(block.stats) if block.HasField("stats") else None
    first = block.first_index
    return [JobResult(response.job_id, response.seq + k,
                      Result(name, first + k, 0, True, value, None,
                             per_item[k] if per_item else shared))
            for k, value in enumerate(values)]


def event_from_proto(response: service_pb2.ReconnectResponse,
                     callables: Dict[str, str]) -> JobEvent:
    """Converts one ReconnectResponse. ``callables`` maps job ids to their
    callable's name (learned from the job outputs, used in errors)."""
    if response.WhichOneof("output") == "job":
        status = JobStatus.from_proto(response.job)
        if status.callable:
            callables[response.job_id] = status.callable
        return JobUpdate(response.job_id, response.seq, status, response.progress)
    raw = response.result
    result = result_from_proto(raw, callables.get(response.job_id, ""), raw.index)
    return JobResult(response.job_id, response.seq, result)


# Outputs the server may pack into one Reconnect message (ours are unpacked
# one by one): far fewer messages for jobs with many small outputs.
OUTPUTS_PER_MESSAGE = 256


class ReconnectCall:
    """One Reconnect stream, as JobEvents; ``cancel()`` from any thread."""

    def __init__(self, farm: "Farm", jobs: Iterable[str] = (), after_seq: int = 0,
                 after_seq_by_job: Optional[Dict[str, int]] = None,
                 callables: Optional[Dict[str, str]] = None,
                 timeout: Optional[float] = None, packed: Optional[bool] = None) -> None:
        self.farm = farm
        self.received = False
        self._cancelled = False
        self._callables: Dict[str, str] = dict(callables or {})
        self._timeout = timeout
        request = reconnect_request(jobs, after_seq, after_seq_by_job,
                                    farm.packed if packed is None else packed)
        self._call = farm._stub.Reconnect(request, timeout=timeout, wait_for_ready=False)

    def cancel(self) -> None:
        """Ends the stream (the iteration stops with no error)."""
        self._cancelled = True
        self._call.cancel()

    def __iter__(self) -> Iterator[JobEvent]:
        try:
            for response in self._call:
                self.received = True
                yield from events_from_proto(response, self._callables)
                for more in response.more:
                    yield from events_from_proto(more, self._callables)
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else None
            if code == grpc.StatusCode.CANCELLED and self._cancelled:
                return
            if code == grpc.StatusCode.DEADLINE_EXCEEDED and self._timeout is not None:
                raise concurrent.futures.TimeoutError(
                    f"the job did not end within {self._timeout} s") from None
            raise self.farm._call_error(error, self.received, job=True) from None
        finally:
            self._call.cancel()


class _Attempt:
    """The results of a job's last attempt, collected from its outputs."""

    def __init__(self) -> None:
        self.attempt = 0
        self.results: Dict[Tuple[int, int], Result] = {}
        self.final: Optional[JobStatus] = None

    def add(self, event: JobEvent) -> None:
        if isinstance(event, JobUpdate):
            status = event.status
            if status.attempts > self.attempt:
                if self.attempt:
                    self.results.clear()  # a new attempt runs every input again
                self.attempt = status.attempts
            if status.ended:
                self.final = status
        elif isinstance(event, JobResult):
            result = event.result
            self.results[(result.index, result.seq)] = result

    def ordered(self) -> List[Result]:
        """The results in input order, each input's in the order it gave
        them; a null final value after values sent (a channel callable that
        returns nothing) is left out."""
        return [result for key, result in sorted(self.results.items())
                if not (result.last and key[1] > 0 and result.error is None
                        and result.value is None)]


def outcome_error(status: JobStatus, results: Iterable[Result]) -> Optional[JobError]:
    """The JobError of a job that ended without succeeding (None when it
    succeeded), with the item errors among ``results``."""
    cls = _JOB_ERRORS.get(status.state)
    if cls is None:
        return None
    errors = [r.error for r in results if isinstance(r.error, ItemError)]
    error = cls(status, errors)
    if errors:
        error.__cause__ = errors[0]
    return error


class JobView:
    """What a handle on one job knows without asking the server: ``status``,
    the job as last seen, and the properties that read it. The base of
    :class:`Job` and of ``pprocd.aio.Job``."""

    _SHOWN_AS = "pprocd.Job"

    def __init__(self, farm: Any, status: JobStatus) -> None:
        self.farm = farm
        """The farm (server) the job is on."""
        self._status = status
        self._outcome: Optional[Tuple[List[Any], Optional[JobError]]] = None

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<{self._SHOWN_AS} {self.id}{name} {self.state.value}>"

    @property
    def status(self) -> JobStatus:
        """The job as last seen (at submit, refresh(), or in watch())."""
        return self._status

    @property
    def id(self) -> str:
        """The job's id (16 hex characters)."""
        return self._status.id

    @property
    def name(self) -> str:
        """The job's name, or empty."""
        return self._status.name

    @property
    def state(self) -> JobState:
        """The state as last seen; :meth:`refresh` asks the server."""
        return self._status.state


class Job(JobView):
    """A handle on one background job (:meth:`Farm.submit_job`,
    :meth:`Farm.job`, :meth:`Farm.jobs`), in the manner of a
    ``concurrent.futures.Future`` whose work outlives the process.

    ``status`` is the job as last seen (``state`` and the other properties
    read it without asking the server); ``refresh()`` asks again.
    """

    farm: "Farm"

    def refresh(self) -> JobStatus:
        """Asks the server for the job now (GetJob) and returns it."""
        response = self.farm._unary(self.farm._stub.GetJob,
                                    service_pb2.GetJobRequest(job=self.id or self.name), job=True)
        self._status = JobStatus.from_proto(response.job)
        return self._status

    def done(self) -> bool:
        """True when the job has ended (asks the server unless it was
        already seen ended)."""
        if not self._status.ended:
            self.refresh()
        return self._status.ended

    def watch(self, after_seq: int = 0, *,
              timeout: Optional[float] = None) -> Iterator[JobEvent]:
        """The job's outputs with a sequence number above ``after_seq``: the
        stored ones, then the new ones as they are stored, until the job has
        ended (the last is a :class:`JobUpdate` in its final state). Each is
        a :class:`JobResult` or a :class:`JobUpdate`; resuming with the last
        ``seq`` seen continues with no gap and no repeat. Closing the
        iterator ends the stream. ``timeout``: seconds for the whole stream
        (``concurrent.futures.TimeoutError`` past it)."""
        call = ReconnectCall(self.farm, [self.id], after_seq,
                             callables={self.id: self._status.callable}, timeout=timeout)
        for event in call:
            if isinstance(event, JobUpdate):
                self._status = event.status
            yield event

    def _collect(self, timeout: Optional[float]) -> Tuple[List[Any], Optional[JobError]]:
        if self._outcome is None:
            attempt = _Attempt()
            for event in self.watch(0, timeout=timeout):
                attempt.add(event)
            final = attempt.final
            if final is None:
                raise FarmError(f"job {self.id}: the server ended the stream before the job "
                                "ended")
            results = attempt.ordered()
            self._outcome = ([r.value for r in results], outcome_error(final, results))
        return self._outcome

    def result(self, timeout: Optional[float] = None) -> List[Any]:
        """Waits for the job to end and returns its results: each input's
        values in input order (whatever ``ordered`` was), from its last
        attempt. Raises :class:`JobFailed` (its ``errors`` are the inputs'
        :class:`ItemError`), :class:`JobCancelled` or
        :class:`JobInterrupted` if it did not succeed, and
        ``concurrent.futures.TimeoutError`` if it has not ended within
        ``timeout`` seconds."""
        values, error = self._collect(timeout)
        if error is not None:
            raise error
        return list(values)

    def exception(self, timeout: Optional[float] = None) -> Optional[JobError]:
        """Waits for the job to end; returns the :class:`JobError` that
        :meth:`result` would raise, or None when it succeeded."""
        return self._collect(timeout)[1]

    def cancel(self) -> bool:
        """Cancels the job if it is queued or running (its running inputs are
        killed). Returns True if the job is now cancelled, False if it had
        already ended otherwise."""
        response = self.farm._unary(self.farm._stub.CancelJob,
                                    service_pb2.CancelJobRequest(job=self.id), job=True)
        self._status = JobStatus.from_proto(response.job)
        return self._status.state == JobState.CANCELLED

    def delete(self) -> None:
        """Deletes the ended job and its stored outputs. Raises
        :class:`FarmError` (FAILED_PRECONDITION) while it is queued or
        running: cancel it first."""
        self.farm._unary(self.farm._stub.DeleteJob, service_pb2.DeleteJobRequest(job=self.id),
                         job=True)


def submit_job(farm: "Farm", callable: Any, inputs: Iterable[Any], *, ordered: bool = False,
               name: Optional[str] = None, idempotency_key: Optional[str] = None,
               retries: int = 0, retry_backoff: Optional[float] = None,
               socket_path: Optional[str] = None, limit: Optional[int] = None,
               reuse: bool = True, timeout: Optional[float] = None,
               chunksize: int = 0, packed: Optional[bool] = None, built: bool = False) -> Job:
    """:meth:`Farm.submit_job`. ``built``: the inputs are a Python function's
    items already (see FunctionRef.call_item), not its arguments."""
    target = as_target(callable)
    request = submit_request(farm, target, inputs, ordered=ordered, name=name,
                             idempotency_key=idempotency_key, retries=retries,
                             retry_backoff=retry_backoff, socket_path=socket_path, limit=limit,
                             reuse=reuse, timeout=timeout, chunksize=chunksize, packed=packed,
                             built=built)
    try:
        response = farm._stub.Submit(request, timeout=30.0, wait_for_ready=False)
    except grpc.RpcError as error:
        raise farm._call_error(error, callable_name=str(target)) from None
    return Job(farm, JobStatus.from_proto(response.job))


def submit_request(checks: "InputChecks", target: Target, inputs: Iterable[Any], *,
                   ordered: bool = False, name: Optional[str] = None,
                   idempotency_key: Optional[str] = None, retries: int = 0,
                   retry_backoff: Optional[float] = None, socket_path: Optional[str] = None,
                   limit: Optional[int] = None, reuse: bool = True,
                   timeout: Optional[float] = None, chunksize: int = 0,
                   packed: Optional[bool] = None,
                   built: bool = False) -> service_pb2.SubmitRequest:
    """The SubmitRequest of :func:`submit_job`, its inputs checked by
    ``checks`` (a Farm of either kind); raises :class:`InvalidItem`,
    TypeError or ValueError for what the server would refuse."""
    options = checks.options(limit, reuse, timeout, chunksize, packed)
    if isinstance(inputs, (str, bytes)):
        raise TypeError("inputs is an iterable of inputs, one per invocation, not a string")
    if isinstance(target, FunctionRef) and not built:  # each element is the one argument
        inputs = target.map_items(list(inputs))
    values: List[Any] = []
    packed_inputs = b""
    if options.packed:
        values = list(inputs)
        checks.check_objs(target, values, 0)
        if values:
            packed_inputs = _packed.dumps(values)
    else:
        for index, item in enumerate(inputs):
            value = to_value(item)
            checks.check(target, value, index)
            values.append(value)
    if not values:
        raise ValueError("a job needs at least one input")
    if retries < 0:
        raise ValueError(f"retries must be 0 or more, got {retries}")
    backoff_ms = 0
    if retry_backoff is not None:
        if retry_backoff <= 0:
            raise ValueError(f"retry_backoff must be positive seconds or None, got {retry_backoff}")
        backoff_ms = max(1, round(retry_backoff * 1000))
    request = service_pb2.SubmitRequest(
        options=options, **target_fields(target), ordered=ordered, name=name or "",
        idempotency_key=idempotency_key or "", retries=retries, retry_backoff_ms=backoff_ms,
        socket_path=os.path.abspath(socket_path) if socket_path else "")
    if options.packed:
        request.packed_inputs = packed_inputs
    else:
        request.inputs.extend(values)
    return request


def list_jobs_request(state: Union[JobState, str, None], name: Optional[str], page_size: int,
                      page_token: str) -> service_pb2.ListJobsRequest:
    """One page's ListJobsRequest of :meth:`Farm.jobs`."""
    wanted = "JOB_STATE_UNSPECIFIED"
    if state is not None:
        wanted = "JOB_STATE_" + JobState(str(state).upper()).value
    return service_pb2.ListJobsRequest(state=wanted, name=name or "", page_size=page_size,
                                       page_token=page_token)


def reconnect_request(jobs: Iterable[str] = (), after_seq: int = 0,
                      after_seq_by_job: Optional[Dict[str, int]] = None,
                      packed: bool = True) -> service_pb2.ReconnectRequest:
    """A ReconnectRequest of the outputs after ``after_seq`` (per job:
    ``after_seq_by_job``) of ``jobs``."""
    return service_pb2.ReconnectRequest(jobs=list(jobs), after_seq=after_seq,
                                        after_seq_by_job=after_seq_by_job or {},
                                        max_outputs_per_message=OUTPUTS_PER_MESSAGE,
                                        packed=packed)


def list_jobs(farm: "Farm", state: Union[JobState, str, None], name: Optional[str],
              page_size: int) -> Iterator[Job]:
    """:meth:`Farm.jobs`."""
    token = ""
    while True:
        request = list_jobs_request(state, name, page_size, token)
        response = farm._unary(farm._stub.ListJobs, request)
        for job in response.jobs:
            yield Job(farm, JobStatus.from_proto(job))
        token = response.next_page_token
        if not token:
            return


__all__ = ["Job", "JobEvent", "JobResult", "JobState", "JobStatus", "JobUpdate"]
