// Original file: pprocd/v1/item.proto

import type { LogStream as _pprocd_v1_LogStream, LogStream__Output as _pprocd_v1_LogStream__Output } from '../../pprocd/v1/LogStream';
import type { Long } from '@grpc/proto-loader';

/**
 * Output a callable wrote to one standard stream. At most 64 KiB per
 * result and stream are kept: the first and last 32 KiB, with the middle
 * left out and counted in dropped_bytes. Output is bytes, as written (not
 * necessarily UTF-8).
 */
export interface LogRecord {
  'stream'?: (_pprocd_v1_LogStream);
  'data'?: (Buffer | Uint8Array | string);
  /**
   * Bytes written but left out of `data` to keep it bounded.
   */
  'droppedBytes'?: (number | string | Long);
}

/**
 * Output a callable wrote to one standard stream. At most 64 KiB per
 * result and stream are kept: the first and last 32 KiB, with the middle
 * left out and counted in dropped_bytes. Output is bytes, as written (not
 * necessarily UTF-8).
 */
export interface LogRecord__Output {
  'stream': (_pprocd_v1_LogStream__Output);
  'data': (Buffer);
  /**
   * Bytes written but left out of `data` to keep it bounded.
   */
  'droppedBytes': (number);
}
