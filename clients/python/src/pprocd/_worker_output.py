"""A Python worker's standard output and error: memory files the server
reads too (worker/output_capture.h), taken after each item as its logs.

The template puts the two memory files on descriptors 1 and 2 before the
worker runs. :func:`install_streams` then binds ``sys.stdout`` and
``sys.stderr`` to line-buffered streams on them that raise a flag when
written to, so that an item that printed nothing costs no system call to
tell. Writes that bypass them (``os.write(1, ...)``, a subprocess, C code)
are found when the results are next sent (see the worker session).

Belongs to the worker process's one thread.
"""

from __future__ import annotations

import io
import os
import sys

from . import _wire

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Tuple

    # A LogRecord: (stream, data, dropped_bytes).
    LogRecord = Tuple[int, bytes, int]
    # prepare_streams(): (flag, stdout, stderr).
    Streams = Tuple["OutputFlag", "_FlaggedText", "_FlaggedText"]

# A LogRecord keeps at most this much: the first and the last half.
LOG_KEEP_BYTES = 64 << 10
_TAIL_BYTES = 4096
_TAIL_LINES = 20


class OutputFlag:
    """Set when the item running wrote through sys.stdout or sys.stderr."""

    __slots__ = ("written",)

    def __init__(self) -> None:
        self.written = False


class _FlaggedText(io.TextIOWrapper):
    """A text stream that sets ``flag.written`` on every write."""

    flag = OutputFlag()

    def write(self, text: str) -> int:
        self.flag.written = True
        return super().write(text)

    def writelines(self, lines):  # type: ignore[no-untyped-def]
        self.flag.written = True
        return super().writelines(lines)


def prepare_streams() -> "Streams":
    """Builds, without installing them, the flagged, line-buffered streams
    on descriptors 1 and 2 (the text encoding and error handler of the
    current ``sys.stdout`` and ``sys.stderr`` kept), and the flag they
    share. A template builds them once: each worker it forks installs its
    own copy, so that no worker pays for building them."""
    flag = OutputFlag()
    streams = []
    for name, fd in (("stdout", 1), ("stderr", 2)):
        old = getattr(sys, name)
        encoding = getattr(old, "encoding", None) or "utf-8"
        errors = getattr(old, "errors", None) or "backslashreplace"
        raw = io.FileIO(fd, "w", closefd=False)
        streams.append(_FlaggedText(io.BufferedWriter(raw), encoding=encoding, errors=errors,
                                    line_buffering=True))
    return flag, streams[0], streams[1]


def install_streams(prepared: "Optional[Streams]" = None) -> OutputFlag:
    """Binds sys.stdout and sys.stderr to ``prepared`` (from
    :func:`prepare_streams`; built now when None); returns their flag."""
    flag, stdout, stderr = prepared if prepared is not None else prepare_streams()
    _FlaggedText.flag = flag
    sys.stdout = stdout
    sys.stderr = stderr
    return flag


def flush_streams() -> None:
    """Flushes sys.stdout and sys.stderr, whatever the item left there."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # A stream the function replaced and broke.
            pass


def _size(fd: int) -> int:
    """The size of output file ``fd`` (0 when it is no file: not captured)."""
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    except OSError:
        return 0


def output_pending() -> bool:
    """Whether descriptor 1 or 2 holds output not yet taken."""
    return _size(1) > 0 or _size(2) > 0


def _read(fd: int, offset: int, length: int) -> bytes:
    parts = []
    while length > 0:
        try:
            data = os.pread(fd, length, offset)
        except OSError:  # Not a memory file (a runtime run by hand).
            break
        if not data:
            break
        parts.append(data)
        offset += len(data)
        length -= len(data)
    return b"".join(parts)


def take_output(fd: int, stream: int) -> Optional[LogRecord]:
    """What output file ``fd`` holds, as a bounded LogRecord of ``stream``
    (the first and last LOG_KEEP_BYTES / 2 when larger), and empties the
    file; None when it holds nothing."""
    size = _size(fd)
    if size <= 0:
        return None
    dropped = 0
    if size <= LOG_KEEP_BYTES:
        data = _read(fd, 0, size)
    else:
        half = LOG_KEEP_BYTES // 2
        data = _read(fd, 0, half) + _read(fd, size - half, half)
        dropped = size - LOG_KEEP_BYTES
    # Writers append (O_APPEND): they go on at offset 0.
    try:
        os.ftruncate(fd, 0)
    except OSError:
        pass
    return (stream, data, dropped)


def take_standard_output(flag: OutputFlag) -> List[LogRecord]:
    """What the item wrote to stdout and stderr since the last call, as
    LogRecords (none when it wrote nothing); clears ``flag``."""
    flush_streams()
    flag.written = False
    records = []
    for fd, stream in ((1, _wire.LOG_STREAM_STDOUT), (2, _wire.LOG_STREAM_STDERR)):
        record = take_output(fd, stream)
        if record is not None:
            records.append(record)
    return records


def stderr_tail() -> str:
    """The last lines written to stderr (the file is not emptied)."""
    flush_streams()
    size = _size(2)
    if size <= 0:
        return ""
    length = min(size, _TAIL_BYTES)
    text = _read(2, size - length, length).decode("utf-8", "replace").rstrip("\n")
    return "\n".join(text.split("\n")[-_TAIL_LINES:])


__all__ = ["LOG_KEEP_BYTES", "OutputFlag", "flush_streams", "install_streams", "prepare_streams",
           "output_pending", "stderr_tail", "take_output", "take_standard_output"]
