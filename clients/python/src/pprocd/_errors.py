"""The exceptions of the pprocd client.

Three families: :class:`ItemError` for one input that failed (its kind,
signal, exit code, message and the tail of its stderr, as the server
reported), :class:`FarmError` for a call the server refused or could not
serve (with its gRPC status code), and :class:`JobError` for a background job
that ended without succeeding.
"""

from __future__ import annotations

import concurrent.futures
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

import grpc

if TYPE_CHECKING:
    from ._jobs import JobStatus
    from ._results import LogRecord, Stats


class PprocdError(Exception):
    """Base of every exception this package raises on its own."""


class FarmError(PprocdError):
    """A call failed as a whole: the server refused it (unknown callable, bad
    option, too many queued items) or the connection failed.

    ``code`` is the gRPC status code (``grpc.StatusCode``) and ``details`` the
    server's message.
    """

    def __init__(self, message: str, code: Optional[grpc.StatusCode] = None,
                 details: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.details = details

    @property
    def code_name(self) -> str:
        """The status code's name, e.g. ``"NOT_FOUND"`` (empty when none)."""
        return self.code.name if self.code is not None else ""


class ServerUnavailable(FarmError):
    """No pprocd answered at the address; the message says which address was
    tried and how to start a server there."""


class JobNotFound(FarmError, LookupError):
    """No job with that id or name among the caller's jobs (NOT_FOUND from
    GetJob, Reconnect, CancelJob or DeleteJob). Also a LookupError."""


class JobExists(FarmError):
    """Submit named a job the caller already has (ALREADY_EXISTS): a job's
    name is unique among its owner's jobs."""


class PermissionDenied(FarmError):
    """The job belongs to another user (PERMISSION_DENIED)."""


class ItemError(PprocdError):
    """One input failed. Raised where its result is read.

    Attributes: ``kind`` (``"RAISED"``, ``"CRASHED"``, ``"TIMED_OUT"``,
    ``"CANCELLED"``, ``"INVALID_ARGUMENT"``), ``reason`` (the server's
    message), ``signal`` (e.g. ``"SIGSEGV"`` for a crash by signal, else
    empty), ``exit_code`` (for a crash by exit), ``stderr_tail`` (the last
    lines the worker wrote to stderr), ``callable``, ``index`` (the input's
    position in its call or collection), ``stats`` and ``logs``.
    """

    kind = "UNSPECIFIED"
    _verb = "failed"

    def __init__(self, reason: str, *, signal: str = "", exit_code: int = 0,
                 stderr_tail: str = "", callable: str = "", index: Optional[int] = None,
                 stats: Optional["Stats"] = None, logs: Tuple["LogRecord", ...] = ()) -> None:
        self.reason = reason
        self.signal = signal
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail
        self.callable = callable
        self.index = index
        self.stats = stats
        self.logs = logs
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = self.callable or "item"
        if self.index is not None:
            where += f" (input {self.index})"
        text = f"{where} {self._verb}: {self.reason}" if self.reason else f"{where} {self._verb}"
        tail = self.stderr_tail.rstrip("\n")
        if tail:
            text += "\nstderr tail:\n" + "\n".join("  " + line for line in tail.split("\n"))
        return text


class RemoteTraceback(PprocdError):
    """The traceback text of a failure in a worker process; its str is the
    traceback. FarmExecutor futures raise an :class:`ItemError` whose
    ``__cause__`` is one, so an uncaught error prints the remote traceback
    above the local one (concurrent.futures.ProcessPoolExecutor does the
    same)."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return '\n"""\n' + self.tb.rstrip("\n") + '\n"""'


class ItemFailed(ItemError):
    """The callable raised (reported) an error: ERROR_KIND_RAISED."""

    kind = "RAISED"
    _verb = "raised"

    @property
    def remote_type(self) -> str:
        """The name of the exception type the callable raised, when its
        message starts with one (``"ValueError: bad"`` gives
        ``"ValueError"``); else empty."""
        head, sep, _ = self.reason.partition(":")
        name = head.strip().rsplit(".", 1)[-1]
        return name if sep and name.isidentifier() else ""


class ItemCrashed(ItemError):
    """The worker died while running the input, by ``signal`` or with
    ``exit_code``: ERROR_KIND_CRASHED."""

    kind = "CRASHED"
    _verb = "crashed"


class ItemTimedOut(ItemError):
    """The input ran past its timeout and its worker was killed:
    ERROR_KIND_TIMED_OUT."""

    kind = "TIMED_OUT"
    _verb = "timed out"


class ItemCancelled(ItemError, concurrent.futures.CancelledError):
    """The input was cancelled before it finished (its worker killed if it was
    running): ERROR_KIND_CANCELLED. Also a concurrent.futures.CancelledError."""

    kind = "CANCELLED"
    _verb = "was cancelled"


class InvalidItem(ItemError, ValueError):
    """The input's arguments did not match the callable's parameters:
    ERROR_KIND_INVALID_ARGUMENT. Also a ValueError."""

    kind = "INVALID_ARGUMENT"
    _verb = "got invalid arguments"


class ItemLimitExceeded(ItemError):
    """The input went past a resource limit of its callable (the server's
    configuration): ``kind`` is ``"MEMORY_LIMIT"`` (ERROR_KIND_MEMORY_LIMIT)
    or ``"CPU_LIMIT"`` (ERROR_KIND_CPU_LIMIT, its worker killed)."""

    kind = "LIMIT"
    _verb = "exceeded a resource limit"


class ItemMemoryLimit(ItemLimitExceeded):
    """The input ran out of its callable's memory limit:
    ERROR_KIND_MEMORY_LIMIT."""

    kind = "MEMORY_LIMIT"
    _verb = "exceeded its memory limit"


class ItemCpuLimit(ItemLimitExceeded):
    """The input used up its callable's CPU time limit and its worker was
    killed: ERROR_KIND_CPU_LIMIT."""

    kind = "CPU_LIMIT"
    _verb = "exceeded its CPU time limit"


class JobError(PprocdError):
    """A background job ended without succeeding. Raised by
    :meth:`Job.result` and by the background queues.

    Attributes: ``job`` (its final :class:`JobStatus`), ``job_id``,
    ``state`` (``"FAILED"``, ``"CANCELLED"``, ``"INTERRUPTED"``), ``reason``
    (the server's message, e.g. ``"1 of 2 items failed"``) and ``errors``
    (the :class:`ItemError` of each failed input of the last attempt; the
    first is also the exception's ``__cause__``).
    """

    state = "UNSPECIFIED"
    _verb = "did not succeed"

    def __init__(self, job: "JobStatus", errors: Sequence[ItemError] = ()) -> None:
        self.job = job
        self.job_id: str = job.id
        self.reason: str = job.error
        self.errors: List[ItemError] = list(errors)
        super().__init__(self._describe())

    def _describe(self) -> str:
        who = f"job {self.job.name!r} ({self.job_id})" if self.job.name else f"job {self.job_id}"
        text = f"{who} {self._verb}"
        if self.reason:
            text += f": {self.reason}"
        if self.errors:
            first = str(self.errors[0]).replace("\n", "\n  ")
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            text += f"\n  {first}{more}"
        return text


class JobFailed(JobError):
    """The job ended FAILED: an input failed in its last attempt (``errors``
    holds them), or the server could not run it."""

    state = "FAILED"
    _verb = "failed"


class JobCancelled(JobError, concurrent.futures.CancelledError):
    """The job was cancelled (CancelJob): its running inputs were killed.
    Also a concurrent.futures.CancelledError."""

    state = "CANCELLED"
    _verb = "was cancelled"


class JobInterrupted(JobError):
    """The server stopped while the job ran and it had no retry left: it
    ended INTERRUPTED, with the results stored before the stop."""

    state = "INTERRUPTED"
    _verb = "was interrupted"
