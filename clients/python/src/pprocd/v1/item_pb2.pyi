from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ItemStatsMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ITEM_STATS_UNSPECIFIED: _ClassVar[ItemStatsMode]
    ITEM_STATS_PER_ITEM: _ClassVar[ItemStatsMode]
    ITEM_STATS_PER_CHUNK: _ClassVar[ItemStatsMode]
    ITEM_STATS_NONE: _ClassVar[ItemStatsMode]

class Isolation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ISOLATION_UNSPECIFIED: _ClassVar[Isolation]
    ISOLATION_POOLED: _ClassVar[Isolation]
    ISOLATION_FRESH: _ClassVar[Isolation]

class ErrorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_KIND_UNSPECIFIED: _ClassVar[ErrorKind]
    ERROR_KIND_RAISED: _ClassVar[ErrorKind]
    ERROR_KIND_CRASHED: _ClassVar[ErrorKind]
    ERROR_KIND_TIMED_OUT: _ClassVar[ErrorKind]
    ERROR_KIND_CANCELLED: _ClassVar[ErrorKind]
    ERROR_KIND_INVALID_ARGUMENT: _ClassVar[ErrorKind]
    ERROR_KIND_MEMORY_LIMIT: _ClassVar[ErrorKind]
    ERROR_KIND_CPU_LIMIT: _ClassVar[ErrorKind]

class LogStream(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOG_STREAM_UNSPECIFIED: _ClassVar[LogStream]
    LOG_STREAM_STDOUT: _ClassVar[LogStream]
    LOG_STREAM_STDERR: _ClassVar[LogStream]
ITEM_STATS_UNSPECIFIED: ItemStatsMode
ITEM_STATS_PER_ITEM: ItemStatsMode
ITEM_STATS_PER_CHUNK: ItemStatsMode
ITEM_STATS_NONE: ItemStatsMode
ISOLATION_UNSPECIFIED: Isolation
ISOLATION_POOLED: Isolation
ISOLATION_FRESH: Isolation
ERROR_KIND_UNSPECIFIED: ErrorKind
ERROR_KIND_RAISED: ErrorKind
ERROR_KIND_CRASHED: ErrorKind
ERROR_KIND_TIMED_OUT: ErrorKind
ERROR_KIND_CANCELLED: ErrorKind
ERROR_KIND_INVALID_ARGUMENT: ErrorKind
ERROR_KIND_MEMORY_LIMIT: ErrorKind
ERROR_KIND_CPU_LIMIT: ErrorKind
LOG_STREAM_UNSPECIFIED: LogStream
LOG_STREAM_STDOUT: LogStream
LOG_STREAM_STDERR: LogStream

class CallOptions(_message.Message):
    __slots__ = ("limit", "chunksize", "timeout_ms", "isolation", "expected_inputs", "item_stats", "packed")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CHUNKSIZE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    ISOLATION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_INPUTS_FIELD_NUMBER: _ClassVar[int]
    ITEM_STATS_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    limit: int
    chunksize: int
    timeout_ms: int
    isolation: Isolation
    expected_inputs: int
    item_stats: ItemStatsMode
    packed: bool
    def __init__(self, limit: _Optional[int] = ..., chunksize: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., isolation: _Optional[_Union[Isolation, str]] = ..., expected_inputs: _Optional[int] = ..., item_stats: _Optional[_Union[ItemStatsMode, str]] = ..., packed: _Optional[bool] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("kind", "message", "signal", "exit_code", "stderr_tail")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    STDERR_TAIL_FIELD_NUMBER: _ClassVar[int]
    kind: ErrorKind
    message: str
    signal: str
    exit_code: int
    stderr_tail: str
    def __init__(self, kind: _Optional[_Union[ErrorKind, str]] = ..., message: _Optional[str] = ..., signal: _Optional[str] = ..., exit_code: _Optional[int] = ..., stderr_tail: _Optional[str] = ...) -> None: ...

class ItemStats(_message.Message):
    __slots__ = ("wall_us", "cpu_us", "max_rss_kib", "worker_pid", "start_unix_us")
    WALL_US_FIELD_NUMBER: _ClassVar[int]
    CPU_US_FIELD_NUMBER: _ClassVar[int]
    MAX_RSS_KIB_FIELD_NUMBER: _ClassVar[int]
    WORKER_PID_FIELD_NUMBER: _ClassVar[int]
    START_UNIX_US_FIELD_NUMBER: _ClassVar[int]
    wall_us: int
    cpu_us: int
    max_rss_kib: int
    worker_pid: int
    start_unix_us: int
    def __init__(self, wall_us: _Optional[int] = ..., cpu_us: _Optional[int] = ..., max_rss_kib: _Optional[int] = ..., worker_pid: _Optional[int] = ..., start_unix_us: _Optional[int] = ...) -> None: ...

class ItemResult(_message.Message):
    __slots__ = ("index", "value", "data", "error", "stats", "seq", "last", "logs")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    index: int
    value: _struct_pb2.Value
    data: bytes
    error: ItemError
    stats: ItemStats
    seq: int
    last: bool
    logs: _containers.RepeatedCompositeFieldContainer[LogRecord]
    def __init__(self, index: _Optional[int] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., data: _Optional[bytes] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ..., stats: _Optional[_Union[ItemStats, _Mapping]] = ..., seq: _Optional[int] = ..., last: _Optional[bool] = ..., logs: _Optional[_Iterable[_Union[LogRecord, _Mapping]]] = ...) -> None: ...

class ResultBlock(_message.Message):
    __slots__ = ("first_index", "count", "values", "stats", "item_stats")
    FIRST_INDEX_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    ITEM_STATS_FIELD_NUMBER: _ClassVar[int]
    first_index: int
    count: int
    values: bytes
    stats: ItemStats
    item_stats: _containers.RepeatedCompositeFieldContainer[ItemStats]
    def __init__(self, first_index: _Optional[int] = ..., count: _Optional[int] = ..., values: _Optional[bytes] = ..., stats: _Optional[_Union[ItemStats, _Mapping]] = ..., item_stats: _Optional[_Iterable[_Union[ItemStats, _Mapping]]] = ...) -> None: ...

class LogRecord(_message.Message):
    __slots__ = ("stream", "data", "dropped_bytes")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DROPPED_BYTES_FIELD_NUMBER: _ClassVar[int]
    stream: LogStream
    data: bytes
    dropped_bytes: int
    def __init__(self, stream: _Optional[_Union[LogStream, str]] = ..., data: _Optional[bytes] = ..., dropped_bytes: _Optional[int] = ...) -> None: ...
