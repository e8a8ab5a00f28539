"""The conformance runner: every scenario of tests/conformance/scenarios.json
(the format is in tests/conformance/README.md) against a real pprocd, one
pytest test per scenario, in file order, on one server; the whole list runs
in both forms of items (the client's packed form, then the Value form).

Each step runs through the client's public API:

- Map, Queue: ``farm.Map`` / ``farm.Queue`` (``start(callable, input)`` per
  input, ``results()`` read to the end); with ``cancel``, ``FarmExecutor``
  (the client's per-input cancel is ``FarmFuture.cancel``; a future the
  server cancelled is a result of kind CANCELLED).
- Start: ``farm.open_channel`` and its ``Channel``; a call the runner
  cancelled ends, in this client, with ``ItemCancelled`` as its result: it
  stands for the call's CANCELLED status.
- Submit: ``farm.submit_job`` (``client: own``: from a Farm of its own,
  closed before the next step).
- Reconnect of one job: ``Job.watch``. GetJob, CancelJob, DeleteJob:
  ``farm.job``, ``Job.cancel``, ``Job.delete``. ListJobs: ``farm.jobs``.
  ListCallables: ``farm.callables``. GetStatus: ``farm.status``.

The generated stub (``pprocd.v1``) only where the client deliberately has
no API: Echo (a transport baseline the client does not wrap), and a
Reconnect naming several jobs (the client reads several jobs only through
``PersistentQueue``, which hides the outputs' sequence numbers and the jobs'
final outputs that the runner checks).

The client checks inputs against the callable's parameters before sending
(``InvalidItem``, raised where the input is added): such a refusal is the
call's INVALID_ARGUMENT, its message ``inputs[N]: reason`` as the server
words it (``N`` the ``InvalidItem``'s index; the reason alone without one).
"""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any, Dict, List, Optional, Tuple

import grpc
import pytest

from conftest import EVENT_LIMIT_S, ServerProcess, pprocd_binary

import pprocd
from pprocd.v1 import item_pb2, service_pb2, service_pb2_grpc
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Value

SCENARIOS_PATH = (pathlib.Path(__file__).resolve().parents[3]
                  / "tests" / "conformance" / "scenarios.json")


# The format, key by key: decoding refuses unknown keys, so a misspelt
# expectation fails instead of passing unchecked.

class FormatError(Exception):
    pass


def _keys(obj: Any, where: str, allowed: Tuple[str, ...]) -> Dict[str, Any]:
    if not isinstance(obj, dict):
        raise FormatError(f"{where}: an object, got {json.dumps(obj)}")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise FormatError(f"{where}: unknown key(s) {unknown}")
    return obj


def _type(obj: Any, where: str, *types: type) -> Any:
    # bool is an int in Python: refuse it where a number is wanted.
    if isinstance(obj, bool) and bool not in types:
        raise FormatError(f"{where}: {json.dumps(obj)} is not a {types[0].__name__}")
    if not isinstance(obj, types):
        raise FormatError(f"{where}: {json.dumps(obj)} is not a {types[0].__name__}")
    return obj


STEP_KEYS = ("rpc", "client", "callable", "inputs", "arguments", "options", "cancel",
             "exchange", "name", "ordered", "jobs", "after_seq", "job", "state", "value",
             "until", "expect")
EXPECT_KEYS = ("status", "order", "results", "messages", "result", "job", "jobs", "first_seq",
               "includes", "fields", "delta", "value")
RESULT_KEYS = ("index", "seq", "last", "value", "error", "stats", "stdout", "stderr")
ERROR_KEYS = ("kind", "signal", "exit_code", "message_contains", "stderr_contains")
JOB_KEYS = ("name", "state", "callable", "items_done", "items_total", "attempts", "error")
RPCS = ("Map", "Queue", "Start", "Submit", "Reconnect", "GetJob", "CancelJob", "DeleteJob",
        "ListJobs", "ListCallables", "GetStatus", "Echo")


def _check_number_pattern(p: Any, where: str) -> None:
    if isinstance(p, dict):
        _keys(p, where, ("min", "max"))
        for bound in p.values():
            _type(bound, where, int, float)
    else:
        _type(p, where, int, float)


def _check_result_pattern(p: Any, where: str) -> None:
    _keys(p, where, RESULT_KEYS)
    for key in ("index", "seq"):
        if key in p:
            _type(p[key], f"{where}.{key}", int)
    for key in ("last", "stats"):
        if key in p:
            _type(p[key], f"{where}.{key}", bool)
    for key in ("stdout", "stderr"):
        if key in p:
            _type(p[key], f"{where}.{key}", str)
    if "error" in p:
        error = _keys(p["error"], f"{where}.error", ERROR_KEYS)
        if "exit_code" in error:
            _type(error["exit_code"], f"{where}.error.exit_code", int)


