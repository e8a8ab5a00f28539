"""Background jobs on grpc.aio: the Job handle of :class:`pprocd.aio.Farm`.

The same jobs, states, events and errors as the sync client's
(``pprocd._jobs``); only the waiting is awaited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, List, Optional, Tuple

import grpc

from .._errors import FarmError, JobError
from .._jobs import (JobEvent, JobState, JobStatus, JobUpdate, JobView, _Attempt,
                     events_from_proto, outcome_error, reconnect_request)
from ..v1 import service_pb2

if TYPE_CHECKING:
    from ._farm import Farm


class Job(JobView):
    """A handle on one background job (:meth:`Farm.submit_job`,
    :meth:`Farm.job`, :meth:`Farm.jobs`), as :class:`pprocd.Job` with its
    waits awaited. ``status`` is the job as last seen; ``await refresh()``
    asks again."""

    _SHOWN_AS = "pprocd.aio.Job"
    farm: "Farm"

    async def refresh(self) -> JobStatus:
        """Asks the server for the job now (GetJob) and returns it."""
        response = await self.farm._unary(
            "GetJob", service_pb2.GetJobRequest(job=self.id or self.name), job=True)
        self._status = JobStatus.from_proto(response.job)
        return self._status

    async def done(self) -> bool:
        """True when the job has ended (asks the server unless it was
        already seen ended)."""
        if not self._status.ended:
            await self.refresh()
        return self._status.ended

    async def watch(self, after_seq: int = 0, *,
                    timeout: Optional[float] = None) -> AsyncIterator[JobEvent]:
        """The job's outputs with a sequence number above ``after_seq``, as
        :meth:`pprocd.Job.watch`: the stored ones, then new ones as they are
        stored, until the job has ended. ``timeout``: seconds for the whole
        stream (TimeoutError past it). Leaving the iteration ends the
        stream."""
        callables: Dict[str, str] = {self.id: self._status.callable}
        request = reconnect_request([self.id], after_seq, None, self.farm.packed)
        call = self.farm._stub.Reconnect(request, timeout=timeout, wait_for_ready=False)
        received = False
        try:
            async for response in call:
                received = True
                for message in (response, *response.more):
                    for event in events_from_proto(message, callables):
                        if isinstance(event, JobUpdate):
                            self._status = event.status
                        yield event
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED and timeout is not None:
                raise TimeoutError(f"the job did not end within {timeout} s") from None
            raise self.farm._call_error(error, received, job=True) from None
        finally:
            call.cancel()

    async def _collect(self, timeout: Optional[float]) -> Tuple[List[Any], Optional[JobError]]:
        if self._outcome is None:
            attempt = _Attempt()
            async for event in self.watch(0, timeout=timeout):
                attempt.add(event)
            final = attempt.final
            if final is None:
                raise FarmError(f"job {self.id}: the server ended the stream before the job "
                                "ended")
            results = attempt.ordered()
            self._outcome = ([r.value for r in results], outcome_error(final, results))
        return self._outcome

    async def result(self, timeout: Optional[float] = None) -> List[Any]:
        """Waits for the job to end and returns its results in input order,
        as :meth:`pprocd.Job.result` (:class:`pprocd.JobFailed`,
        :class:`pprocd.JobCancelled`, :class:`pprocd.JobInterrupted`;
        TimeoutError past ``timeout`` seconds)."""
        values, error = await self._collect(timeout)
        if error is not None:
            raise error
        return list(values)

    async def exception(self, timeout: Optional[float] = None) -> Optional[JobError]:
        """Waits for the job to end; returns the :class:`pprocd.JobError`
        that :meth:`result` would raise, or None when it succeeded."""
        return (await self._collect(timeout))[1]

    async def cancel(self) -> bool:
        """Cancels the job if it is queued or running; True if it is now
        cancelled, False if it had already ended otherwise."""
        response = await self.farm._unary(
            "CancelJob", service_pb2.CancelJobRequest(job=self.id), job=True)
        self._status = JobStatus.from_proto(response.job)
        return self._status.state == JobState.CANCELLED

    async def delete(self) -> None:
        """Deletes the ended job and its stored outputs
        (:class:`pprocd.FarmError` FAILED_PRECONDITION while it runs)."""
        await self.farm._unary("DeleteJob", service_pb2.DeleteJobRequest(job=self.id), job=True)


__all__ = ["Job"]
