// Original file: pprocd/v1/service.proto

import type { CallOptions as _pprocd_v1_CallOptions, CallOptions__Output as _pprocd_v1_CallOptions__Output } from '../../pprocd/v1/CallOptions';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../../google/protobuf/Value';
import type { PythonFunction as _pprocd_v1_PythonFunction, PythonFunction__Output as _pprocd_v1_PythonFunction__Output } from '../../pprocd/v1/PythonFunction';
import type { Long } from '@grpc/proto-loader';

export interface QueueRequest {
  /**
   * First message only: the callable to run.
   */
  'callable'?: (string);
  /**
   * First message only.
   */
  'options'?: (_pprocd_v1_CallOptions | null);
  /**
   * Input items, numbered in arrival order across all requests.
   */
  'inputs'?: (_google_protobuf_Value)[];
  /**
   * Cancels these earlier inputs of the call (by index): a queued one is
   * dropped, a running one has its worker killed; each still yields its
   * result, with ERROR_KIND_CANCELLED. Indices already finished, or not
   * received yet, are ignored.
   */
  'cancelIndices'?: (number | string | Long)[];
  /**
   * Packed form (CallOptions.packed): input items as one JSON array,
   * numbered as `inputs` would be.
   */
  'packedInputs'?: (Buffer | Uint8Array | string);
  /**
   * First message only, in place of `callable`: a Python function by
   * reference (see PythonFunction).
   */
  'function'?: (_pprocd_v1_PythonFunction | null);
}

export interface QueueRequest__Output {
  /**
   * First message only: the callable to run.
   */
  'callable': (string);
  /**
   * First message only.
   */
  'options': (_pprocd_v1_CallOptions__Output | null);
  /**
   * Input items, numbered in arrival order across all requests.
   */
  'inputs': (_google_protobuf_Value__Output)[];
  /**
   * Cancels these earlier inputs of the call (by index): a queued one is
   * dropped, a running one has its worker killed; each still yields its
   * result, with ERROR_KIND_CANCELLED. Indices already finished, or not
   * received yet, are ignored.
   */
  'cancelIndices': (number)[];
  /**
   * Packed form (CallOptions.packed): input items as one JSON array,
   * numbered as `inputs` would be.
   */
  'packedInputs': (Buffer);
  /**
   * First message only, in place of `callable`: a Python function by
   * reference (see PythonFunction).
   */
  'function': (_pprocd_v1_PythonFunction__Output | null);
}
