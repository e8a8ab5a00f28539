"""pprocd.pprocess without a server: pprocess's names and signatures, and
what each callable becomes (a function that returns its result, or one that
takes a channel first)."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any, List

import pytest

import pprocd
import pprocd.pprocess as pprocess
from pprocd.pprocess import _target

NOWHERE = pprocd.Farm("unix:/nonexistent/pprocd.sock")


def calculate(i, j):
    return i * 10 + j


def channel_calculate(ch, i, j):
    ch.send((i, j, i * 10 + j))


class _Recorder:
    def __init__(self) -> None:
        self.sent: List[Any] = []

    def send(self, value: Any) -> None:
        self.sent.append(value)


def test_pprocess_names_are_there() -> None:
    for name in ("pmap", "Map", "Queue", "Exchange", "MakeParallel", "MakeReusable", "start",
                 "create", "exit", "BackgroundCallable", "BackgroundQueue", "PersistentQueue"):
        assert hasattr(pprocess, name), name
    assert list(inspect.signature(pprocess.pmap).parameters)[:3] == ["callable", "sequence",
                                                                     "limit"]
    assert list(inspect.signature(pprocess.Exchange).parameters)[:5] == [
        "channels", "limit", "reuse", "continuous", "autoclose"]


def test_make_parallel_functions_return_results_and_others_take_a_channel() -> None:
    parallel = _target(pprocess.MakeParallel(calculate))
    reusable = _target(pprocess.MakeReusable(calculate))
    channel = _target(channel_calculate)
    assert isinstance(parallel, pprocd.FunctionRef) and not parallel.channel
    assert isinstance(reusable, pprocd.FunctionRef) and not reusable.channel
    assert isinstance(channel, pprocd.FunctionRef) and channel.channel
    assert channel.call_item((1, 2), {}) == [1, 2]
    assert _target("calculate") == "calculate"


def test_make_parallel_called_here_sends_the_result_on_the_channel() -> None:
    recorder = _Recorder()
    pprocess.MakeParallel(calculate)(recorder, 1, 2)
    assert recorder.sent == [12]


def test_a_lambda_is_refused_by_manage_and_start() -> None:
    exchange = pprocess.Exchange(limit=2, farm=NOWHERE)
    with pytest.raises(TypeError, match="is a lambda"):
        exchange.manage(pprocess.MakeParallel(lambda x: x))
    with pytest.raises(TypeError, match="is a lambda"):
        exchange.start(lambda ch: None)


def test_reuse_zero_is_a_new_process_per_call_as_in_pprocess() -> None:
    assert not pprocess.Map(limit=2, farm=NOWHERE).reuse
    assert pprocess.Queue(limit=2, reuse=1, farm=NOWHERE).reuse
    assert pprocess.Queue(continuous=1, farm=NOWHERE).continuous


def test_a_channel_functions_null_return_is_not_a_result() -> None:
    queue = pprocess.Queue(farm=NOWHERE)
    channel_slot = SimpleNamespace(target=_target(channel_calculate))
    parallel_slot = SimpleNamespace(target=_target(pprocess.MakeParallel(calculate)))
    returned_none = SimpleNamespace(error=None, value=None)
    returned_value = SimpleNamespace(error=None, value=3)
    assert not queue._keeps_final(channel_slot, returned_none)
    assert queue._keeps_final(channel_slot, returned_value)
    assert queue._keeps_final(parallel_slot, returned_none)


def test_what_cannot_be_done_says_so() -> None:
    with pytest.raises(NotImplementedError, match="cannot fork the calling program"):
        pprocess.create()
    with pytest.raises(TypeError, match="unexpected keyword"):
        pprocess.pmap(calculate, [], nonsense=1)
    with pytest.raises(TypeError, match="takes no channels"):
        pprocess.Map([object()], farm=NOWHERE)  # type: ignore[list-item]
