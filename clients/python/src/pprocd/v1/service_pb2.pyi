import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from pprocd.v1 import callable_pb2 as _callable_pb2
from pprocd.v1 import item_pb2 as _item_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
    JOB_STATE_INTERRUPTED: _ClassVar[JobState]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState
JOB_STATE_INTERRUPTED: JobState

class StartRequest(_message.Message):
    __slots__ = ("callable", "arguments", "options", "message", "packed_arguments", "packed_messages", "function")
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PACKED_ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    PACKED_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    callable: str
    arguments: _struct_pb2.Value
    options: _item_pb2.CallOptions
    message: _struct_pb2.Value
    packed_arguments: bytes
    packed_messages: bytes
    function: _callable_pb2.PythonFunction
    def __init__(self, callable: _Optional[str] = ..., arguments: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., options: _Optional[_Union[_item_pb2.CallOptions, _Mapping]] = ..., message: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., packed_arguments: _Optional[bytes] = ..., packed_messages: _Optional[bytes] = ..., function: _Optional[_Union[_callable_pb2.PythonFunction, _Mapping]] = ...) -> None: ...

class StartResponse(_message.Message):
    __slots__ = ("message", "result", "logs", "packed_messages")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    PACKED_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    message: _struct_pb2.Value
    result: _item_pb2.ItemResult
    logs: _containers.RepeatedCompositeFieldContainer[_item_pb2.LogRecord]
    packed_messages: bytes
    def __init__(self, message: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., result: _Optional[_Union[_item_pb2.ItemResult, _Mapping]] = ..., logs: _Optional[_Iterable[_Union[_item_pb2.LogRecord, _Mapping]]] = ..., packed_messages: _Optional[bytes] = ...) -> None: ...

