import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value';
import type { CallOptions as _pprocd_v1_CallOptions, CallOptions__Output as _pprocd_v1_CallOptions__Output } from './pprocd/v1/CallOptions';
import type { CallRow as _pprocd_v1_CallRow, CallRow__Output as _pprocd_v1_CallRow__Output } from './pprocd/v1/CallRow';
import type { Callable as _pprocd_v1_Callable, Callable__Output as _pprocd_v1_Callable__Output } from './pprocd/v1/Callable';
import type { CallableLimits as _pprocd_v1_CallableLimits, CallableLimits__Output as _pprocd_v1_CallableLimits__Output } from './pprocd/v1/CallableLimits';
import type { CancelJobRequest as _pprocd_v1_CancelJobRequest, CancelJobRequest__Output as _pprocd_v1_CancelJobRequest__Output } from './pprocd/v1/CancelJobRequest';
import type { CancelJobResponse as _pprocd_v1_CancelJobResponse, CancelJobResponse__Output as _pprocd_v1_CancelJobResponse__Output } from './pprocd/v1/CancelJobResponse';
import type { DeleteJobRequest as _pprocd_v1_DeleteJobRequest, DeleteJobRequest__Output as _pprocd_v1_DeleteJobRequest__Output } from './pprocd/v1/DeleteJobRequest';
import type { DeleteJobResponse as _pprocd_v1_DeleteJobResponse, DeleteJobResponse__Output as _pprocd_v1_DeleteJobResponse__Output } from './pprocd/v1/DeleteJobResponse';
import type { EchoRequest as _pprocd_v1_EchoRequest, EchoRequest__Output as _pprocd_v1_EchoRequest__Output } from './pprocd/v1/EchoRequest';
import type { EchoResponse as _pprocd_v1_EchoResponse, EchoResponse__Output as _pprocd_v1_EchoResponse__Output } from './pprocd/v1/EchoResponse';
import type { FailureRow as _pprocd_v1_FailureRow, FailureRow__Output as _pprocd_v1_FailureRow__Output } from './pprocd/v1/FailureRow';
import type { GetJobRequest as _pprocd_v1_GetJobRequest, GetJobRequest__Output as _pprocd_v1_GetJobRequest__Output } from './pprocd/v1/GetJobRequest';
import type { GetJobResponse as _pprocd_v1_GetJobResponse, GetJobResponse__Output as _pprocd_v1_GetJobResponse__Output } from './pprocd/v1/GetJobResponse';
import type { GetStatusRequest as _pprocd_v1_GetStatusRequest, GetStatusRequest__Output as _pprocd_v1_GetStatusRequest__Output } from './pprocd/v1/GetStatusRequest';
import type { GetStatusResponse as _pprocd_v1_GetStatusResponse, GetStatusResponse__Output as _pprocd_v1_GetStatusResponse__Output } from './pprocd/v1/GetStatusResponse';
import type { ItemError as _pprocd_v1_ItemError, ItemError__Output as _pprocd_v1_ItemError__Output } from './pprocd/v1/ItemError';
import type { ItemResult as _pprocd_v1_ItemResult, ItemResult__Output as _pprocd_v1_ItemResult__Output } from './pprocd/v1/ItemResult';
import type { ItemStats as _pprocd_v1_ItemStats, ItemStats__Output as _pprocd_v1_ItemStats__Output } from './pprocd/v1/ItemStats';
import type { Job as _pprocd_v1_Job, Job__Output as _pprocd_v1_Job__Output } from './pprocd/v1/Job';
import type { ListCallablesRequest as _pprocd_v1_ListCallablesRequest, ListCallablesRequest__Output as _pprocd_v1_ListCallablesRequest__Output } from './pprocd/v1/ListCallablesRequest';
import type { ListCallablesResponse as _pprocd_v1_ListCallablesResponse, ListCallablesResponse__Output as _pprocd_v1_ListCallablesResponse__Output } from './pprocd/v1/ListCallablesResponse';
import type { ListJobsRequest as _pprocd_v1_ListJobsRequest, ListJobsRequest__Output as _pprocd_v1_ListJobsRequest__Output } from './pprocd/v1/ListJobsRequest';
import type { ListJobsResponse as _pprocd_v1_ListJobsResponse, ListJobsResponse__Output as _pprocd_v1_ListJobsResponse__Output } from './pprocd/v1/ListJobsResponse';
import type { LogRecord as _pprocd_v1_LogRecord, LogRecord__Output as _pprocd_v1_LogRecord__Output } from './pprocd/v1/LogRecord';
import type { MapRequest as _pprocd_v1_MapRequest, MapRequest__Output as _pprocd_v1_MapRequest__Output } from './pprocd/v1/MapRequest';
import type { MapResponse as _pprocd_v1_MapResponse, MapResponse__Output as _pprocd_v1_MapResponse__Output } from './pprocd/v1/MapResponse';
import type { Parameter as _pprocd_v1_Parameter, Parameter__Output as _pprocd_v1_Parameter__Output } from './pprocd/v1/Parameter';
import type { ProcessFarmServiceClient as _pprocd_v1_ProcessFarmServiceClient, ProcessFarmServiceDefinition as _pprocd_v1_ProcessFarmServiceDefinition } from './pprocd/v1/ProcessFarmService';
import type { PythonFunction as _pprocd_v1_PythonFunction, PythonFunction__Output as _pprocd_v1_PythonFunction__Output } from './pprocd/v1/PythonFunction';
import type { QueueRequest as _pprocd_v1_QueueRequest, QueueRequest__Output as _pprocd_v1_QueueRequest__Output } from './pprocd/v1/QueueRequest';
import type { QueueResponse as _pprocd_v1_QueueResponse, QueueResponse__Output as _pprocd_v1_QueueResponse__Output } from './pprocd/v1/QueueResponse';
import type { ReconnectRequest as _pprocd_v1_ReconnectRequest, ReconnectRequest__Output as _pprocd_v1_ReconnectRequest__Output } from './pprocd/v1/ReconnectRequest';
import type { ReconnectResponse as _pprocd_v1_ReconnectResponse, ReconnectResponse__Output as _pprocd_v1_ReconnectResponse__Output } from './pprocd/v1/ReconnectResponse';
import type { ResultBlock as _pprocd_v1_ResultBlock, ResultBlock__Output as _pprocd_v1_ResultBlock__Output } from './pprocd/v1/ResultBlock';
import type { StartRequest as _pprocd_v1_StartRequest, StartRequest__Output as _pprocd_v1_StartRequest__Output } from './pprocd/v1/StartRequest';
import type { StartResponse as _pprocd_v1_StartResponse, StartResponse__Output as _pprocd_v1_StartResponse__Output } from './pprocd/v1/StartResponse';
import type { SubmitRequest as _pprocd_v1_SubmitRequest, SubmitRequest__Output as _pprocd_v1_SubmitRequest__Output } from './pprocd/v1/SubmitRequest';
import type { SubmitResponse as _pprocd_v1_SubmitResponse, SubmitResponse__Output as _pprocd_v1_SubmitResponse__Output } from './pprocd/v1/SubmitResponse';
import type { WorkerRow as _pprocd_v1_WorkerRow, WorkerRow__Output as _pprocd_v1_WorkerRow__Output } from './pprocd/v1/WorkerRow';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      NullValue: EnumTypeDefinition
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
  }
  pprocd: {
    v1: {
      CallOptions: MessageTypeDefinition<_pprocd_v1_CallOptions, _pprocd_v1_CallOptions__Output>
      CallRow: MessageTypeDefinition<_pprocd_v1_CallRow, _pprocd_v1_CallRow__Output>
      Callable: MessageTypeDefinition<_pprocd_v1_Callable, _pprocd_v1_Callable__Output>
      CallableKind: EnumTypeDefinition
      CallableLimits: MessageTypeDefinition<_pprocd_v1_CallableLimits, _pprocd_v1_CallableLimits__Output>
      CancelJobRequest: MessageTypeDefinition<_pprocd_v1_CancelJobRequest, _pprocd_v1_CancelJobRequest__Output>
      CancelJobResponse: MessageTypeDefinition<_pprocd_v1_CancelJobResponse, _pprocd_v1_CancelJobResponse__Output>
      DeleteJobRequest: MessageTypeDefinition<_pprocd_v1_DeleteJobRequest, _pprocd_v1_DeleteJobRequest__Output>
      DeleteJobResponse: MessageTypeDefinition<_pprocd_v1_DeleteJobResponse, _pprocd_v1_DeleteJobResponse__Output>
      EchoRequest: MessageTypeDefinition<_pprocd_v1_EchoRequest, _pprocd_v1_EchoRequest__Output>
      EchoResponse: MessageTypeDefinition<_pprocd_v1_EchoResponse, _pprocd_v1_EchoResponse__Output>
      ErrorKind: EnumTypeDefinition
      FailureRow: MessageTypeDefinition<_pprocd_v1_FailureRow, _pprocd_v1_FailureRow__Output>
      GetJobRequest: MessageTypeDefinition<_pprocd_v1_GetJobRequest, _pprocd_v1_GetJobRequest__Output>
      GetJobResponse: MessageTypeDefinition<_pprocd_v1_GetJobResponse, _pprocd_v1_GetJobResponse__Output>
      GetStatusRequest: MessageTypeDefinition<_pprocd_v1_GetStatusRequest, _pprocd_v1_GetStatusRequest__Output>
      GetStatusResponse: MessageTypeDefinition<_pprocd_v1_GetStatusResponse, _pprocd_v1_GetStatusResponse__Output>
      Isolation: EnumTypeDefinition
      ItemError: MessageTypeDefinition<_pprocd_v1_ItemError, _pprocd_v1_ItemError__Output>
      ItemResult: MessageTypeDefinition<_pprocd_v1_ItemResult, _pprocd_v1_ItemResult__Output>
      ItemStats: MessageTypeDefinition<_pprocd_v1_ItemStats, _pprocd_v1_ItemStats__Output>
      ItemStatsMode: EnumTypeDefinition
      Job: MessageTypeDefinition<_pprocd_v1_Job, _pprocd_v1_Job__Output>
      JobState: EnumTypeDefinition
      ListCallablesRequest: MessageTypeDefinition<_pprocd_v1_ListCallablesRequest, _pprocd_v1_ListCallablesRequest__Output>
      ListCallablesResponse: MessageTypeDefinition<_pprocd_v1_ListCallablesResponse, _pprocd_v1_ListCallablesResponse__Output>
      ListJobsRequest: MessageTypeDefinition<_pprocd_v1_ListJobsRequest, _pprocd_v1_ListJobsRequest__Output>
      ListJobsResponse: MessageTypeDefinition<_pprocd_v1_ListJobsResponse, _pprocd_v1_ListJobsResponse__Output>
      LogRecord: MessageTypeDefinition<_pprocd_v1_LogRecord, _pprocd_v1_LogRecord__Output>
      LogStream: EnumTypeDefinition
      MapRequest: MessageTypeDefinition<_pprocd_v1_MapRequest, _pprocd_v1_MapRequest__Output>
      MapResponse: MessageTypeDefinition<_pprocd_v1_MapResponse, _pprocd_v1_MapResponse__Output>
      Parameter: MessageTypeDefinition<_pprocd_v1_Parameter, _pprocd_v1_Parameter__Output>
      ParameterType: EnumTypeDefinition
      /**
       * A local process farm: a pool of worker processes, forked from a warm
       * template, that run registered callables.
       * 
       * Arguments: every input item is one google.protobuf.Value. For a callable
       * with one parameter the value is that argument. For a callable with several
       * parameters a list spreads over them in order and a struct names them;
       * any other value is the first parameter. Missing parameters take their
       * defaults.
       * 
       * Two forms of items. The Value form (`inputs`, `results`) is one
       * google.protobuf.Value or ItemResult per item: what grpcurl users read and
       * write. The packed form (CallOptions.packed) moves items in bulk: inputs as
       * one JSON array per request (`packed_inputs`), successful results as
       * ResultBlocks, with failures and channel messages as ItemResults beside
       * them by index. Clients use the packed form; both give the same values.
       * Malformed packed inputs are INVALID_ARGUMENT naming the byte offset; a
       * request over the message limit is RESOURCE_EXHAUSTED.
       */
      ProcessFarmService: SubtypeConstructor<typeof grpc.Client, _pprocd_v1_ProcessFarmServiceClient> & { service: _pprocd_v1_ProcessFarmServiceDefinition }
      PythonFunction: MessageTypeDefinition<_pprocd_v1_PythonFunction, _pprocd_v1_PythonFunction__Output>
      QueueRequest: MessageTypeDefinition<_pprocd_v1_QueueRequest, _pprocd_v1_QueueRequest__Output>
      QueueResponse: MessageTypeDefinition<_pprocd_v1_QueueResponse, _pprocd_v1_QueueResponse__Output>
      ReconnectRequest: MessageTypeDefinition<_pprocd_v1_ReconnectRequest, _pprocd_v1_ReconnectRequest__Output>
      ReconnectResponse: MessageTypeDefinition<_pprocd_v1_ReconnectResponse, _pprocd_v1_ReconnectResponse__Output>
      ResultBlock: MessageTypeDefinition<_pprocd_v1_ResultBlock, _pprocd_v1_ResultBlock__Output>
      StartRequest: MessageTypeDefinition<_pprocd_v1_StartRequest, _pprocd_v1_StartRequest__Output>
      StartResponse: MessageTypeDefinition<_pprocd_v1_StartResponse, _pprocd_v1_StartResponse__Output>
      SubmitRequest: MessageTypeDefinition<_pprocd_v1_SubmitRequest, _pprocd_v1_SubmitRequest__Output>
      SubmitResponse: MessageTypeDefinition<_pprocd_v1_SubmitResponse, _pprocd_v1_SubmitResponse__Output>
      WorkerRow: MessageTypeDefinition<_pprocd_v1_WorkerRow, _pprocd_v1_WorkerRow__Output>
    }
  }
}