def _check_results(results: Any, where: str) -> None:
    _type(results, where, list)
    for i, p in enumerate(results):
        _check_result_pattern(p, f"{where}[{i}]")


def _check_order(order: Any, where: str) -> None:
    if order not in ("input", "per_input", "any"):
        raise FormatError(f"{where}: unknown order {json.dumps(order)}")


def _check_job_pattern(p: Any, where: str) -> None:
    _keys(p, where, JOB_KEYS)
    for key in ("items_done", "items_total", "attempts"):
        if key in p:
            _type(p[key], f"{where}.{key}", int)


def _check_step(st: Any, where: str) -> None:
    _keys(st, where, STEP_KEYS)
    if st.get("rpc") not in RPCS:
        raise FormatError(f"{where}: unknown rpc {json.dumps(st.get('rpc'))}")
    if st.get("client", "own") != "own":
        raise FormatError(f"{where}: unknown client {json.dumps(st['client'])}")
    if "options" in st:
        options = _keys(st["options"], f"{where}.options",
                        ("limit", "chunksize", "timeout_ms", "isolation", "expected_inputs"))
        for key in ("limit", "chunksize", "timeout_ms", "expected_inputs"):
            if key in options:
                _type(options[key], f"{where}.options.{key}", int)
        if options.get("isolation", "POOLED") not in ("POOLED", "FRESH"):
            raise FormatError(f"{where}.options: unknown isolation {options['isolation']!r}")
    if "cancel" in st:
        _keys(st["cancel"], f"{where}.cancel", ("indices", "when_running"))
    for i, x in enumerate(st.get("exchange", [])):
        x = _keys(x, f"{where}.exchange[{i}]", ("send", "receive", "close", "cancel"))
        if len(x) != 1:
            raise FormatError(f"{where}.exchange[{i}]: one of send, receive, close, cancel")
    for key in ("inputs", "jobs"):
        if key in st:
            _type(st[key], f"{where}.{key}", list)
    for key in ("ordered", "until"):
        if key in st:
            _type(st[key], f"{where}.{key}", bool)
    if "after_seq" in st:
        _type(st["after_seq"], f"{where}.after_seq", int)
    expect = _keys(st.get("expect"), f"{where}.expect", EXPECT_KEYS)
    if "status" in expect:
        _keys(expect["status"], f"{where}.expect.status", ("code", "message_contains"))
    if "order" in expect:
        _check_order(expect["order"], f"{where}.expect.order")
    if "results" in expect:
        _check_results(expect["results"], f"{where}.expect.results")
    if "messages" in expect:
        _type(expect["messages"], f"{where}.expect.messages", list)
    if "result" in expect:
        _check_result_pattern(expect["result"], f"{where}.expect.result")
    if "job" in expect:
        _check_job_pattern(expect["job"], f"{where}.expect.job")
    if "jobs" in expect:
        jobs = expect["jobs"]
        if st["rpc"] == "ListJobs":
            _type(jobs, f"{where}.expect.jobs", list)
            for i, p in enumerate(jobs):
                _check_job_pattern(p, f"{where}.expect.jobs[{i}]")
        else:
            _type(jobs, f"{where}.expect.jobs", dict)
            for name, stream in jobs.items():
                w = f"{where}.expect.jobs.{name}"
                _keys(stream, w, ("order", "results", "final"))
                if "order" in stream:
                    _check_order(stream["order"], f"{w}.order")
                if "results" in stream:
                    _check_results(stream["results"], f"{w}.results")
                if "final" in stream:
                    _check_job_pattern(stream["final"], f"{w}.final")
    if "first_seq" in expect:
        _type(expect["first_seq"], f"{where}.expect.first_seq", int)
    for i, c in enumerate(expect.get("includes", [])):
        c = _keys(c, f"{where}.expect.includes[{i}]", ("name", "kind", "origin", "parameters"))
        for j, p in enumerate(c.get("parameters", [])):
            p = _keys(p, f"{where}.expect.includes[{i}].parameters[{j}]",
                      ("name", "type", "required", "default"))
    for key in ("fields", "delta"):
        for name, p in _type(expect.get(key, {}), f"{where}.expect.{key}", dict).items():
            _check_number_pattern(p, f"{where}.expect.{key}.{name}")


def load_scenarios() -> Dict[str, Any]:
    with open(SCENARIOS_PATH, encoding="utf-8") as f:
        data = json.load(f)
    where = SCENARIOS_PATH.name
    _keys(data, where, ("format", "server", "scenarios"))
    if data.get("format") != 1:
        raise FormatError(f"{where}: format {data.get('format')!r}; this runner reads format 1")
    _type(_keys(data.get("server", {}), f"{where}.server", ("workers",)).get("workers", 1),
          f"{where}.server.workers", int)
    names = set()
    for i, sc in enumerate(_type(data.get("scenarios"), f"{where}.scenarios", list)):
        _keys(sc, f"{where}.scenarios[{i}]", ("name", "description", "steps"))
        name = sc.get("name")
        if not name or name in names:
            raise FormatError(f"{where}: scenario name {name!r} is empty or repeated")
        names.add(name)
        for j, st in enumerate(_type(sc.get("steps"), f"{name}.steps", list)):
            _check_step(st, f"{name} step {j}")
    return data


