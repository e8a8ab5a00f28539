"""The packed form's codec and merging, without a server: what the packed
form hands the user is what the Value form hands it (same values, same
types), and what it sends is what the Value form would send."""

from __future__ import annotations

import collections
import enum
import json
import math
import pathlib
import subprocess
import sys
from typing import Any, List

import pytest

from pprocd import _packed
from pprocd._jobs import JobResult, events_from_proto
from pprocd._signature import Signature
from pprocd._stream import response_entries
from pprocd._values import from_value, to_value
from pprocd.v1 import callable_pb2, item_pb2, service_pb2
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Value

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"


def server_json(obj: Any) -> str:
    """``obj`` printed as the server prints a Value (protobuf's printer:
    %.15g, or %.17g when that does not read back; NaN and infinities as
    strings; compact)."""
    if isinstance(obj, bool) or obj is None:
        return json.dumps(obj)
    if isinstance(obj, (int, float)):
        number = float(obj)
        if math.isnan(number):
            return '"NaN"'
        if math.isinf(number):
            return '"Infinity"' if number > 0 else '"-Infinity"'
        text = "%.15g" % number
        if float(text) != number:
            text = "%.17g" % number
        return text
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(server_json(item) for item in obj) + "]"
    return "{" + ",".join(json.dumps(k) + ":" + server_json(v) for k, v in obj.items()) + "}"


