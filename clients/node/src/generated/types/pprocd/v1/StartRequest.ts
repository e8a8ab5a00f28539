// Original file: pprocd/v1/service.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../../google/protobuf/Value';
import type { CallOptions as _pprocd_v1_CallOptions, CallOptions__Output as _pprocd_v1_CallOptions__Output } from '../../pprocd/v1/CallOptions';
import type { PythonFunction as _pprocd_v1_PythonFunction, PythonFunction__Output as _pprocd_v1_PythonFunction__Output } from '../../pprocd/v1/PythonFunction';

export interface StartRequest {
  /**
   * First message only: the callable to run.
   */
  'callable'?: (string);
  /**
   * First message only: its arguments (see the service comment).
   */
  'arguments'?: (_google_protobuf_Value | null);
  /**
   * First message only. timeout_ms bounds the whole invocation; isolation
   * chooses its process; limit and chunksize do not apply.
   */
  'options'?: (_pprocd_v1_CallOptions | null);
  /**
   * Later messages: one value for the callable's channel, in order. The
   * client's half-close is the end of the channel's input.
   */
  'message'?: (_google_protobuf_Value | null);
  /**
   * Packed form (options.packed): first message only, the arguments as one
   * JSON value (in place of `arguments`).
   */
  'packedArguments'?: (Buffer | Uint8Array | string);
  /**
   * Packed form, later messages: values for the channel as one JSON array,
   * in order (in place of `message`).
   */
  'packedMessages'?: (Buffer | Uint8Array | string);
  /**
   * First message only, in place of `callable`: a Python function by
   * reference (see PythonFunction).
   */
  'function'?: (_pprocd_v1_PythonFunction | null);
}

export interface StartRequest__Output {
  /**
   * First message only: the callable to run.
   */
  'callable': (string);
  /**
   * First message only: its arguments (see the service comment).
   */
  'arguments': (_google_protobuf_Value__Output | null);
  /**
   * First message only. timeout_ms bounds the whole invocation; isolation
   * chooses its process; limit and chunksize do not apply.
   */
  'options': (_pprocd_v1_CallOptions__Output | null);
  /**
   * Later messages: one value for the callable's channel, in order. The
   * client's half-close is the end of the channel's input.
   */
  'message': (_google_protobuf_Value__Output | null);
  /**
   * Packed form (options.packed): first message only, the arguments as one
   * JSON value (in place of `arguments`).
   */
  'packedArguments': (Buffer);
  /**
   * Packed form, later messages: values for the channel as one JSON array,
   * in order (in place of `message`).
   */
  'packedMessages': (Buffer);
  /**
   * First message only, in place of `callable`: a Python function by
   * reference (see PythonFunction).
   */
  'function': (_pprocd_v1_PythonFunction__Output | null);
}