SCENARIO_FILE = load_scenarios()
SCENARIOS = {sc["name"]: sc for sc in SCENARIO_FILE["scenarios"]}


# Comparing -------------------------------------------------------------------

def same_json(want: Any, got: Any) -> bool:
    """JSON equality: numbers by value (1 == 1.0, but not True), objects
    regardless of key order."""
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(want, bool) and isinstance(got, bool) and want == got
    if isinstance(want, (int, float)) or isinstance(got, (int, float)):
        return (isinstance(want, (int, float)) and isinstance(got, (int, float))
                and float(want) == float(got))
    if isinstance(want, list) or isinstance(got, list):
        return (isinstance(want, list) and isinstance(got, list) and len(want) == len(got)
                and all(same_json(w, g) for w, g in zip(want, got)))
    if isinstance(want, dict) or isinstance(got, dict):
        return (isinstance(want, dict) and isinstance(got, dict) and set(want) == set(got)
                and all(same_json(want[k], got[k]) for k in want))
    return type(want) is type(got) and want == got


def number_matches(p: Any, v: float) -> bool:
    if isinstance(p, dict):
        return ("min" not in p or v >= p["min"]) and ("max" not in p or v <= p["max"])
    return v == p


class Got:
    """One result as the runner compares it: from a pprocd.Result, a
    FarmFuture, or (stub) a pprocd.v1.ItemResult. ``error`` is an
    ItemError, or an ErrorFields for a result without one."""

    def __init__(self, index: int, seq: int, last: bool, value: Any, error: Any,
                 pid: Optional[int], logs: List[Tuple[str, bytes]]) -> None:
        self.index, self.seq, self.last, self.value, self.error = index, seq, last, value, error
        self.pid, self.logs = pid, logs

    @classmethod
    def of(cls, r: pprocd.Result) -> "Got":
        return cls(r.index, r.seq, r.last, r.value, r.error,
                   r.stats.worker_pid if r.stats is not None else None,
                   [(log.stream, log.data) for log in r.logs])

    @classmethod
    def of_proto(cls, r: item_pb2.ItemResult) -> "Got":
        outcome = r.WhichOneof("outcome")
        error = None
        if outcome == "error":
            error = ErrorFields(item_pb2.ErrorKind.Name(r.error.kind)[len("ERROR_KIND_"):],
                                r.error.message, r.error.signal, r.error.exit_code,
                                r.error.stderr_tail)
        value = json_format.MessageToDict(r.value) if outcome == "value" else None
        if outcome == "data":
            value = bytes(r.data)
        streams = {item_pb2.LOG_STREAM_STDOUT: "stdout", item_pb2.LOG_STREAM_STDERR: "stderr"}
        return cls(r.index, r.seq, r.last, value, error,
                   r.stats.worker_pid if r.HasField("stats") else None,
                   [(streams.get(log.stream, "?"), bytes(log.data)) for log in r.logs])

    def __repr__(self) -> str:
        outcome = (f"error {self.error.kind} {getattr(self.error, 'reason', '')!r}"
                   if self.error is not None else f"value {self.value!r}")
        return f"{{index {self.index} seq {self.seq} last {self.last} {outcome}}}"


class ErrorFields:
    """An item error without a client exception (a cancelled future, or a
    result read through the stub)."""

    def __init__(self, kind: str, reason: str = "", signal: str = "", exit_code: int = 0,
                 stderr_tail: str = "") -> None:
        self.kind, self.reason, self.signal = kind, reason, signal
        self.exit_code, self.stderr_tail = exit_code, stderr_tail


KIND_CLASSES = {
    "RAISED": pprocd.ItemFailed, "CRASHED": pprocd.ItemCrashed,
    "TIMED_OUT": pprocd.ItemTimedOut, "CANCELLED": pprocd.ItemCancelled,
    "INVALID_ARGUMENT": pprocd.InvalidItem, "MEMORY_LIMIT": pprocd.ItemMemoryLimit,
    "CPU_LIMIT": pprocd.ItemCpuLimit,
}


