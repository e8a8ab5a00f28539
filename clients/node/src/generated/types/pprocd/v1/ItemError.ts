// Original file: pprocd/v1/item.proto

import type { ErrorKind as _pprocd_v1_ErrorKind, ErrorKind__Output as _pprocd_v1_ErrorKind__Output } from '../../pprocd/v1/ErrorKind';

/**
 * The failure of one item.
 */
export interface ItemError {
  'kind'?: (_pprocd_v1_ErrorKind);
  /**
   * Human-readable reason.
   */
  'message'?: (string);
  /**
   * For ERROR_KIND_CRASHED by a signal: its name, e.g. "SIGSEGV".
   */
  'signal'?: (string);
  /**
   * For ERROR_KIND_CRASHED by exit: the exit status.
   */
  'exitCode'?: (number);
  /**
   * The last lines the worker wrote to stderr before it failed.
   */
  'stderrTail'?: (string);
}

/**
 * The failure of one item.
 */
export interface ItemError__Output {
  'kind': (_pprocd_v1_ErrorKind__Output);
  /**
   * Human-readable reason.
   */
  'message': (string);
  /**
   * For ERROR_KIND_CRASHED by a signal: its name, e.g. "SIGSEGV".
   */
  'signal': (string);
  /**
   * For ERROR_KIND_CRASHED by exit: the exit status.
   */
  'exitCode': (number);
  /**
   * The last lines the worker wrote to stderr before it failed.
   */
  'stderrTail': (string);
}
