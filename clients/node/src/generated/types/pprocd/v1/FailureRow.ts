// Original file: pprocd/v1/service.proto

import type { ErrorKind as _pprocd_v1_ErrorKind, ErrorKind__Output as _pprocd_v1_ErrorKind__Output } from '../../pprocd/v1/ErrorKind';
import type { Long } from '@grpc/proto-loader';

/**
 * One failed item, for dashboards.
 */
export interface FailureRow {
  'timeUnixMs'?: (number | string | Long);
  'callable'?: (string);
  'callId'?: (number | string | Long);
  'index'?: (number | string | Long);
  'kind'?: (_pprocd_v1_ErrorKind);
  'message'?: (string);
  /**
   * The last lines the worker wrote to stderr before the item failed.
   */
  'stderrTail'?: (string);
  'workerPid'?: (number);
}

/**
 * One failed item, for dashboards.
 */
export interface FailureRow__Output {
  'timeUnixMs': (number);
  'callable': (string);
  'callId': (number);
  'index': (number);
  'kind': (_pprocd_v1_ErrorKind__Output);
  'message': (string);
  /**
   * The last lines the worker wrote to stderr before the item failed.
   */
  'stderrTail': (string);
  'workerPid': (number);
}