def error_mismatches(p: Dict[str, Any], e: Any) -> List[str]:
    out = []
    kind = p.get("kind")
    if kind is not None:
        if e.kind != kind:
            out.append(f"error kind {e.kind}, want {kind} ({e!r})")
        cls = KIND_CLASSES.get(kind)
        if (isinstance(e, pprocd.ItemError) and cls is not None
                and not isinstance(e, cls)):
            out.append(f"error {type(e).__name__} is not a {cls.__name__}")
    if "signal" in p and e.signal != p["signal"]:
        out.append(f"signal {e.signal!r}, want {p['signal']!r}")
    if "exit_code" in p and e.exit_code != p["exit_code"]:
        out.append(f"exit code {e.exit_code}, want {p['exit_code']}")
    if p.get("message_contains", "") not in e.reason:
        out.append(f"message {e.reason!r} does not contain {p['message_contains']!r}")
    if p.get("stderr_contains", "") not in e.stderr_tail:
        out.append(f"stderr tail {e.stderr_tail!r} does not contain {p['stderr_contains']!r}")
    return out


def result_mismatches(p: Dict[str, Any], r: Got) -> List[str]:
    out = []
    for key in ("index", "seq", "last"):
        if key in p and getattr(r, key) != p[key]:
            out.append(f"{key} {getattr(r, key)}, want {p[key]}")
    if "value" in p:
        if r.error is not None:
            out.append(f"error {r.error!r}, want value {json.dumps(p['value'])}")
        elif not same_json(p["value"], r.value):
            out.append(f"value {r.value!r}, want {json.dumps(p['value'])}")
    if "error" in p:
        if r.error is None:
            out.append(f"value {r.value!r}, want an error {p['error'].get('kind', '')}")
        elif not isinstance(r.error, (pprocd.ItemError, ErrorFields)):
            out.append(f"error {r.error!r} is not an item error")
        else:
            out.extend(error_mismatches(p["error"], r.error))
    if p.get("stats") and not (r.pid is not None and r.pid > 0):
        out.append("no stats (with the worker's pid)")
    for stream in ("stdout", "stderr"):
        if stream in p:
            got = b"".join(data for s, data in r.logs if s == stream)
            if got != p[stream].encode():
                out.append(f"{stream} {got!r}, want {p[stream]!r}")
    return out


def results_mismatches(what: str, order: str, patterns: List[Dict[str, Any]],
                       results: List[Got]) -> List[str]:
    if len(results) != len(patterns):
        return [f"{what}: {len(results)} results, want {len(patterns)}: {results}"]
    out = []
    if order == "input":
        for i, (p, r) in enumerate(zip(patterns, results)):
            problems = result_mismatches(p, r)
            if problems:
                out.append(f"{what}[{i}]: {'; '.join(problems)}")
    elif order == "per_input":
        by_index: Dict[int, List[Got]] = {}
        for r in results:
            by_index.setdefault(r.index, []).append(r)
        wanted: Dict[int, List[Dict[str, Any]]] = {}
        for p in patterns:
            if "index" not in p:
                return [f"{what}: order per_input needs an index in every pattern"]
            wanted.setdefault(p["index"], []).append(p)
        for index, want in wanted.items():
            got = by_index.get(index, [])
            if len(got) != len(want):
                out.append(f"{what}: input {index}: {len(got)} results, want {len(want)}: {got}")
                continue
            for i, (p, r) in enumerate(zip(want, got)):
                problems = result_mismatches(p, r)
                if problems:
                    out.append(f"{what}: input {index}, result {i}: {'; '.join(problems)}")
    else:  # any
        used = [False] * len(patterns)
        for r in results:
            for i, p in enumerate(patterns):
                if not used[i] and not result_mismatches(p, r):
                    used[i] = True
                    break
            else:
                out.append(f"{what}: no expected result matches {r}")
    return out


def job_mismatches(what: str, p: Dict[str, Any], job: pprocd.JobStatus) -> List[str]:
    out = []
    for key in JOB_KEYS:
        if key not in p:
            continue
        got = getattr(job, key)
        if key == "state":
            got = got.value
        if got != p[key]:
            out.append(f"{key} {got!r}, want {p[key]!r}")
    return [f"{what} {job.id}: {'; '.join(out)}"] if out else []


# The server and the runner -----------------------------------------------------

@pytest.fixture(scope="module", params=[True, False], ids=["packed", "value_form"])
def conformance_server(request: Any) -> Any:
    """A pprocd of its own, with the list's settings, on a fresh directory
    (no job names taken yet), shared by the scenarios in file order; the
    list runs twice, with the client in the packed form (its default) and
    in the Value form (a server each)."""
    server = ServerProcess(pprocd_binary(), workers=SCENARIO_FILE["server"]["workers"])
    farm = pprocd.Farm(server.address, packed=request.param)
    yield server, farm
    farm.close()
    server.stop()


class StepFailed(Exception):
    pass


