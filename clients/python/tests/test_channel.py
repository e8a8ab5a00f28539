"""farm.start(...) -> Channel over the Start RPC: two-way talk with one
running callable, end of input, return value, failure and cancel."""

import pytest

import pprocd
from conftest import EVENT_LIMIT_S, no_work, wait_until


def test_countdown_answers_each_value_then_returns(channels):
    with channels.start("countdown") as channel:
        channel.send(3)
        assert channel.receive() == 2
        channel.send(10)
        assert channel.receive() == 9
        channel.send(1)
        assert channel.receive() == 0  # it returns after sending 0
        with pytest.raises(EOFError):
            channel.receive()
        assert channel.result() is None
        assert channel.done()


def test_accumulate_sums_until_end_of_input(channels):
    channel = channels.start("accumulate")
    for number in range(1, 101):
        channel.send(number)
    channel.close()  # end of input: the callable returns
    assert channel.result(timeout=EVENT_LIMIT_S) == 5050
    with pytest.raises(EOFError):
        channel.receive()
    with pytest.raises(ValueError, match="input is closed"):
        channel.send(1)


def test_sent_values_can_be_iterated_until_the_end(channels):
    channel = channels.start("rows", 5)
    assert list(channel) == [0, 1, 2, 3, 4]
    assert channel.final_result().stats.worker_pid > 0


def test_a_failing_callable_raises_its_error_at_receive(channels):
    channel = channels.start("accumulate")
    channel.send("not a number")
    with pytest.raises(pprocd.ItemError) as caught:
        channel.receive()
    assert "not a number" in str(caught.value)
    with pytest.raises(pprocd.ItemError):
        channel.result()


def test_a_crash_is_an_item_crashed_with_its_signal(channels):
    channel = channels.start("chaos", "crash")
    with pytest.raises(pprocd.ItemCrashed) as caught:
        channel.result()
    assert caught.value.signal == "SIGSEGV"


def test_receive_timeout_and_cancel_kill_the_callable(channels):
    channel = channels.start("countdown")
    with pytest.raises(TimeoutError):
        channel.receive(timeout=0.05)  # it sends only when it receives
    wait_until(lambda: channels.status().items_running >= 1, "the channel to run")
    channel.cancel()
    with pytest.raises(pprocd.ItemCancelled):
        channel.receive()
    wait_until(lambda: no_work(channels), "the cancelled callable's worker to be free")


def test_leaving_the_with_block_cancels_an_unfinished_channel(channels):
    with channels.start("accumulate") as channel:
        channel.send(1)
    with pytest.raises(pprocd.ItemCancelled):
        channel.result()


def test_start_checks_arguments_and_names(channels):
    with pytest.raises(pprocd.InvalidItem, match="count"):
        channels.start("rows", "three")
    channel = channels.start("no_such_callable")
    with pytest.raises(pprocd.FarmError) as caught:
        channel.result()
    assert caught.value.code_name == "NOT_FOUND"


def test_fresh_channel_runs_in_a_new_process(channels):
    channel = channels.open_channel("call_count", reuse=False)
    assert channel.result() == 1