def strictly_equal(a: Any, b: Any) -> bool:
    """Equal values of the same types, all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strictly_equal(a[k], b[k]) for k in a)
    return bool(a == b)


SAMPLES: List[Any] = [
    0, 1, -1, 7, 2 ** 31, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 2 ** 54, 2 ** 60, 10 ** 15,
    10 ** 16, 10 ** 17, 10 ** 20, 1e15, 1e16, 4503599627370497.0, 9007199254740991.0,
    0.1, -0.0, 1.5, 1e-7, 1e300, 3.0, 1234567890123456.8,
    "", "plain", "ünïcödé ✓ 😀", "quote \" backslash \\ newline \n tab \t nul \0",
    "NaN", None, True, False,
    [], {}, [1, [2, [3, ["deep"]]]], {"a": {"b": [1, 2.5, None, True]}, "é": "x"},
]


@pytest.mark.parametrize("value", SAMPLES, ids=repr)
def test_results_decode_as_the_value_form_gives_them(value: Any) -> None:
    # What the Value form gives: the server's Value, through from_value.
    want = from_value(to_value(value))
    block = server_json([value, value]).encode()
    got = _packed.loads_values(block)
    assert len(got) == 2
    assert strictly_equal(got[0], want), (got[0], want)
    assert strictly_equal(got[1], want)


def test_a_block_of_many_values_decodes_in_order() -> None:
    values = list(range(5000)) + ["x", 2.5, None, [1]]
    assert _packed.loads_values(server_json(values).encode()) == values


@pytest.mark.parametrize("value", [v for v in SAMPLES if v is not None], ids=repr)
def test_inputs_encode_to_the_json_of_the_value_form(value: Any) -> None:
    # The server reads the packed text as it reads the Value's JSON.
    sent = json.loads(_packed.dumps([value]))
    assert len(sent) == 1
    as_value = json_format.MessageToDict(to_value(value))
    assert sent[0] == as_value or float(sent[0]) == float(as_value)


def test_nan_and_infinities_are_sent_as_their_json_strings() -> None:
    data = _packed.dumps([float("nan"), [float("inf")], {"x": float("-inf")}, None, 1.5])
    assert json.loads(data) == ["NaN", ["Infinity"], {"x": "-Infinity"}, None, 1.5]
    assert _packed.dumps(float("nan")) == b'"NaN"'


def test_tuples_and_subclasses_are_sent_as_their_json_types() -> None:
    class Color(enum.IntEnum):
        RED = 3

    class Name(str):
        pass

    data = _packed.dumps([(1, 2), Color.RED, Name("n"),
                          collections.OrderedDict(a=1), True])
    assert json.loads(data) == [[1, 2], 3, "n", {"a": 1}, True]


@pytest.mark.parametrize("bad", [{1, 2}, b"bytes", object(), {1: "non-str key"}, 10 ** 400],
                         ids=repr)
def test_values_that_are_not_json_shaped_are_refused_as_in_the_value_form(bad: Any) -> None:
    with pytest.raises((TypeError, OverflowError)):
        _packed.dumps([bad])
    with pytest.raises((TypeError, OverflowError)):  # the Value form refuses the same
        to_value(bad)


def test_a_value_that_is_not_json_shaped_is_named() -> None:
    with pytest.raises(TypeError, match="JSON-shaped"):
        _packed.dumps([1, object()])


def test_the_encoding_is_compact_utf8() -> None:
    assert _packed.dumps([1, "ü", {"a": [True, None]}]) == '[1,"ü",{"a":[true,null]}]'.encode()


def test_large_batches_split_under_the_byte_limit() -> None:
    items = ["x" * 100] * 1000
    batches = _packed.encode_batches(items, 10_000)
    assert len(batches) > 1
    assert all(len(b) <= 10_000 for b in batches)
    assert [v for b in batches for v in json.loads(b)] == items
    assert _packed.encode_batches(["y" * 50_000], 10_000) == [_packed.dumps(["y" * 50_000])]


def test_joining_encoded_inputs_gives_one_array() -> None:
    assert _packed.join([_packed.dumps(1), _packed.dumps("a")]) == b'[1,"a"]'
    assert _packed.join([]) == b"[]"


def test_without_orjson_the_json_module_gives_the_same_text() -> None:
    code = (
        "import sys; sys.modules['orjson'] = None\n"
        f"sys.path.insert(0, {str(SRC)!r})\n"
        "from pprocd import _packed\n"
        "assert _packed._orjson is None\n"
        "print(_packed.dumps([1, 2.5, 'ü', None, True, float('nan'), {'a': (1,)}]).decode())\n"
        "print(_packed.loads_values(b'[1,1e+15,\"x\"]'))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        _packed.dumps([1, 2.5, "ü", None, True, float("nan"), {"a": (1,)}]).decode(),
        "[1, 1000000000000000, 'x']"]


# Checking inputs before they are sent --------------------------------------

def make_signature(*params: Any) -> Signature:
    described = callable_pb2.Callable(name="f")
    for name, kind, required in params:
        described.parameters.add(name=name, type=kind, required=required)
    return Signature(described)


T = callable_pb2
SIGNATURES = [
    make_signature(),
    make_signature(("x", T.PARAMETER_TYPE_ANY, True)),
    make_signature(("n", T.PARAMETER_TYPE_INTEGER, True)),
    make_signature(("x", T.PARAMETER_TYPE_NUMBER, True), ("y", T.PARAMETER_TYPE_NUMBER, False)),
    make_signature(("s", T.PARAMETER_TYPE_STRING, True), ("b", T.PARAMETER_TYPE_BOOLEAN, True),
                   ("l", T.PARAMETER_TYPE_LIST, False), ("d", T.PARAMETER_TYPE_STRUCT, False)),
]
INPUTS = [None, 1, 2.5, 2 ** 60, True, "s", [], [1], [1, 2], [1, 2, 3], ["s", True],
          ["s", True, [1], {"a": 1}], {"x": 1}, {"x": 1, "y": 2}, {"y": 2}, {"z": 1},
          {"s": "a", "b": False}, {"s": 1, "b": False}, [[1]], {}]


@pytest.mark.parametrize("signature", SIGNATURES, ids=lambda s: str(s.params))
def test_inputs_are_checked_as_the_value_form_checks_them(signature: Signature) -> None:
    for obj in INPUTS:
        got, want = signature.check_obj(obj), signature.check(to_value(obj))
        if isinstance(obj, dict) and len(obj) > 1:  # which key is named first may differ
            assert (got is None) == (want is None), obj
        else:
            assert got == want, obj
    problem = signature.first_problem(INPUTS)
    first_bad = next((i for i, obj in enumerate(INPUTS) if signature.check(to_value(obj))), None)
    assert (problem[0] if problem else None) == first_bad


def test_a_nan_input_is_a_string_to_the_server_in_the_packed_form() -> None:
    number = make_signature(("x", T.PARAMETER_TYPE_NUMBER, True))
    assert "must be a number, got string" in (number.check_obj(float("nan")) or "")
    assert make_signature(("x", T.PARAMETER_TYPE_ANY, True)).binds_anything


# Merging a response's results and blocks ------------------------------------

def stats(pid: int) -> item_pb2.ItemStats:
    return item_pb2.ItemStats(wall_us=10, cpu_us=5, max_rss_kib=1, worker_pid=pid)


def test_results_and_blocks_merge_by_index() -> None:
    response = service_pb2.MapResponse(
        results=[item_pb2.ItemResult(index=2, error=item_pb2.ItemError(message="boom")),
                 item_pb2.ItemResult(index=5, seq=0, last=False, value=Value(string_value="m")),
                 item_pb2.ItemResult(index=5, seq=1, last=True, value=Value(number_value=1))],
        blocks=[item_pb2.ResultBlock(first_index=0, count=2, values=b"[10,11]", stats=stats(7)),
                item_pb2.ResultBlock(first_index=3, count=2, values=b"[13,14]",
                                     item_stats=[stats(8), stats(9)]),
                item_pb2.ResultBlock(first_index=6, count=1, values=b"[16]")])
    entries = response_entries(response.results, response.blocks)
    assert [index for index, _ in entries] == [0, 1, 2, 3, 4, 5, 5, 6]
    assert entries[0][1][0] == 10 and entries[1][1][0] == 11
    assert entries[0][1][1] is entries[1][1][1]  # the block's summary, shared
    assert entries[0][1][1].worker_pid == 7
    assert [entries[3][1][1].worker_pid, entries[4][1][1].worker_pid] == [8, 9]
    assert entries[7][1] == (16, None)
    assert entries[2][1].error.message == "boom"
    assert [entries[5][1].seq, entries[6][1].seq] == [0, 1]


def test_a_reconnect_block_gives_one_job_result_per_item_with_consecutive_seqs() -> None:
    response = service_pb2.ReconnectResponse(
        job_id="j", seq=10,
        block=item_pb2.ResultBlock(first_index=4, count=3, values=b'[1,"two",[3]]',
                                   stats=stats(5)))
    events = events_from_proto(response, {"j": "echo"})
    assert all(isinstance(e, JobResult) for e in events)
    assert [(e.seq, e.index, e.value) for e in events] == [(10, 4, 1), (11, 5, "two"),
                                                           (12, 6, [3])]
    assert events[0].result.callable == "echo" and events[0].result.stats.worker_pid == 5


# Choosing the form ----------------------------------------------------------

def test_the_packed_form_is_the_default_unless_the_environment_says_otherwise(monkeypatch) -> None:
    import pprocd

    monkeypatch.delenv("PPROCD_PACKED", raising=False)
    with pprocd.Farm("unix:/nonexistent/pprocd.sock") as farm:  # connects on first call only
        assert farm.packed
        assert farm.options().packed and not farm.options(packed=False).packed
        assert farm.options().item_stats == item_pb2.ITEM_STATS_UNSPECIFIED
        assert farm.options(item_stats="per_item").item_stats == item_pb2.ITEM_STATS_PER_ITEM
    monkeypatch.setenv("PPROCD_PACKED", "0")
    with pprocd.Farm("unix:/nonexistent/pprocd.sock") as farm:
        assert not farm.packed
        assert farm.options(packed=True).packed
    with pprocd.Farm("unix:/nonexistent/pprocd.sock", packed=True, item_stats="none") as farm:
        assert farm.packed and farm.options().item_stats == item_pb2.ITEM_STATS_NONE
    with pytest.raises(ValueError):
        pprocd.Farm("unix:/nonexistent/pprocd.sock", item_stats="each")