class CallStatus(Exception):
    """A call's non-OK outcome: its gRPC status code name and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def call_status(error: BaseException) -> CallStatus:
    """The status a failed call stands for (see the module doc)."""
    if isinstance(error, pprocd.InvalidItem):
        message = error.reason if error.index is None else f"inputs[{error.index}]: {error.reason}"
        return CallStatus("INVALID_ARGUMENT", message)
    if isinstance(error, pprocd.FarmError):
        return CallStatus(error.code_name or "UNKNOWN", error.details)
    if isinstance(error, grpc.RpcError):
        return CallStatus(error.code().name, error.details() or "")
    raise StepFailed(f"an error that is no call status: {error!r}")


class Runner:
    def __init__(self, server: ServerProcess, farm: pprocd.Farm) -> None:
        self.server, self.farm = server, farm
        self.job_ids: Dict[str, str] = {}
        self.before = self.wait_idle()

    def wait_until(self, holds: Any, what: str) -> service_pb2.GetStatusResponse:
        deadline = time.monotonic() + EVENT_LIMIT_S
        while True:
            status = self.farm.status()
            if holds(status):
                return status
            if time.monotonic() > deadline:
                raise StepFailed(f"gave up waiting for {what}: {status}")
            time.sleep(0.02)

    def wait_idle(self) -> service_pb2.GetStatusResponse:
        return self.wait_until(lambda s: s.items_running == 0 and s.items_queued == 0
                               and s.calls_active == 0, "an idle server")

    def own_farm(self, st: Dict[str, Any]) -> Tuple[pprocd.Farm, bool]:
        if st.get("client") == "own":
            return pprocd.Farm(self.server.address, packed=self.farm.packed), True
        return self.farm, False

    def check_status(self, st: Dict[str, Any], failure: Optional[CallStatus]) -> bool:
        """Compares the call's outcome with the expected status (none: OK);
        True when the call succeeded and the rest is to be checked."""
        want = st["expect"].get("status")
        code = failure.code if failure is not None else "OK"
        message = failure.message if failure is not None else ""
        want_code = want["code"] if want is not None else "OK"
        if code != want_code:
            raise StepFailed(f"status {code} ({message!r}), want {want_code}")
        if want is not None and want.get("message_contains", "") not in message:
            raise StepFailed(f"status message {message!r} does not contain "
                             f"{want['message_contains']!r}")
        return failure is None

    def run(self, st: Dict[str, Any]) -> List[str]:
        return getattr(self, "run_" + st["rpc"])(st)

    # Map and Queue.
    def run_Map(self, st: Dict[str, Any]) -> List[str]:
        if "cancel" in st:
            results, failure = self.call_with_cancel(st)
        else:
            results, failure = self.call(st)
        if not self.check_status(st, failure):
            return []
        e = st["expect"]
        return results_mismatches("results", e.get("order", "input"), e.get("results", []),
                                  results)

    run_Queue = run_Map

    def call(self, st: Dict[str, Any]) -> Tuple[List[Got], Optional[CallStatus]]:
        o = st.get("options", {})
        if "expected_inputs" in o:
            raise StepFailed("options.expected_inputs: the Python client has no such option")
        farm, own = self.own_farm(st)
        make = farm.Map if st["rpc"] == "Map" else farm.Queue
        collection = make(o.get("limit") or None, reuse=o.get("isolation") != "FRESH",
                          timeout=o["timeout_ms"] / 1000 if o.get("timeout_ms") else None,
                          chunksize=o.get("chunksize", 0))
        try:
            try:
                for value in st.get("inputs", []):
                    collection.start(st["callable"], value)
            except pprocd.InvalidItem as error:
                return [], call_status(error)
            results = []
            for result in collection.results():
                if result.error is not None and not isinstance(result.error, pprocd.ItemError):
                    return [], call_status(result.error)
                results.append(Got.of(result))
            return results, None
        finally:
            collection.close()
            if own:
                farm.close()

    def call_with_cancel(self, st: Dict[str, Any]) -> Tuple[List[Got], Optional[CallStatus]]:
        o = st.get("options", {})
        if st["rpc"] != "Queue" or "chunksize" in o or "expected_inputs" in o:
            raise StepFailed("cancel: the Python client cancels an input through "
                             "FarmExecutor, a Queue without chunksize or expected_inputs")
        farm, own = self.own_farm(st)
        executor = farm.executor(o.get("limit") or None, reuse=o.get("isolation") != "FRESH",
                                 timeout=o["timeout_ms"] / 1000 if o.get("timeout_ms") else None)
        futures = []
        try:
            try:
                for value in st.get("inputs", []):
                    futures.append(executor.submit(st["callable"], value))
            except pprocd.InvalidItem as error:
                return [], call_status(error)
            spec = st["cancel"]
            self.wait_until(lambda s: s.items_running >= spec.get("when_running", 0),
                            f"{spec.get('when_running', 0)} items running")
            for index in spec.get("indices", []):
                futures[index].cancel()
            results = []
            for index, future in enumerate(futures):
                messages = future.messages if not future.cancelled() else []
                for seq, message in enumerate(messages):
                    results.append(Got(index, seq, False, message, None, None, []))
                pid = future.stats.worker_pid if future.stats is not None else None
                logs = [(log.stream, log.data) for log in future.logs]
                if future.cancelled():
                    error: Any = ErrorFields("CANCELLED")
                    results.append(Got(index, len(messages), True, None, error, pid, logs))
                    continue
                error = future.exception(EVENT_LIMIT_S)
                if error is not None and not isinstance(error, pprocd.ItemError):
                    return [], call_status(error)
                value = future.result() if error is None else None
                results.append(Got(index, len(messages), True, value, error, pid, logs))
            return results, None
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            if own:
                farm.close()

    # Start.
    def run_Start(self, st: Dict[str, Any]) -> List[str]:
        o = st.get("options", {})
        if {"limit", "chunksize", "expected_inputs"} & set(o):
            raise StepFailed(f"options {sorted(o)}: Start takes only isolation and timeout_ms")
        farm, own = self.own_farm(st)
        try:
            return self.start(farm, st, o)
        finally:
            if own:
                farm.close()

    def start(self, farm: pprocd.Farm, st: Dict[str, Any], o: Dict[str, Any]) -> List[str]:
        try:
            channel = farm.open_channel(
                st["callable"], (st.get("arguments"),), reuse=o.get("isolation") != "FRESH",
                timeout=o["timeout_ms"] / 1000 if o.get("timeout_ms") else None)
        except pprocd.InvalidItem as error:
            self.check_status(st, call_status(error))
            return []
        out: List[str] = []
        closed = cancelled = False
        try:
            for i, x in enumerate(st.get("exchange", [])):
                if "send" in x:
                    channel.send(x["send"])
                elif "receive" in x:
                    try:
                        got = channel.receive(EVENT_LIMIT_S)
                    except Exception as error:
                        raise StepFailed(f"exchange {i}: receive: {error!r}, want "
                                         f"{json.dumps(x['receive'])}") from None
                    if not same_json(x["receive"], got):
                        out.append(f"exchange {i}: received {got!r}, want "
                                   f"{json.dumps(x['receive'])}")
                elif x.get("close"):
                    channel.close()
                    closed = True
                elif x.get("cancel"):
                    channel.cancel()
                    closed = cancelled = True
                else:
                    raise StepFailed(f"exchange {i}: nothing to do")
            if not closed:
                channel.close()
            messages = []
            while True:
                try:
                    messages.append(channel.receive(EVENT_LIMIT_S))
                except EOFError:
                    break
                except pprocd.PprocdError:
                    break  # the result says which
            final = channel.final_result(EVENT_LIMIT_S)
        finally:
            if not channel.done():
                channel.cancel()
        failure = None
        if isinstance(final.error, pprocd.ItemCancelled) and cancelled:
            failure = CallStatus("CANCELLED", final.error.reason)
        elif final.error is not None and not isinstance(final.error, pprocd.ItemError):
            failure = call_status(final.error)
        if not self.check_status(st, failure):
            return out
        want = st["expect"].get("messages", [])
        if not same_json(want, messages):
            out.append(f"messages {messages!r}, want {json.dumps(want)}")
        if "result" in st["expect"]:
            problems = result_mismatches(st["expect"]["result"], Got.of(final))
            if problems:
                out.append(f"result: {'; '.join(problems)}")
        return out

    # Submit.
    def run_Submit(self, st: Dict[str, Any]) -> List[str]:
        o = st.get("options", {})
        if "expected_inputs" in o:
            raise StepFailed("options.expected_inputs: a job has no such option")
        farm, own = self.own_farm(st)
        failure = None
        try:
            job = farm.submit_job(
                st["callable"], st.get("inputs", []), ordered=st.get("ordered", False),
                name=st.get("name") or None, limit=o.get("limit") or None,
                reuse=o.get("isolation") != "FRESH",
                timeout=o["timeout_ms"] / 1000 if o.get("timeout_ms") else None,
                chunksize=o.get("chunksize", 0))
        except (pprocd.FarmError, pprocd.InvalidItem) as error:
            failure = call_status(error)
        finally:
            if own:
                farm.close()  # the submitting client is gone before the next step
        if not self.check_status(st, failure):
            return []
        if st.get("name"):
            self.job_ids[st["name"]] = job.id
        if "job" in st["expect"]:
            return job_mismatches("job", st["expect"]["job"], job.status)
        return []

    # Reconnect.
    def run_Reconnect(self, st: Dict[str, Any]) -> List[str]:
        farm, own = self.own_farm(st)
        try:
            return self.reconnect(farm, st)
        finally:
            if own:
                farm.close()

    def reconnect(self, farm: pprocd.Farm, st: Dict[str, Any]) -> List[str]:
        names = st.get("jobs", [])
        after_seq = st.get("after_seq", 0)
        wanted = st["expect"].get("jobs", {})
        out = [f"expect.jobs names {name!r}, which the step does not reconnect to"
               for name in wanted if name not in names]
        # (job id, seq, Got or None, JobStatus or None, progress) per output.
        outputs: List[Tuple[str, int, Optional[Got], Optional[pprocd.JobStatus], bool]] = []
        try:
            name_of = {}
            for name in names:
                job_id = self.job_ids.get(name) or farm.job(name).id
                name_of[job_id] = name
            if len(names) == 1:
                for event in farm.job(next(iter(name_of))).watch(after_seq):
                    if isinstance(event, pprocd.JobResult):
                        outputs.append((event.job_id, event.seq, Got.of(event.result), None,
                                        False))
                    else:
                        outputs.append((event.job_id, event.seq, None, event.status,
                                        event.progress))
            else:
                # The stub: see the module doc.
                with grpc.insecure_channel(self.server.address) as channel:
                    stub = service_pb2_grpc.ProcessFarmServiceStub(channel)
                    request = service_pb2.ReconnectRequest(jobs=names, after_seq=after_seq)
                    for response in stub.Reconnect(request, timeout=2 * EVENT_LIMIT_S):
                        if response.WhichOneof("output") == "result":
                            outputs.append((response.job_id, response.seq,
                                            Got.of_proto(response.result), None, False))
                        elif response.WhichOneof("output") == "job":
                            outputs.append((response.job_id, response.seq, None,
                                            pprocd.JobStatus.from_proto(response.job),
                                            response.progress))
                        else:
                            outputs.append((response.job_id, response.seq, None, None, False))
            failure = None
        except (pprocd.FarmError, grpc.RpcError) as error:
            failure = call_status(error)
        if not self.check_status(st, failure):
            return []
        by_name: Dict[str, List[Any]] = {}
        for output in outputs:
            name = name_of.get(output[0])
            if name is None:
                out.append(f"an output of job {output[0]!r}, which was not asked for")
                continue
            by_name.setdefault(name, []).append(output)
        for name in names:
            got = by_name.get(name, [])
            for i, (_, seq, result, job, _) in enumerate(got):
                if seq != after_seq + i + 1:
                    out.append(f"job {name}: output {i} has seq {seq}, want {after_seq + i + 1}")
                    break
                if (result is None) == (job is None):
                    out.append(f"job {name}: output {i} is neither a result nor a job")
            if not got:
                out.append(f"job {name}: no outputs")
                continue
            if "first_seq" in st["expect"] and got[0][1] != st["expect"]["first_seq"]:
                out.append(f"job {name}: first seq {got[0][1]}, want {st['expect']['first_seq']}")
            last = got[-1]
            if last[3] is None or not last[3].ended or last[4]:
                out.append(f"job {name}: the last output is not the job in a final state")
                continue
            want = wanted.get(name)
            if want is None:
                continue
            if "results" in want:
                results = [output[2] for output in got if output[2] is not None]
                out.extend(results_mismatches(f"job {name}", want.get("order", "input"),
                                              want["results"], results))
            if "final" in want:
                out.extend(job_mismatches(f"job {name} final", want["final"], last[3]))
        return out

    # GetJob, CancelJob, DeleteJob.
    def run_GetJob(self, st: Dict[str, Any]) -> List[str]:
        farm, own = self.own_farm(st)
        job_ref = self.job_ids.get(st.get("job", ""), st.get("job", ""))
        status = None
        failure = None
        try:
            # farm.job asks GetJob; CancelJob and DeleteJob act on that handle.
            job = farm.job(job_ref)
            if st["rpc"] == "CancelJob":
                job.cancel()
            elif st["rpc"] == "DeleteJob":
                job.delete()
            status = job.status
        except pprocd.FarmError as error:
            failure = call_status(error)
        finally:
            if own:
                farm.close()
        if not self.check_status(st, failure):
            return []
        if "job" in st["expect"]:
            if st["rpc"] == "DeleteJob":
                raise StepFailed("expect.job: DeleteJob answers no job")
            return job_mismatches(st["rpc"], st["expect"]["job"], status)
        return []

    run_CancelJob = run_DeleteJob = run_GetJob

    def run_ListJobs(self, st: Dict[str, Any]) -> List[str]:
        failure = None
        try:
            jobs = [job.status for job in self.farm.jobs(state=st.get("state") or None,
                                                         name=st.get("name") or None)]
        except pprocd.FarmError as error:
            failure = call_status(error)
        except ValueError:
            raise StepFailed(f"unknown state {st.get('state')!r}") from None
        if not self.check_status(st, failure):
            return []
        want = st["expect"].get("jobs", [])
        if len(jobs) != len(want):
            return [f"{len(jobs)} jobs, want {len(want)}: {[j.name for j in jobs]}"]
        out = []
        for i, (p, job) in enumerate(zip(want, jobs)):
            out.extend(job_mismatches(f"jobs[{i}]", p, job))
        return out

    def run_ListCallables(self, st: Dict[str, Any]) -> List[str]:
        failure = None
        try:
            callables = self.farm.callables()
        except pprocd.FarmError as error:
            failure = call_status(error)
        if not self.check_status(st, failure):
            return []
        by_name = {c.name: c for c in callables}
        out = []
        for want in st["expect"].get("includes", []):
            got = by_name.get(want["name"])
            if got is None:
                out.append(f"no callable {want['name']!r} among {sorted(by_name)}")
                continue
            kind = callable_kind_name(got.kind)
            if want.get("kind") and kind != want["kind"]:
                out.append(f"{want['name']}: kind {kind}, want {want['kind']}")
            if "origin" in want and got.origin != want["origin"]:
                out.append(f"{want['name']}: origin {got.origin!r}, want {want['origin']!r}")
            if "parameters" not in want:
                continue
            params = want["parameters"]
            if len(got.parameters) != len(params):
                out.append(f"{want['name']}: {len(got.parameters)} parameters, "
                           f"want {len(params)}")
                continue
            for i, (p, g) in enumerate(zip(params, got.parameters)):
                where = f"{want['name']}.{p['name']}"
                if g.name != p["name"]:
                    out.append(f"{want['name']}: parameter {i} is {g.name!r}, want {p['name']!r}")
                type_name = parameter_type_name(g.type)
                if p.get("type") and type_name != p["type"]:
                    out.append(f"{where}: type {type_name}, want {p['type']}")
                if "required" in p and g.required != p["required"]:
                    out.append(f"{where}: required {g.required}, want {p['required']}")
                if "default" in p:
                    default = (json_format.MessageToDict(g.default_value)
                               if g.HasField("default_value") else None)
                    if not g.HasField("default_value") or not same_json(p["default"], default):
                        out.append(f"{where}: default {default!r}, want "
                                   f"{json.dumps(p['default'])}")
        return out

    def status_mismatches(self, st: Dict[str, Any],
                          now: service_pb2.GetStatusResponse) -> List[str]:
        fields = now.DESCRIPTOR.fields_by_name
        out = []
        for kind, want in (("field", st["expect"].get("fields", {})),
                           ("change of", st["expect"].get("delta", {}))):
            for name in sorted(want):
                if name not in fields:
                    out.append(f"no status field {name!r}")
                    continue
                value = getattr(now, name)
                if kind == "change of":
                    value -= getattr(self.before, name)
                if not number_matches(want[name], value):
                    out.append(f"{kind} {name} is {value}, want {json.dumps(want[name])}")
        return out

    def run_GetStatus(self, st: Dict[str, Any]) -> List[str]:
        deadline = time.monotonic() + EVENT_LIMIT_S
        while True:
            problems = self.status_mismatches(st, self.farm.status())
            if not problems or not st.get("until") or time.monotonic() > deadline:
                return problems
            time.sleep(0.02)

    def run_Echo(self, st: Dict[str, Any]) -> List[str]:
        # The stub: see the module doc.
        failure = None
        with grpc.insecure_channel(self.server.address) as channel:
            stub = service_pb2_grpc.ProcessFarmServiceStub(channel)
            value = Value()
            json_format.ParseDict(st.get("value"), value)
            try:
                response = stub.Echo(service_pb2.EchoRequest(value=value), timeout=EVENT_LIMIT_S)
            except grpc.RpcError as error:
                failure = call_status(error)
        if not self.check_status(st, failure):
            return []
        got = json_format.MessageToDict(response.value)
        if "value" in st["expect"] and not same_json(st["expect"]["value"], got):
            return [f"echoed {json.dumps(got)}, want {json.dumps(st['expect']['value'])}"]
        return []


def callable_kind_name(kind: int) -> str:
    from pprocd.v1 import callable_pb2
    return callable_pb2.CallableKind.Name(kind)[len("CALLABLE_KIND_"):]


def parameter_type_name(kind: int) -> str:
    from pprocd.v1 import callable_pb2
    return callable_pb2.ParameterType.Name(kind)[len("PARAMETER_TYPE_"):]


def test_scenario_list_is_well_formed() -> None:
    """Needs no server: the list parsed (strictly) at import; it has
    scenarios."""
    assert SCENARIOS


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_conformance(name: str, conformance_server: Any) -> None:
    server, farm = conformance_server
    if server.process.poll() is not None:
        pytest.fail(f"pprocd is not running; stderr:\n{server.stderr()[-4000:]}")
    scenario = SCENARIOS[name]
    runner = Runner(server, farm)
    for i, st in enumerate(scenario["steps"]):
        where = f"{name} step {i} ({st['rpc']})"
        try:
            problems = runner.run(st)
        except StepFailed as failure:
            problems = [str(failure)]
        if problems:
            pytest.fail(f"{where}: " + "\n  ".join(problems))
    if server.process.poll() is not None:
        pytest.fail(f"pprocd died during this scenario; stderr:\n{server.stderr()[-4000:]}")
