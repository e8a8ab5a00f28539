// Original file: pprocd/v1/item.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../../google/protobuf/Value';
import type { ItemError as _pprocd_v1_ItemError, ItemError__Output as _pprocd_v1_ItemError__Output } from '../../pprocd/v1/ItemError';
import type { ItemStats as _pprocd_v1_ItemStats, ItemStats__Output as _pprocd_v1_ItemStats__Output } from '../../pprocd/v1/ItemStats';
import type { LogRecord as _pprocd_v1_LogRecord, LogRecord__Output as _pprocd_v1_LogRecord__Output } from '../../pprocd/v1/LogRecord';
import type { Long } from '@grpc/proto-loader';

/**
 * The outcome of one input item.
 */
export interface ItemResult {
  /**
   * Position of the input in the call, from 0.
   */
  'index'?: (number | string | Long);
  /**
   * The callable's return value.
   */
  'value'?: (_google_protobuf_Value | null);
  /**
   * A binary return value (callables that declare bytes results).
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * Why the item failed.
   */
  'error'?: (_pprocd_v1_ItemError | null);
  /**
   * Resources used. Set on an input's last result only.
   */
  'stats'?: (_pprocd_v1_ItemStats | null);
  /**
   * Position of this result among the results of its input, from 0. A
   * function callable gives one result per input (seq 0). A channel
   * callable gives one result per value it sends, then a final one.
   */
  'seq'?: (number | string | Long);
  /**
   * True on the input's final result: the return value (null when a channel
   * callable returns nothing) or the error. Messages a channel callable
   * sends have last = false.
   */
  'last'?: (boolean);
  /**
   * What the invocation wrote to stdout and stderr since its previous
   * result, in order of stream (bounded: see LogRecord).
   */
  'logs'?: (_pprocd_v1_LogRecord)[];
  'outcome'?: "value"|"data"|"error";
}

/**
 * The outcome of one input item.
 */
export interface ItemResult__Output {
  /**
   * Position of the input in the call, from 0.
   */
  'index': (number);
  /**
   * The callable's return value.
   */
  'value'?: (_google_protobuf_Value__Output | null);
  /**
   * A binary return value (callables that declare bytes results).
   */
  'data'?: (Buffer);
  /**
   * Why the item failed.
   */
  'error'?: (_pprocd_v1_ItemError__Output | null);
  /**
   * Resources used. Set on an input's last result only.
   */
  'stats': (_pprocd_v1_ItemStats__Output | null);
  /**
   * Position of this result among the results of its input, from 0. A
   * function callable gives one result per input (seq 0). A channel
   * callable gives one result per value it sends, then a final one.
   */
  'seq': (number);
  /**
   * True on the input's final result: the return value (null when a channel
   * callable returns nothing) or the error. Messages a channel callable
   * sends have last = false.
   */
  'last': (boolean);
  /**
   * What the invocation wrote to stdout and stderr since its previous
   * result, in order of stream (bounded: see LogRecord).
   */
  'logs': (_pprocd_v1_LogRecord__Output)[];
  'outcome'?: "value"|"data"|"error";
}
