"""Exchange: store_data(channel) runs for every value that arrives, for
managed calls, start() and added Start channels; finish() waits for all."""

import pytest

import pprocd

N = 5


class MyExchange(pprocd.Exchange):
    """The tutorial's exchange: stores each [i, j, result] in a grid."""

    def store_data(self, channel):
        i, j, result = channel.receive()
        self.D[i * N + j] = result


def test_subclass_stores_managed_results(farm):
    exchange = MyExchange(farm, limit=3)
    results = exchange.D = [0] * N * N
    calc = exchange.manage("calculate_tagged")
    for i in range(N):
        for j in range(N):
            calc(i, j, N)
    exchange.finish()
    assert results == list(range(N * N))


def test_start_runs_channel_callables_continuously(channels):
    exchange = MyExchange(channels, limit=2, continuous=True)
    results = exchange.D = [0] * N * N
    for i in range(N):
        exchange.start("calculate_row", i, N)
    exchange.finish()
    assert results == list(range(N * N))


def test_added_start_channels_feed_store_data(channels):
    class Collect(pprocd.Exchange):
        def store_data(self, channel):
            self.got.append((channel.callable, channel.receive()))

    exchange = Collect(channels)
    exchange.got = []
    first = channels.start("rows", 3)
    second = channels.start("countdown")
    exchange.add(first)
    exchange.add(second)
    second.send(2)
    second.send(1)  # countdown stops after sending 0
    exchange.finish()
    assert sorted(exchange.got) == [("countdown", 0), ("countdown", 1),
                                    ("rows", 0), ("rows", 1), ("rows", 2)]
    assert exchange.active() == []


def test_ready_and_receive_without_store_data(farm):
    with farm.Exchange() as exchange:
        square = exchange.manage("square")
        for x in range(6):
            square(x)
        seen = []
        while exchange.active():
            for channel in exchange.ready():
                seen.append(channel.receive())
        assert sorted(seen) == [x * x for x in range(6)]
        exchange.finish()  # nothing left: returns at once
        square(7)
        with pytest.raises(NotImplementedError, match="store_data"):
            exchange.finish()


def test_a_failed_input_raises_from_receive_in_store_data(farm):
    class Careful(pprocd.Exchange):
        def store_data(self, channel):
            try:
                self.values.append(channel.receive())
            except pprocd.ItemError as error:
                self.errors.append(error.kind)

    exchange = Careful(farm)
    exchange.values, exchange.errors = [], []
    chaos = exchange.manage("chaos")
    for action in ("ok", "crash", "ok"):
        chaos(action)
    exchange.finish()
    assert exchange.values == ["ok", "ok"] and exchange.errors == ["CRASHED"]
