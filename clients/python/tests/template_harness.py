"""A stand-in for the pprocd server's side of the Python template
(pprocd._template): starts a template for a module as the server does, asks
it for workers, and talks to them over the worker wire
(proto/pprocd/wire/v1/wire.proto).

Nothing it starts outlives it: close() closes the control socket (the
template then kills and reaps its workers) and waits for the template; the
template also dies with the thread that started it (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import collections
import os
import pathlib
import select
import socket
import subprocess
import sys
import time
from typing import Any, Deque, Dict, List, Optional, Sequence, Tuple

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

from pprocd import _packed  # noqa: E402
from pprocd._template import BOOTSTRAP, CONTROL_FD  # noqa: E402
from pprocd._values import from_value, to_value  # noqa: E402
from pprocd.v1 import item_pb2  # noqa: E402
from pprocd.wire.v1 import wire_pb2  # noqa: E402

# Bounds for waits on events that come at once on a healthy machine: only a
# hang reaches them.
EVENT_LIMIT_S = 60.0
# Puts the inherited socket on descriptor 3, then runs the template.
_ON_FD3 = ("import os,sys;fd=int(sys.argv[1]);os.dup2(fd,%d);os.close(fd);"
           "os.execv(sys.argv[2],sys.argv[2:])" % CONTROL_FD)


class Worker:
    """One worker's task socket and output files, as the server holds them."""

    def __init__(self, worker_id: int, pid: int, fds: Sequence[int]) -> None:
        self.worker_id = worker_id
        self.pid = pid
        self.sock = socket.socket(fileno=fds[0])
        self.sock.settimeout(EVENT_LIMIT_S)
        self.stdout_fd = fds[1]
        self.stderr_fd = fds[2]
        self._buffer = bytearray()
        self._next_task = 1

    def close(self) -> None:
        self.sock.close()
        for fd in (self.stdout_fd, self.stderr_fd):
            os.close(fd)

    def send_frame(self, frame: wire_pb2.TaskFrame) -> None:
        data = frame.SerializeToString()
        self.sock.sendall(len(data).to_bytes(4, "little") + data)

    def send_task(self, callable_name: str, items: Sequence[Any], packed: bool = True,
                  item_stats: int = item_pb2.ITEM_STATS_PER_CHUNK, report_each: bool = False,
                  channel_open: bool = False, packed_inputs: Optional[bytes] = None) -> int:
        """Sends a task; returns its id."""
        task_id = self._next_task
        self._next_task += 1
        self.send_frame(wire_pb2.TaskFrame(
            task_id=task_id, callable=callable_name,
            packed_inputs=_packed.dumps(list(items)) if packed_inputs is None else packed_inputs,
            packed_results=packed, item_stats=item_stats,  # type: ignore[arg-type]
            report_each=report_each, channel_open=channel_open))
        return task_id

    def send_channel_input(self, task_id: int, messages: Sequence[Any], end: bool = False) -> None:
        frame = wire_pb2.TaskFrame(task_id=task_id)
        frame.channel_input.end = end
        for message in messages:
            frame.channel_input.messages.append(to_value(message))
        self.send_frame(frame)

    def read_frame(self) -> Optional[wire_pb2.ResultFrame]:
        """The next ResultFrame, or None at the end of the stream."""
        buffer = self._buffer
        while True:
            if len(buffer) >= 4:
                length = int.from_bytes(buffer[:4], "little")
                if len(buffer) >= 4 + length:
                    frame = wire_pb2.ResultFrame.FromString(bytes(buffer[4:4 + length]))
                    del buffer[:4 + length]
                    return frame
            data = self.sock.recv(1 << 20)
            if not data:
                return None
            buffer += data

    def results(self, count: int, frames: Optional[List[wire_pb2.ResultFrame]] = None
                ) -> Dict[int, Any]:
        """Reads frames until items 0..count-1 all have their last result;
        returns each item's outcome: a value, or its last ItemResult when it
        is not a plain value of a block. ``frames`` gets every frame read."""
        outcomes: Dict[int, Any] = {}
        while len(outcomes) < count:
            frame = self.read_frame()
            assert frame is not None, f"the worker ended with {len(outcomes)} of {count} results"
            if frames is not None:
                frames.append(frame)
            for block in frame.blocks:
                values = _packed.loads_values(block.values)
                assert len(values) == block.count
                for offset, value in enumerate(values):
                    outcomes[block.first_index + offset] = value
            for result in frame.results:
                if result.last:
                    outcomes[result.index] = result
        return outcomes

    def run(self, callable_name: str, items: Sequence[Any], **options: Any) -> List[Any]:
        """Runs a task and returns its outcomes in order (see results())."""
        self.send_task(callable_name, items, **options)
        outcomes = self.results(len(items))
        return [outcomes[index] for index in range(len(items))]

    def output(self, fd: int) -> bytes:
        return os.pread(fd, 1 << 20, 0)


