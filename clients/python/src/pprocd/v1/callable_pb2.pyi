from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ParameterType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARAMETER_TYPE_UNSPECIFIED: _ClassVar[ParameterType]
    PARAMETER_TYPE_ANY: _ClassVar[ParameterType]
    PARAMETER_TYPE_INTEGER: _ClassVar[ParameterType]
    PARAMETER_TYPE_NUMBER: _ClassVar[ParameterType]
    PARAMETER_TYPE_STRING: _ClassVar[ParameterType]
    PARAMETER_TYPE_BOOLEAN: _ClassVar[ParameterType]
    PARAMETER_TYPE_LIST: _ClassVar[ParameterType]
    PARAMETER_TYPE_STRUCT: _ClassVar[ParameterType]

class CallableKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALLABLE_KIND_UNSPECIFIED: _ClassVar[CallableKind]
    CALLABLE_KIND_FUNCTION: _ClassVar[CallableKind]
    CALLABLE_KIND_CHANNEL: _ClassVar[CallableKind]
PARAMETER_TYPE_UNSPECIFIED: ParameterType
PARAMETER_TYPE_ANY: ParameterType
PARAMETER_TYPE_INTEGER: ParameterType
PARAMETER_TYPE_NUMBER: ParameterType
PARAMETER_TYPE_STRING: ParameterType
PARAMETER_TYPE_BOOLEAN: ParameterType
PARAMETER_TYPE_LIST: ParameterType
PARAMETER_TYPE_STRUCT: ParameterType
CALLABLE_KIND_UNSPECIFIED: CallableKind
CALLABLE_KIND_FUNCTION: CallableKind
CALLABLE_KIND_CHANNEL: CallableKind

class Parameter(_message.Message):
    __slots__ = ("name", "type", "default_value", "description", "required")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: ParameterType
    default_value: _struct_pb2.Value
    description: str
    required: bool
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[ParameterType, str]] = ..., default_value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., description: _Optional[str] = ..., required: _Optional[bool] = ...) -> None: ...

class Callable(_message.Message):
    __slots__ = ("name", "kind", "parameters", "description", "origin", "limits")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: CallableKind
    parameters: _containers.RepeatedCompositeFieldContainer[Parameter]
    description: str
    origin: str
    limits: CallableLimits
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[CallableKind, str]] = ..., parameters: _Optional[_Iterable[_Union[Parameter, _Mapping]]] = ..., description: _Optional[str] = ..., origin: _Optional[str] = ..., limits: _Optional[_Union[CallableLimits, _Mapping]] = ...) -> None: ...

class CallableLimits(_message.Message):
    __slots__ = ("max_memory_mib", "cpu_seconds", "max_open_files", "timeout_ms", "max_concurrent")
    MAX_MEMORY_MIB_FIELD_NUMBER: _ClassVar[int]
    CPU_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_OPEN_FILES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_FIELD_NUMBER: _ClassVar[int]
    max_memory_mib: int
    cpu_seconds: int
    max_open_files: int
    timeout_ms: int
    max_concurrent: int
    def __init__(self, max_memory_mib: _Optional[int] = ..., cpu_seconds: _Optional[int] = ..., max_open_files: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., max_concurrent: _Optional[int] = ...) -> None: ...

class PythonFunction(_message.Message):
    __slots__ = ("interpreter", "module", "module_file", "qualname", "sys_path", "channel")
    INTERPRETER_FIELD_NUMBER: _ClassVar[int]
    MODULE_FIELD_NUMBER: _ClassVar[int]
    MODULE_FILE_FIELD_NUMBER: _ClassVar[int]
    QUALNAME_FIELD_NUMBER: _ClassVar[int]
    SYS_PATH_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    interpreter: str
    module: str
    module_file: str
    qualname: str
    sys_path: _containers.RepeatedScalarFieldContainer[str]
    channel: bool
    def __init__(self, interpreter: _Optional[str] = ..., module: _Optional[str] = ..., module_file: _Optional[str] = ..., qualname: _Optional[str] = ..., sys_path: _Optional[_Iterable[str]] = ..., channel: _Optional[bool] = ...) -> None: ...
