// Original file: pprocd/v1/service.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CancelJobRequest as _pprocd_v1_CancelJobRequest, CancelJobRequest__Output as _pprocd_v1_CancelJobRequest__Output } from '../../pprocd/v1/CancelJobRequest';
import type { CancelJobResponse as _pprocd_v1_CancelJobResponse, CancelJobResponse__Output as _pprocd_v1_CancelJobResponse__Output } from '../../pprocd/v1/CancelJobResponse';
import type { DeleteJobRequest as _pprocd_v1_DeleteJobRequest, DeleteJobRequest__Output as _pprocd_v1_DeleteJobRequest__Output } from '../../pprocd/v1/DeleteJobRequest';
import type { DeleteJobResponse as _pprocd_v1_DeleteJobResponse, DeleteJobResponse__Output as _pprocd_v1_DeleteJobResponse__Output } from '../../pprocd/v1/DeleteJobResponse';
import type { EchoRequest as _pprocd_v1_EchoRequest, EchoRequest__Output as _pprocd_v1_EchoRequest__Output } from '../../pprocd/v1/EchoRequest';
import type { EchoResponse as _pprocd_v1_EchoResponse, EchoResponse__Output as _pprocd_v1_EchoResponse__Output } from '../../pprocd/v1/EchoResponse';
import type { GetJobRequest as _pprocd_v1_GetJobRequest, GetJobRequest__Output as _pprocd_v1_GetJobRequest__Output } from '../../pprocd/v1/GetJobRequest';
import type { GetJobResponse as _pprocd_v1_GetJobResponse, GetJobResponse__Output as _pprocd_v1_GetJobResponse__Output } from '../../pprocd/v1/GetJobResponse';
import type { GetStatusRequest as _pprocd_v1_GetStatusRequest, GetStatusRequest__Output as _pprocd_v1_GetStatusRequest__Output } from '../../pprocd/v1/GetStatusRequest';
import type { GetStatusResponse as _pprocd_v1_GetStatusResponse, GetStatusResponse__Output as _pprocd_v1_GetStatusResponse__Output } from '../../pprocd/v1/GetStatusResponse';
import type { ListCallablesRequest as _pprocd_v1_ListCallablesRequest, ListCallablesRequest__Output as _pprocd_v1_ListCallablesRequest__Output } from '../../pprocd/v1/ListCallablesRequest';
import type { ListCallablesResponse as _pprocd_v1_ListCallablesResponse, ListCallablesResponse__Output as _pprocd_v1_ListCallablesResponse__Output } from '../../pprocd/v1/ListCallablesResponse';
import type { ListJobsRequest as _pprocd_v1_ListJobsRequest, ListJobsRequest__Output as _pprocd_v1_ListJobsRequest__Output } from '../../pprocd/v1/ListJobsRequest';
import type { ListJobsResponse as _pprocd_v1_ListJobsResponse, ListJobsResponse__Output as _pprocd_v1_ListJobsResponse__Output } from '../../pprocd/v1/ListJobsResponse';
import type { MapRequest as _pprocd_v1_MapRequest, MapRequest__Output as _pprocd_v1_MapRequest__Output } from '../../pprocd/v1/MapRequest';
import type { MapResponse as _pprocd_v1_MapResponse, MapResponse__Output as _pprocd_v1_MapResponse__Output } from '../../pprocd/v1/MapResponse';
import type { QueueRequest as _pprocd_v1_QueueRequest, QueueRequest__Output as _pprocd_v1_QueueRequest__Output } from '../../pprocd/v1/QueueRequest';
import type { QueueResponse as _pprocd_v1_QueueResponse, QueueResponse__Output as _pprocd_v1_QueueResponse__Output } from '../../pprocd/v1/QueueResponse';
import type { ReconnectRequest as _pprocd_v1_ReconnectRequest, ReconnectRequest__Output as _pprocd_v1_ReconnectRequest__Output } from '../../pprocd/v1/ReconnectRequest';
import type { ReconnectResponse as _pprocd_v1_ReconnectResponse, ReconnectResponse__Output as _pprocd_v1_ReconnectResponse__Output } from '../../pprocd/v1/ReconnectResponse';
import type { StartRequest as _pprocd_v1_StartRequest, StartRequest__Output as _pprocd_v1_StartRequest__Output } from '../../pprocd/v1/StartRequest';
import type { StartResponse as _pprocd_v1_StartResponse, StartResponse__Output as _pprocd_v1_StartResponse__Output } from '../../pprocd/v1/StartResponse';
import type { SubmitRequest as _pprocd_v1_SubmitRequest, SubmitRequest__Output as _pprocd_v1_SubmitRequest__Output } from '../../pprocd/v1/SubmitRequest';
import type { SubmitResponse as _pprocd_v1_SubmitResponse, SubmitResponse__Output as _pprocd_v1_SubmitResponse__Output } from '../../pprocd/v1/SubmitResponse';

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
export interface ProcessFarmServiceClient extends grpc.Client {
  CancelJob(argument: _pprocd_v1_CancelJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_CancelJobResponse__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _pprocd_v1_CancelJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_CancelJobResponse__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _pprocd_v1_CancelJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_CancelJobResponse__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _pprocd_v1_CancelJobRequest, callback: grpc.requestCallback<_pprocd_v1_CancelJobResponse__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _pprocd_v1_CancelJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_CancelJobResponse__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _pprocd_v1_CancelJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_CancelJobResponse__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _pprocd_v1_CancelJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_CancelJobResponse__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _pprocd_v1_CancelJobRequest, callback: grpc.requestCallback<_pprocd_v1_CancelJobResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteJob(argument: _pprocd_v1_DeleteJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_DeleteJobResponse__Output>): grpc.ClientUnaryCall;
  DeleteJob(argument: _pprocd_v1_DeleteJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_DeleteJobResponse__Output>): grpc.ClientUnaryCall;
  DeleteJob(argument: _pprocd_v1_DeleteJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_DeleteJobResponse__Output>): grpc.ClientUnaryCall;
  DeleteJob(argument: _pprocd_v1_DeleteJobRequest, callback: grpc.requestCallback<_pprocd_v1_DeleteJobResponse__Output>): grpc.ClientUnaryCall;
  deleteJob(argument: _pprocd_v1_DeleteJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_DeleteJobResponse__Output>): grpc.ClientUnaryCall;
  deleteJob(argument: _pprocd_v1_DeleteJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_DeleteJobResponse__Output>): grpc.ClientUnaryCall;
  deleteJob(argument: _pprocd_v1_DeleteJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_DeleteJobResponse__Output>): grpc.ClientUnaryCall;
  deleteJob(argument: _pprocd_v1_DeleteJobRequest, callback: grpc.requestCallback<_pprocd_v1_DeleteJobResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Returns its input unchanged without touching a worker: a baseline for
   * measuring the transport.
   */
  Echo(argument: _pprocd_v1_EchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_EchoResponse__Output>): grpc.ClientUnaryCall;
  Echo(argument: _pprocd_v1_EchoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_EchoResponse__Output>): grpc.ClientUnaryCall;
  Echo(argument: _pprocd_v1_EchoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_EchoResponse__Output>): grpc.ClientUnaryCall;
  Echo(argument: _pprocd_v1_EchoRequest, callback: grpc.requestCallback<_pprocd_v1_EchoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Returns its input unchanged without touching a worker: a baseline for
   * measuring the transport.
   */
  echo(argument: _pprocd_v1_EchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_EchoResponse__Output>): grpc.ClientUnaryCall;
  echo(argument: _pprocd_v1_EchoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_EchoResponse__Output>): grpc.ClientUnaryCall;
  echo(argument: _pprocd_v1_EchoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_EchoResponse__Output>): grpc.ClientUnaryCall;
  echo(argument: _pprocd_v1_EchoRequest, callback: grpc.requestCallback<_pprocd_v1_EchoResponse__Output>): grpc.ClientUnaryCall;
  
  GetJob(argument: _pprocd_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_GetJobResponse__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _pprocd_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_GetJobResponse__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _pprocd_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_GetJobResponse__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _pprocd_v1_GetJobRequest, callback: grpc.requestCallback<_pprocd_v1_GetJobResponse__Output>): grpc.ClientUnaryCall;
  getJob(argument: _pprocd_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_GetJobResponse__Output>): grpc.ClientUnaryCall;
  getJob(argument: _pprocd_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_GetJobResponse__Output>): grpc.ClientUnaryCall;
  getJob(argument: _pprocd_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_GetJobResponse__Output>): grpc.ClientUnaryCall;
  getJob(argument: _pprocd_v1_GetJobRequest, callback: grpc.requestCallback<_pprocd_v1_GetJobResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Pool and queue counters.
   */
  GetStatus(argument: _pprocd_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _pprocd_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _pprocd_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _pprocd_v1_GetStatusRequest, callback: grpc.requestCallback<_pprocd_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Pool and queue counters.
   */
  getStatus(argument: _pprocd_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _pprocd_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _pprocd_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _pprocd_v1_GetStatusRequest, callback: grpc.requestCallback<_pprocd_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Describes every registered callable and its parameters.
   */
  ListCallables(argument: _pprocd_v1_ListCallablesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_ListCallablesResponse__Output>): grpc.ClientUnaryCall;
  ListCallables(argument: _pprocd_v1_ListCallablesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_ListCallablesResponse__Output>): grpc.ClientUnaryCall;
  ListCallables(argument: _pprocd_v1_ListCallablesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_ListCallablesResponse__Output>): grpc.ClientUnaryCall;
  ListCallables(argument: _pprocd_v1_ListCallablesRequest, callback: grpc.requestCallback<_pprocd_v1_ListCallablesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Describes every registered callable and its parameters.
   */
  listCallables(argument: _pprocd_v1_ListCallablesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_ListCallablesResponse__Output>): grpc.ClientUnaryCall;
  listCallables(argument: _pprocd_v1_ListCallablesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_ListCallablesResponse__Output>): grpc.ClientUnaryCall;
  listCallables(argument: _pprocd_v1_ListCallablesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_ListCallablesResponse__Output>): grpc.ClientUnaryCall;
  listCallables(argument: _pprocd_v1_ListCallablesRequest, callback: grpc.requestCallback<_pprocd_v1_ListCallablesResponse__Output>): grpc.ClientUnaryCall;
  
  ListJobs(argument: _pprocd_v1_ListJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _pprocd_v1_ListJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _pprocd_v1_ListJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _pprocd_v1_ListJobsRequest, callback: grpc.requestCallback<_pprocd_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _pprocd_v1_ListJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _pprocd_v1_ListJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _pprocd_v1_ListJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _pprocd_v1_ListJobsRequest, callback: grpc.requestCallback<_pprocd_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Runs a callable over many inputs; results come back in input order,
   * each as soon as every earlier one is complete. The first request names
   * the callable and options; inputs may follow in any number of requests;
   * half-close ends the input.
   */
  Map(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_MapRequest, _pprocd_v1_MapResponse__Output>;
  Map(options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_MapRequest, _pprocd_v1_MapResponse__Output>;
  /**
   * Runs a callable over many inputs; results come back in input order,
   * each as soon as every earlier one is complete. The first request names
   * the callable and options; inputs may follow in any number of requests;
   * half-close ends the input.
   */
  map(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_MapRequest, _pprocd_v1_MapResponse__Output>;
  map(options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_MapRequest, _pprocd_v1_MapResponse__Output>;
  
  /**
   * Like Map, but results come back as they complete, each naming its input.
   */
  Queue(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_QueueRequest, _pprocd_v1_QueueResponse__Output>;
  Queue(options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_QueueRequest, _pprocd_v1_QueueResponse__Output>;
  /**
   * Like Map, but results come back as they complete, each naming its input.
   */
  queue(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_QueueRequest, _pprocd_v1_QueueResponse__Output>;
  queue(options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_QueueRequest, _pprocd_v1_QueueResponse__Output>;
  
  /**
   * Attaches to one or more background jobs: replay, then live outputs.
   */
  Reconnect(argument: _pprocd_v1_ReconnectRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_pprocd_v1_ReconnectResponse__Output>;
  Reconnect(argument: _pprocd_v1_ReconnectRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_pprocd_v1_ReconnectResponse__Output>;
  /**
   * Attaches to one or more background jobs: replay, then live outputs.
   */
  reconnect(argument: _pprocd_v1_ReconnectRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_pprocd_v1_ReconnectResponse__Output>;
  reconnect(argument: _pprocd_v1_ReconnectRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_pprocd_v1_ReconnectResponse__Output>;
  
  /**
   * Runs one callable and talks to it over a two-way channel.
   */
  Start(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_StartRequest, _pprocd_v1_StartResponse__Output>;
  Start(options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_StartRequest, _pprocd_v1_StartResponse__Output>;
  /**
   * Runs one callable and talks to it over a two-way channel.
   */
  start(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_StartRequest, _pprocd_v1_StartResponse__Output>;
  start(options?: grpc.CallOptions): grpc.ClientDuplexStream<_pprocd_v1_StartRequest, _pprocd_v1_StartResponse__Output>;
  
  /**
   * Starts a background job that outlives its client.
   */
  Submit(argument: _pprocd_v1_SubmitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _pprocd_v1_SubmitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _pprocd_v1_SubmitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _pprocd_v1_SubmitRequest, callback: grpc.requestCallback<_pprocd_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Starts a background job that outlives its client.
   */
  submit(argument: _pprocd_v1_SubmitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _pprocd_v1_SubmitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pprocd_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _pprocd_v1_SubmitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pprocd_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _pprocd_v1_SubmitRequest, callback: grpc.requestCallback<_pprocd_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  
}

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
export interface ProcessFarmServiceHandlers extends grpc.UntypedServiceImplementation {
  CancelJob: grpc.handleUnaryCall<_pprocd_v1_CancelJobRequest__Output, _pprocd_v1_CancelJobResponse>;
  
  DeleteJob: grpc.handleUnaryCall<_pprocd_v1_DeleteJobRequest__Output, _pprocd_v1_DeleteJobResponse>;
  
  /**
   * Returns its input unchanged without touching a worker: a baseline for
   * measuring the transport.
   */
  Echo: grpc.handleUnaryCall<_pprocd_v1_EchoRequest__Output, _pprocd_v1_EchoResponse>;
  
  GetJob: grpc.handleUnaryCall<_pprocd_v1_GetJobRequest__Output, _pprocd_v1_GetJobResponse>;
  
  /**
   * Pool and queue counters.
   */
  GetStatus: grpc.handleUnaryCall<_pprocd_v1_GetStatusRequest__Output, _pprocd_v1_GetStatusResponse>;
  
  /**
   * Describes every registered callable and its parameters.
   */
  ListCallables: grpc.handleUnaryCall<_pprocd_v1_ListCallablesRequest__Output, _pprocd_v1_ListCallablesResponse>;
  
  ListJobs: grpc.handleUnaryCall<_pprocd_v1_ListJobsRequest__Output, _pprocd_v1_ListJobsResponse>;
  
  /**
   * Runs a callable over many inputs; results come back in input order,
   * each as soon as every earlier one is complete. The first request names
   * the callable and options; inputs may follow in any number of requests;
   * half-close ends the input.
   */
  Map: grpc.handleBidiStreamingCall<_pprocd_v1_MapRequest__Output, _pprocd_v1_MapResponse>;
  
  /**
   * Like Map, but results come back as they complete, each naming its input.
   */
  Queue: grpc.handleBidiStreamingCall<_pprocd_v1_QueueRequest__Output, _pprocd_v1_QueueResponse>;
  
  /**
   * Attaches to one or more background jobs: replay, then live outputs.
   */
  Reconnect: grpc.handleServerStreamingCall<_pprocd_v1_ReconnectRequest__Output, _pprocd_v1_ReconnectResponse>;
  
  /**
   * Runs one callable and talks to it over a two-way channel.
   */
  Start: grpc.handleBidiStreamingCall<_pprocd_v1_StartRequest__Output, _pprocd_v1_StartResponse>;
  
  /**
   * Starts a background job that outlives its client.
   */
  Submit: grpc.handleUnaryCall<_pprocd_v1_SubmitRequest__Output, _pprocd_v1_SubmitResponse>;
  
}

export interface ProcessFarmServiceDefinition extends grpc.ServiceDefinition {
  CancelJob: MethodDefinition<_pprocd_v1_CancelJobRequest, _pprocd_v1_CancelJobResponse, _pprocd_v1_CancelJobRequest__Output, _pprocd_v1_CancelJobResponse__Output>
  DeleteJob: MethodDefinition<_pprocd_v1_DeleteJobRequest, _pprocd_v1_DeleteJobResponse, _pprocd_v1_DeleteJobRequest__Output, _pprocd_v1_DeleteJobResponse__Output>
  Echo: MethodDefinition<_pprocd_v1_EchoRequest, _pprocd_v1_EchoResponse, _pprocd_v1_EchoRequest__Output, _pprocd_v1_EchoResponse__Output>
  GetJob: MethodDefinition<_pprocd_v1_GetJobRequest, _pprocd_v1_GetJobResponse, _pprocd_v1_GetJobRequest__Output, _pprocd_v1_GetJobResponse__Output>
  GetStatus: MethodDefinition<_pprocd_v1_GetStatusRequest, _pprocd_v1_GetStatusResponse, _pprocd_v1_GetStatusRequest__Output, _pprocd_v1_GetStatusResponse__Output>
  ListCallables: MethodDefinition<_pprocd_v1_ListCallablesRequest, _pprocd_v1_ListCallablesResponse, _pprocd_v1_ListCallablesRequest__Output, _pprocd_v1_ListCallablesResponse__Output>
  ListJobs: MethodDefinition<_pprocd_v1_ListJobsRequest, _pprocd_v1_ListJobsResponse, _pprocd_v1_ListJobsRequest__Output, _pprocd_v1_ListJobsResponse__Output>
  Map: MethodDefinition<_pprocd_v1_MapRequest, _pprocd_v1_MapResponse, _pprocd_v1_MapRequest__Output, _pprocd_v1_MapResponse__Output>
  Queue: MethodDefinition<_pprocd_v1_QueueRequest, _pprocd_v1_QueueResponse, _pprocd_v1_QueueRequest__Output, _pprocd_v1_QueueResponse__Output>
  Reconnect: MethodDefinition<_pprocd_v1_ReconnectRequest, _pprocd_v1_ReconnectResponse, _pprocd_v1_ReconnectRequest__Output, _pprocd_v1_ReconnectResponse__Output>
  Start: MethodDefinition<_pprocd_v1_StartRequest, _pprocd_v1_StartResponse, _pprocd_v1_StartRequest__Output, _pprocd_v1_StartResponse__Output>
  Submit: MethodDefinition<_pprocd_v1_SubmitRequest, _pprocd_v1_SubmitResponse, _pprocd_v1_SubmitRequest__Output, _pprocd_v1_SubmitResponse__Output>
}
