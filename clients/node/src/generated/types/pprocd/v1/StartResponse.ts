// Original file: pprocd/v1/service.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../../google/protobuf/Value';
import type { ItemResult as _pprocd_v1_ItemResult, ItemResult__Output as _pprocd_v1_ItemResult__Output } from '../../pprocd/v1/ItemResult';
import type { LogRecord as _pprocd_v1_LogRecord, LogRecord__Output as _pprocd_v1_LogRecord__Output } from '../../pprocd/v1/LogRecord';

export interface StartResponse {
  /**
   * A value the callable sent on its channel.
   */
  'message'?: (_google_protobuf_Value | null);
  /**
   * The final outcome (value, or error with its kind); the last response
   * of the stream.
   */
  'result'?: (_pprocd_v1_ItemResult | null);
  /**
   * What the callable wrote to stdout/stderr before this event.
   */
  'logs'?: (_pprocd_v1_LogRecord)[];
  /**
   * Packed form: values the callable sent on its channel, as one JSON
   * array, in order, before this response's `result` (if any).
   */
  'packedMessages'?: (Buffer | Uint8Array | string);
  'event'?: "message"|"result";
}

export interface StartResponse__Output {
  /**
   * A value the callable sent on its channel.
   */
  'message'?: (_google_protobuf_Value__Output | null);
  /**
   * The final outcome (value, or error with its kind); the last response
   * of the stream.
   */
  'result'?: (_pprocd_v1_ItemResult__Output | null);
  /**
   * What the callable wrote to stdout/stderr before this event.
   */
  'logs': (_pprocd_v1_LogRecord__Output)[];
  /**
   * Packed form: values the callable sent on its channel, as one JSON
   * array, in order, before this response's `result` (if any).
   */
  'packedMessages': (Buffer);
  'event'?: "message"|"result";
}
