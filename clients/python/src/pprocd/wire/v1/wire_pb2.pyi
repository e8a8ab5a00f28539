from google.protobuf import struct_pb2 as _struct_pb2
from pprocd.v1 import callable_pb2 as _callable_pb2
from pprocd.v1 import item_pb2 as _item_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TemplateRequest(_message.Message):
    __slots__ = ("spawn", "kill")
    SPAWN_FIELD_NUMBER: _ClassVar[int]
    KILL_FIELD_NUMBER: _ClassVar[int]
    spawn: SpawnWorker
    kill: KillWorker
    def __init__(self, spawn: _Optional[_Union[SpawnWorker, _Mapping]] = ..., kill: _Optional[_Union[KillWorker, _Mapping]] = ...) -> None: ...

class SpawnWorker(_message.Message):
    __slots__ = ("worker_id", "callable")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    callable: str
    def __init__(self, worker_id: _Optional[int] = ..., callable: _Optional[str] = ...) -> None: ...

class KillWorker(_message.Message):
    __slots__ = ("worker_id",)
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    def __init__(self, worker_id: _Optional[int] = ...) -> None: ...

class TemplateEvent(_message.Message):
    __slots__ = ("spawned", "exited", "started")
    SPAWNED_FIELD_NUMBER: _ClassVar[int]
    EXITED_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    spawned: WorkerSpawned
    exited: WorkerExited
    started: TemplateStarted
    def __init__(self, spawned: _Optional[_Union[WorkerSpawned, _Mapping]] = ..., exited: _Optional[_Union[WorkerExited, _Mapping]] = ..., started: _Optional[_Union[TemplateStarted, _Mapping]] = ...) -> None: ...

class TemplateStarted(_message.Message):
    __slots__ = ("error",)
    ERROR_FIELD_NUMBER: _ClassVar[int]
    error: str
    def __init__(self, error: _Optional[str] = ...) -> None: ...

class WorkerSpawned(_message.Message):
    __slots__ = ("worker_id", "pid")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    pid: int
    def __init__(self, worker_id: _Optional[int] = ..., pid: _Optional[int] = ...) -> None: ...

class WorkerExited(_message.Message):
    __slots__ = ("worker_id", "pid", "exit_code", "signal", "spawn_error")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    SPAWN_ERROR_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    pid: int
    exit_code: int
    signal: int
    spawn_error: str
    def __init__(self, worker_id: _Optional[int] = ..., pid: _Optional[int] = ..., exit_code: _Optional[int] = ..., signal: _Optional[int] = ..., spawn_error: _Optional[str] = ...) -> None: ...

class TaskFrame(_message.Message):
    __slots__ = ("task_id", "callable", "packed_inputs", "packed_results", "item_stats", "report_each", "channel_open", "channel_input", "limits")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    PACKED_INPUTS_FIELD_NUMBER: _ClassVar[int]
    PACKED_RESULTS_FIELD_NUMBER: _ClassVar[int]
    ITEM_STATS_FIELD_NUMBER: _ClassVar[int]
    REPORT_EACH_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_OPEN_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_INPUT_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    task_id: int
    callable: str
    packed_inputs: bytes
    packed_results: bool
    item_stats: _item_pb2.ItemStatsMode
    report_each: bool
    channel_open: bool
    channel_input: ChannelInput
    limits: _callable_pb2.CallableLimits
    def __init__(self, task_id: _Optional[int] = ..., callable: _Optional[str] = ..., packed_inputs: _Optional[bytes] = ..., packed_results: _Optional[bool] = ..., item_stats: _Optional[_Union[_item_pb2.ItemStatsMode, str]] = ..., report_each: _Optional[bool] = ..., channel_open: _Optional[bool] = ..., channel_input: _Optional[_Union[ChannelInput, _Mapping]] = ..., limits: _Optional[_Union[_callable_pb2.CallableLimits, _Mapping]] = ...) -> None: ...

class ChannelInput(_message.Message):
    __slots__ = ("messages", "end")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    end: bool
    def __init__(self, messages: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., end: _Optional[bool] = ...) -> None: ...

class ResultFrame(_message.Message):
    __slots__ = ("task_id", "results", "blocks")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    task_id: int
    results: _containers.RepeatedCompositeFieldContainer[_item_pb2.ItemResult]
    blocks: _containers.RepeatedCompositeFieldContainer[_item_pb2.ResultBlock]
    def __init__(self, task_id: _Optional[int] = ..., results: _Optional[_Iterable[_Union[_item_pb2.ItemResult, _Mapping]]] = ..., blocks: _Optional[_Iterable[_Union[_item_pb2.ResultBlock, _Mapping]]] = ...) -> None: ...