class FakeServer:
    """Starts the template of ``module`` (its file ``module_file``) with
    ``sys_path`` first on its import path; with an empty ``module``, a spare
    that waits for name_module()."""

    def __init__(self, module: str, module_file: str, sys_path: Sequence[str],
                 stderr: Optional[int] = None) -> None:
        self.control, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with child:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _ON_FD3, str(child.fileno()), sys.executable, "-I", "-c",
                 BOOTSTRAP, str(os.getpid()), *sys_path, str(SRC)],
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, stderr=stderr)
        if module:
            self.name_module(module, module_file)
        self.control.settimeout(EVENT_LIMIT_S)
        self._events: Deque[Tuple[wire_pb2.TemplateEvent, List[int]]] = collections.deque()
        self.workers: List[Worker] = []
        self._next_worker = 1

    def name_module(self, module: str, module_file: str) -> None:
        """Sends the template's first message: the module to import (a
        FakeServer made with an empty ``module`` is a spare until then)."""
        self.control.send(os.fsencode(module) + b"\0" + os.fsencode(module_file))

    def close(self) -> None:
        """Closes the control socket and waits for the template to end."""
        for worker in self.workers:
            worker.close()
        self.workers = []
        self.control.close()
        try:
            self.process.wait(EVENT_LIMIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def __enter__(self) -> "FakeServer":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _receive(self) -> Tuple[wire_pb2.TemplateEvent, List[int]]:
        data, fds, _, _ = socket.recv_fds(self.control, 4096, 3)
        if not data:
            raise EOFError("the template closed its control socket")
        return wire_pb2.TemplateEvent.FromString(data), list(fds)

    def event(self, kind: str, worker_id: Optional[int] = None
              ) -> Tuple[wire_pb2.TemplateEvent, List[int]]:
        """The next event of ``kind`` (for ``worker_id``); others are kept."""
        for queued in list(self._events):
            if _matches(queued[0], kind, worker_id):
                self._events.remove(queued)
                return queued
        while True:
            event, fds = self._receive()
            if _matches(event, kind, worker_id):
                return event, fds
            self._events.append((event, fds))

    def started(self) -> str:
        """The error of the started event ("" when the module imported)."""
        event, _ = self.event("started")
        return event.started.error

    def request(self, request: wire_pb2.TemplateRequest) -> None:
        self.control.send(request.SerializeToString())

    def spawn(self, callable_name: str = "") -> Worker:
        """A new worker; ``callable_name``: the one function it will run
        (SpawnWorker.callable, as the server names a FRESH worker's)."""
        worker_id = self._next_worker
        self._next_worker += 1
        self.request(wire_pb2.TemplateRequest(spawn=wire_pb2.SpawnWorker(
            worker_id=worker_id, callable=callable_name)))
        event, fds = self.event("spawned", worker_id)
        assert len(fds) == 3, fds
        worker = Worker(worker_id, event.spawned.pid, fds)
        self.workers.append(worker)
        return worker

    def kill(self, worker: Worker) -> None:
        self.request(wire_pb2.TemplateRequest(kill=wire_pb2.KillWorker(
            worker_id=worker.worker_id)))

    def exited(self, worker: Worker) -> wire_pb2.WorkerExited:
        event, _ = self.event("exited", worker.worker_id)
        return event.exited


def _matches(event: wire_pb2.TemplateEvent, kind: str, worker_id: Optional[int]) -> bool:
    if event.WhichOneof("event") != kind:
        return False
    return worker_id is None or getattr(event, kind).worker_id == worker_id


def process_gone(pid: int) -> bool:
    """Whether ``pid`` names no running process (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_gone(pids: Sequence[int]) -> bool:
    """Waits until every process of ``pids`` has ended; False if one is
    still running after EVENT_LIMIT_S."""
    deadline = time.monotonic() + EVENT_LIMIT_S
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            poller.poll(max(0.0, deadline - time.monotonic()) * 1000)
        finally:
            os.close(fd)
    return all(process_gone(pid) for pid in pids)


__all__ = ["EVENT_LIMIT_S", "FakeServer", "Worker", "from_value", "process_gone", "wait_gone"]
