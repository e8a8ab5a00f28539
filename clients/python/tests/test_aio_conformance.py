"""The conformance scenarios (tests/conformance/scenarios.json) through the
asyncio client, pprocd.aio, in both forms of items: the runner of
test_conformance.py with these steps taken by a ``pprocd.aio.Farm`` on one
event loop:

- Map, Queue: ``farm.map`` / ``farm.queue`` over the step's inputs,
  ``results()`` read to the end (a Queue step that cancels inputs by index
  goes through the sync ``FarmExecutor``: pprocd.aio cancels whole calls).
- Start: ``farm.open_channel`` and its ``Channel``.
- Submit, Reconnect of one job (``Job.watch``), GetJob, CancelJob,
  DeleteJob: ``farm.submit_job``, ``farm.job``, ``Job.cancel``,
  ``Job.delete``.

ListJobs, ListCallables, GetStatus, Echo and a Reconnect of several jobs
are the sync runner's (the status the runner waits on is read with the sync
client).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Dict, List, Optional, Tuple, TypeVar

import pytest

import pprocd
import pprocd.aio
import test_conformance as conformance
from conftest import EVENT_LIMIT_S, ServerProcess, pprocd_binary

T = TypeVar("T")
StepFailed = conformance.StepFailed
Got = conformance.Got


@pytest.fixture(scope="module", params=[True, False], ids=["packed", "value_form"])
def aio_conformance_server(request: Any) -> Any:
    """A pprocd of its own for the scenarios, a sync Farm, and an aio Farm
    on an event loop kept for the module (see test_conformance)."""
    server = ServerProcess(pprocd_binary(),
                           workers=conformance.SCENARIO_FILE["server"]["workers"])
    farm = pprocd.Farm(server.address, packed=request.param)
    loop = asyncio.new_event_loop()
    aio = pprocd.aio.Farm(server.address, packed=request.param)
    yield server, farm, loop, aio
    loop.run_until_complete(aio.close())
    loop.close()
    farm.close()
    server.stop()


def options_of(st: Dict[str, Any]) -> Dict[str, Any]:
    o = st.get("options", {})
    return {"reuse": o.get("isolation") != "FRESH",
            "timeout": o["timeout_ms"] / 1000 if o.get("timeout_ms") else None}


class AioRunner(conformance.Runner):
    def __init__(self, server: ServerProcess, farm: pprocd.Farm,
                 loop: asyncio.AbstractEventLoop, aio: pprocd.aio.Farm) -> None:
        super().__init__(server, farm)
        self.loop, self.aio = loop, aio

    def await_(self, coroutine: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coroutine)  # type: ignore[arg-type]

    def own_aio(self, st: Dict[str, Any]) -> Tuple[pprocd.aio.Farm, bool]:
        if st.get("client") == "own":
            return pprocd.aio.Farm(self.server.address, packed=self.aio.packed), True
        return self.aio, False

    # Map and Queue.
    def call(self, st: Dict[str, Any]) -> Tuple[List[Got], Optional[conformance.CallStatus]]:
        return self.await_(self.call_async(st))

    async def call_async(self, st: Dict[str, Any]
                         ) -> Tuple[List[Got], Optional[conformance.CallStatus]]:
        o = st.get("options", {})
        farm, own = self.own_aio(st)
        make = farm.map if st["rpc"] == "Map" else farm.queue
        try:
            results = []
            async with make(st["callable"], st.get("inputs", []), o.get("limit") or None,
                            chunksize=o.get("chunksize", 0), **options_of(st)) as stream:
                async for result in stream.results():
                    results.append(Got.of(result))
            return results, None
        except (pprocd.FarmError, pprocd.InvalidItem) as error:
            return [], conformance.call_status(error)
        finally:
            if own:
                await farm.close()

    # Start.
    def run_Start(self, st: Dict[str, Any]) -> List[str]:
        o = st.get("options", {})
        if {"limit", "chunksize", "expected_inputs"} & set(o):
            raise StepFailed(f"options {sorted(o)}: Start takes only isolation and timeout_ms")
        return self.await_(self.start_async(st))

    async def start_async(self, st: Dict[str, Any]) -> List[str]:
        farm, own = self.own_aio(st)
        try:
            return await self.exchange(farm, st)
        finally:
            if own:
                await farm.close()

    async def exchange(self, farm: pprocd.aio.Farm, st: Dict[str, Any]) -> List[str]:
        channel = farm.open_channel(st["callable"], (st.get("arguments"),), **options_of(st))
        try:
            await channel.open()
        except pprocd.InvalidItem as error:
            self.check_status(st, conformance.call_status(error))
            return []
        out: List[str] = []
        closed = cancelled = False
        try:
            for i, x in enumerate(st.get("exchange", [])):
                if "send" in x:
                    await channel.send(x["send"])
                elif "receive" in x:
                    try:
                        got = await channel.receive(EVENT_LIMIT_S)
                    except Exception as error:
                        raise StepFailed(f"exchange {i}: receive: {error!r}, want "
                                         f"{json.dumps(x['receive'])}") from None
                    if not conformance.same_json(x["receive"], got):
                        out.append(f"exchange {i}: received {got!r}, want "
                                   f"{json.dumps(x['receive'])}")
                elif x.get("close"):
                    await channel.close()
                    closed = True
                elif x.get("cancel"):
                    channel.cancel()
                    closed = cancelled = True
                else:
                    raise StepFailed(f"exchange {i}: nothing to do")
            if not closed:
                await channel.close()
            messages = []
            while True:
                try:
                    messages.append(await channel.receive(EVENT_LIMIT_S))
                except EOFError:
                    break
                except pprocd.PprocdError:
                    break  # the result says which
            final = await channel.final_result(EVENT_LIMIT_S)
        finally:
            if not channel.done():
                channel.cancel()
        failure = None
        if isinstance(final.error, pprocd.ItemCancelled) and cancelled:
            failure = conformance.CallStatus("CANCELLED", final.error.reason)
        elif final.error is not None and not isinstance(final.error, pprocd.ItemError):
            failure = conformance.call_status(final.error)
        if not self.check_status(st, failure):
            return out
        want = st["expect"].get("messages", [])
        if not conformance.same_json(want, messages):
            out.append(f"messages {messages!r}, want {json.dumps(want)}")
        if "result" in st["expect"]:
            problems = conformance.result_mismatches(st["expect"]["result"], Got.of(final))
            if problems:
                out.append(f"result: {'; '.join(problems)}")
        return out

    # Submit.
    def run_Submit(self, st: Dict[str, Any]) -> List[str]:
        o = st.get("options", {})
        if "expected_inputs" in o:
            raise StepFailed("options.expected_inputs: a job has no such option")
        return self.await_(self.submit_async(st, o))

    async def submit_async(self, st: Dict[str, Any], o: Dict[str, Any]) -> List[str]:
        farm, own = self.own_aio(st)
        failure = None
        try:
            job = await farm.submit_job(
                st["callable"], st.get("inputs", []), ordered=st.get("ordered", False),
                name=st.get("name") or None, limit=o.get("limit") or None,
                chunksize=o.get("chunksize", 0), **options_of(st))
        except (pprocd.FarmError, pprocd.InvalidItem) as error:
            failure = conformance.call_status(error)
        finally:
            if own:
                await farm.close()  # the submitting client is gone before the next step
        if not self.check_status(st, failure):
            return []
        if st.get("name"):
            self.job_ids[st["name"]] = job.id
        if "job" in st["expect"]:
            return conformance.job_mismatches("job", st["expect"]["job"], job.status)
        return []

    # Reconnect.
    def run_Reconnect(self, st: Dict[str, Any]) -> List[str]:
        names = st.get("jobs", [])
        if len(names) != 1:
            return super().run_Reconnect(st)
        return self.await_(self.reconnect_async(st, names[0]))

    async def reconnect_async(self, st: Dict[str, Any], name: str) -> List[str]:
        after_seq = st.get("after_seq", 0)
        wanted = st["expect"].get("jobs", {})
        out = [f"expect.jobs names {other!r}, which the step does not reconnect to"
               for other in wanted if other != name]
        got: List[Tuple[int, Optional[Got], Optional[pprocd.JobStatus], bool]] = []
        farm, own = self.own_aio(st)
        failure = None
        try:
            job = await farm.job(self.job_ids.get(name) or name)
            async for event in job.watch(after_seq):
                if isinstance(event, pprocd.JobResult):
                    got.append((event.seq, Got.of(event.result), None, False))
                else:
                    got.append((event.seq, None, event.status, event.progress))
        except pprocd.FarmError as error:
            failure = conformance.call_status(error)
        finally:
            if own:
                await farm.close()
        if not self.check_status(st, failure):
            return []
        for i, (seq, _, _, _) in enumerate(got):
            if seq != after_seq + i + 1:
                out.append(f"job {name}: output {i} has seq {seq}, want {after_seq + i + 1}")
                break
        if not got:
            return out + [f"job {name}: no outputs"]
        if "first_seq" in st["expect"] and got[0][0] != st["expect"]["first_seq"]:
            out.append(f"job {name}: first seq {got[0][0]}, want {st['expect']['first_seq']}")
        last = got[-1]
        if last[2] is None or not last[2].ended or last[3]:
            return out + [f"job {name}: the last output is not the job in a final state"]
        want = wanted.get(name)
        if want is not None:
            if "results" in want:
                results = [output[1] for output in got if output[1] is not None]
                out.extend(conformance.results_mismatches(
                    f"job {name}", want.get("order", "input"), want["results"], results))
            if "final" in want:
                out.extend(conformance.job_mismatches(f"job {name} final", want["final"],
                                                      last[2]))
        return out

    # GetJob, CancelJob, DeleteJob.
    def run_GetJob(self, st: Dict[str, Any]) -> List[str]:
        return self.await_(self.get_job_async(st))

    async def get_job_async(self, st: Dict[str, Any]) -> List[str]:
        farm, own = self.own_aio(st)
        job_ref = self.job_ids.get(st.get("job", ""), st.get("job", ""))
        status = None
        failure = None
        try:
            job = await farm.job(job_ref)
            if st["rpc"] == "CancelJob":
                await job.cancel()
            elif st["rpc"] == "DeleteJob":
                await job.delete()
            status = job.status
        except pprocd.FarmError as error:
            failure = conformance.call_status(error)
        finally:
            if own:
                await farm.close()
        if not self.check_status(st, failure):
            return []
        if "job" in st["expect"]:
            if st["rpc"] == "DeleteJob":
                raise StepFailed("expect.job: DeleteJob answers no job")
            assert status is not None
            return conformance.job_mismatches(st["rpc"], st["expect"]["job"], status)
        return []

    run_CancelJob = run_DeleteJob = run_GetJob


@pytest.mark.parametrize("name", list(conformance.SCENARIOS))
def test_aio_conformance(name: str, aio_conformance_server: Any) -> None:
    server, farm, loop, aio = aio_conformance_server
    if server.process.poll() is not None:
        pytest.fail(f"pprocd is not running; stderr:\n{server.stderr()[-4000:]}")
    runner = AioRunner(server, farm, loop, aio)
    for i, st in enumerate(conformance.SCENARIOS[name]["steps"]):
        where = f"{name} step {i} ({st['rpc']})"
        try:
            problems = runner.run(st)
        except StepFailed as failure:
            problems = [str(failure)]
        if problems:
            pytest.fail(f"{where}: " + "\n  ".join(problems))
    if server.process.poll() is not None:
        pytest.fail(f"pprocd died during this scenario; stderr:\n{server.stderr()[-4000:]}")