class MapRequest(_message.Message):
    __slots__ = ("callable", "options", "inputs", "cancel_indices", "packed_inputs", "function")
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    CANCEL_INDICES_FIELD_NUMBER: _ClassVar[int]
    PACKED_INPUTS_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    callable: str
    options: _item_pb2.CallOptions
    inputs: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    cancel_indices: _containers.RepeatedScalarFieldContainer[int]
    packed_inputs: bytes
    function: _callable_pb2.PythonFunction
    def __init__(self, callable: _Optional[str] = ..., options: _Optional[_Union[_item_pb2.CallOptions, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., cancel_indices: _Optional[_Iterable[int]] = ..., packed_inputs: _Optional[bytes] = ..., function: _Optional[_Union[_callable_pb2.PythonFunction, _Mapping]] = ...) -> None: ...

class MapResponse(_message.Message):
    __slots__ = ("results", "blocks")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_item_pb2.ItemResult]
    blocks: _containers.RepeatedCompositeFieldContainer[_item_pb2.ResultBlock]
    def __init__(self, results: _Optional[_Iterable[_Union[_item_pb2.ItemResult, _Mapping]]] = ..., blocks: _Optional[_Iterable[_Union[_item_pb2.ResultBlock, _Mapping]]] = ...) -> None: ...

class QueueRequest(_message.Message):
    __slots__ = ("callable", "options", "inputs", "cancel_indices", "packed_inputs", "function")
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    CANCEL_INDICES_FIELD_NUMBER: _ClassVar[int]
    PACKED_INPUTS_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    callable: str
    options: _item_pb2.CallOptions
    inputs: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    cancel_indices: _containers.RepeatedScalarFieldContainer[int]
    packed_inputs: bytes
    function: _callable_pb2.PythonFunction
    def __init__(self, callable: _Optional[str] = ..., options: _Optional[_Union[_item_pb2.CallOptions, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., cancel_indices: _Optional[_Iterable[int]] = ..., packed_inputs: _Optional[bytes] = ..., function: _Optional[_Union[_callable_pb2.PythonFunction, _Mapping]] = ...) -> None: ...

class QueueResponse(_message.Message):
    __slots__ = ("results", "blocks")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_item_pb2.ItemResult]
    blocks: _containers.RepeatedCompositeFieldContainer[_item_pb2.ResultBlock]
    def __init__(self, results: _Optional[_Iterable[_Union[_item_pb2.ItemResult, _Mapping]]] = ..., blocks: _Optional[_Iterable[_Union[_item_pb2.ResultBlock, _Mapping]]] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "name", "state", "items_done", "items_total", "create_time", "start_time", "end_time", "callable", "error", "attempts", "max_retries", "last_seq", "owner_uid", "socket_path")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_DONE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    OWNER_UID_FIELD_NUMBER: _ClassVar[int]
    SOCKET_PATH_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    state: JobState
    items_done: int
    items_total: int
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    callable: str
    error: str
    attempts: int
    max_retries: int
    last_seq: int
    owner_uid: int
    socket_path: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., items_done: _Optional[int] = ..., items_total: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., callable: _Optional[str] = ..., error: _Optional[str] = ..., attempts: _Optional[int] = ..., max_retries: _Optional[int] = ..., last_seq: _Optional[int] = ..., owner_uid: _Optional[int] = ..., socket_path: _Optional[str] = ...) -> None: ...

class SubmitRequest(_message.Message):
    __slots__ = ("callable", "inputs", "options", "ordered", "name", "idempotency_key", "retries", "socket_path", "retry_backoff_ms", "packed_inputs", "function")
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    ORDERED_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    SOCKET_PATH_FIELD_NUMBER: _ClassVar[int]
    RETRY_BACKOFF_MS_FIELD_NUMBER: _ClassVar[int]
    PACKED_INPUTS_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    callable: str
    inputs: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    options: _item_pb2.CallOptions
    ordered: bool
    name: str
    idempotency_key: str
    retries: int
    socket_path: str
    retry_backoff_ms: int
    packed_inputs: bytes
    function: _callable_pb2.PythonFunction
    def __init__(self, callable: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., options: _Optional[_Union[_item_pb2.CallOptions, _Mapping]] = ..., ordered: _Optional[bool] = ..., name: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., retries: _Optional[int] = ..., socket_path: _Optional[str] = ..., retry_backoff_ms: _Optional[int] = ..., packed_inputs: _Optional[bytes] = ..., function: _Optional[_Union[_callable_pb2.PythonFunction, _Mapping]] = ...) -> None: ...

class SubmitResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ReconnectRequest(_message.Message):
    __slots__ = ("jobs", "after_seq", "after_seq_by_job", "max_outputs_per_message", "packed")
    class AfterSeqByJobEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    JOBS_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_BY_JOB_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUTS_PER_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedScalarFieldContainer[str]
    after_seq: int
    after_seq_by_job: _containers.ScalarMap[str, int]
    max_outputs_per_message: int
    packed: bool
    def __init__(self, jobs: _Optional[_Iterable[str]] = ..., after_seq: _Optional[int] = ..., after_seq_by_job: _Optional[_Mapping[str, int]] = ..., max_outputs_per_message: _Optional[int] = ..., packed: _Optional[bool] = ...) -> None: ...

class ReconnectResponse(_message.Message):
    __slots__ = ("job_id", "seq", "result", "job", "block", "progress", "more")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    BLOCK_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    seq: int
    result: _item_pb2.ItemResult
    job: Job
    block: _item_pb2.ResultBlock
    progress: bool
    more: _containers.RepeatedCompositeFieldContainer[ReconnectResponse]
    def __init__(self, job_id: _Optional[str] = ..., seq: _Optional[int] = ..., result: _Optional[_Union[_item_pb2.ItemResult, _Mapping]] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., block: _Optional[_Union[_item_pb2.ResultBlock, _Mapping]] = ..., progress: _Optional[bool] = ..., more: _Optional[_Iterable[_Union[ReconnectResponse, _Mapping]]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: str
    def __init__(self, job: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("state", "name", "page_size", "page_token")
    STATE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    state: JobState
    name: str
    page_size: int
    page_token: str
    def __init__(self, state: _Optional[_Union[JobState, str]] = ..., name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: str
    def __init__(self, job: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class DeleteJobRequest(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: str
    def __init__(self, job: _Optional[str] = ...) -> None: ...

class DeleteJobResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCallablesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCallablesResponse(_message.Message):
    __slots__ = ("callables",)
    CALLABLES_FIELD_NUMBER: _ClassVar[int]
    callables: _containers.RepeatedCompositeFieldContainer[_callable_pb2.Callable]
    def __init__(self, callables: _Optional[_Iterable[_Union[_callable_pb2.Callable, _Mapping]]] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("workers_idle", "workers_busy", "workers_starting", "items_queued", "items_running", "items_completed", "items_failed", "items_crashed", "workers_respawned", "uptime_ms", "calls_active", "workers_configured", "workers_recycled", "callable_reloads", "version", "workers", "calls", "recent_failures")
    WORKERS_IDLE_FIELD_NUMBER: _ClassVar[int]
    WORKERS_BUSY_FIELD_NUMBER: _ClassVar[int]
    WORKERS_STARTING_FIELD_NUMBER: _ClassVar[int]
    ITEMS_QUEUED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    ITEMS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FAILED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_CRASHED_FIELD_NUMBER: _ClassVar[int]
    WORKERS_RESPAWNED_FIELD_NUMBER: _ClassVar[int]
    UPTIME_MS_FIELD_NUMBER: _ClassVar[int]
    CALLS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    WORKERS_CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    WORKERS_RECYCLED_FIELD_NUMBER: _ClassVar[int]
    CALLABLE_RELOADS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    RECENT_FAILURES_FIELD_NUMBER: _ClassVar[int]
    workers_idle: int
    workers_busy: int
    workers_starting: int
    items_queued: int
    items_running: int
    items_completed: int
    items_failed: int
    items_crashed: int
    workers_respawned: int
    uptime_ms: int
    calls_active: int
    workers_configured: int
    workers_recycled: int
    callable_reloads: int
    version: str
    workers: _containers.RepeatedCompositeFieldContainer[WorkerRow]
    calls: _containers.RepeatedCompositeFieldContainer[CallRow]
    recent_failures: _containers.RepeatedCompositeFieldContainer[FailureRow]
    def __init__(self, workers_idle: _Optional[int] = ..., workers_busy: _Optional[int] = ..., workers_starting: _Optional[int] = ..., items_queued: _Optional[int] = ..., items_running: _Optional[int] = ..., items_completed: _Optional[int] = ..., items_failed: _Optional[int] = ..., items_crashed: _Optional[int] = ..., workers_respawned: _Optional[int] = ..., uptime_ms: _Optional[int] = ..., calls_active: _Optional[int] = ..., workers_configured: _Optional[int] = ..., workers_recycled: _Optional[int] = ..., callable_reloads: _Optional[int] = ..., version: _Optional[str] = ..., workers: _Optional[_Iterable[_Union[WorkerRow, _Mapping]]] = ..., calls: _Optional[_Iterable[_Union[CallRow, _Mapping]]] = ..., recent_failures: _Optional[_Iterable[_Union[FailureRow, _Mapping]]] = ...) -> None: ...

class WorkerRow(_message.Message):
    __slots__ = ("pid", "state", "call_id", "callable", "item_index", "item_age_ms", "rss_kib", "items_run", "fresh")
    PID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    ITEM_INDEX_FIELD_NUMBER: _ClassVar[int]
    ITEM_AGE_MS_FIELD_NUMBER: _ClassVar[int]
    RSS_KIB_FIELD_NUMBER: _ClassVar[int]
    ITEMS_RUN_FIELD_NUMBER: _ClassVar[int]
    FRESH_FIELD_NUMBER: _ClassVar[int]
    pid: int
    state: str
    call_id: int
    callable: str
    item_index: int
    item_age_ms: int
    rss_kib: int
    items_run: int
    fresh: bool
    def __init__(self, pid: _Optional[int] = ..., state: _Optional[str] = ..., call_id: _Optional[int] = ..., callable: _Optional[str] = ..., item_index: _Optional[int] = ..., item_age_ms: _Optional[int] = ..., rss_kib: _Optional[int] = ..., items_run: _Optional[int] = ..., fresh: _Optional[bool] = ...) -> None: ...

class CallRow(_message.Message):
    __slots__ = ("id", "callable", "items_done", "items_failed", "items_received", "inputs_ended", "items_running", "items_queued", "age_ms")
    ID_FIELD_NUMBER: _ClassVar[int]
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_DONE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FAILED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    INPUTS_ENDED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    ITEMS_QUEUED_FIELD_NUMBER: _ClassVar[int]
    AGE_MS_FIELD_NUMBER: _ClassVar[int]
    id: int
    callable: str
    items_done: int
    items_failed: int
    items_received: int
    inputs_ended: bool
    items_running: int
    items_queued: int
    age_ms: int
    def __init__(self, id: _Optional[int] = ..., callable: _Optional[str] = ..., items_done: _Optional[int] = ..., items_failed: _Optional[int] = ..., items_received: _Optional[int] = ..., inputs_ended: _Optional[bool] = ..., items_running: _Optional[int] = ..., items_queued: _Optional[int] = ..., age_ms: _Optional[int] = ...) -> None: ...

class FailureRow(_message.Message):
    __slots__ = ("time_unix_ms", "callable", "call_id", "index", "kind", "message", "stderr_tail", "worker_pid")
    TIME_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STDERR_TAIL_FIELD_NUMBER: _ClassVar[int]
    WORKER_PID_FIELD_NUMBER: _ClassVar[int]
    time_unix_ms: int
    callable: str
    call_id: int
    index: int
    kind: _item_pb2.ErrorKind
    message: str
    stderr_tail: str
    worker_pid: int
    def __init__(self, time_unix_ms: _Optional[int] = ..., callable: _Optional[str] = ..., call_id: _Optional[int] = ..., index: _Optional[int] = ..., kind: _Optional[_Union[_item_pb2.ErrorKind, str]] = ..., message: _Optional[str] = ..., stderr_tail: _Optional[str] = ..., worker_pid: _Optional[int] = ...) -> None: ...

class EchoRequest(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: _struct_pb2.Value
    def __init__(self, value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class EchoResponse(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: _struct_pb2.Value
    def __init__(self, value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
