"""What callables write to stdout/stderr reaches the user as LogRecords on
results, errors, channels and futures, and through an optional callback;
the client never prints it unasked."""

import pprocd


def test_results_carry_their_output(channels, capfd):
    results = channels.Map()
    write = results.manage("write_output")
    write("hello\n", "stdout", 2)
    write("warning\n", "stderr")
    first, second = results.results()
    assert [(r.stream, r.data) for r in first.logs] == [("stdout", b"hello\nhello\n")]
    assert [(r.stream, r.text) for r in second.logs] == [("stderr", "warning\n")]
    assert second.logs[0].callable == "write_output" and second.logs[0].index == 1
    out, err = capfd.readouterr()
    assert "hello" not in out + err and "warning" not in out + err


def test_the_callback_gets_every_record(server, capfd):
    records = []
    with pprocd.Farm(server.address, on_log=records.append) as farm:
        try:
            assert farm.pmap("write_output", [["a\n", "stdout"], ["b\n", "stderr"]]) == [2, 2]
        except pprocd.FarmError as error:
            from conftest import skip_unless_supported
            skip_unless_supported(error, "write_output")
        channel = farm.start("write_output", "c\n")
        assert channel.result() == 2
        assert [r.data for r in channel.logs] == [b"c\n"]
        with farm.executor() as executor:
            future = executor.submit("write_output", "d\n", "stderr")
            assert future.result() == 2
            assert [(r.stream, r.data) for r in future.logs] == [("stderr", b"d\n")]
    assert sorted(r.data for r in records) == [b"a\n", b"b\n", b"c\n", b"d\n"]
    out, err = capfd.readouterr()
    assert not any(letter + "\n" in out + err for letter in "abcd")


def test_a_crash_keeps_what_was_written_before_it(channels):
    results = channels.Map()
    results.manage("chaos")("crash")
    (result,) = results.results()
    assert isinstance(result.error, pprocd.ItemCrashed)
    assert "crashing with SIGSEGV" in result.error.stderr_tail


def test_a_raising_callback_does_not_disturb_the_call(server, caplog):
    def broken(record):
        raise RuntimeError("callback bug")

    with pprocd.Farm(server.address, on_log=broken) as farm:
        results = farm.Map()
        write = results.manage("write_output")
        try:
            for _ in range(3):
                write("x\n")
            assert list(results) == [2, 2, 2]
        except pprocd.FarmError as error:
            from conftest import skip_unless_supported
            skip_unless_supported(error, "write_output")
    assert "on_log callback raised" in caplog.text
