// Original file: pprocd/v1/service.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One open call, for dashboards.
 */
export interface CallRow {
  'id'?: (number | string | Long);
  'callable'?: (string);
  /**
   * Items that ended (with a value or a failure), and how many of them
   * failed.
   */
  'itemsDone'?: (number | string | Long);
  'itemsFailed'?: (number | string | Long);
  /**
   * Inputs received so far; once inputs_ended, the call's total.
   */
  'itemsReceived'?: (number | string | Long);
  'inputsEnded'?: (boolean);
  'itemsRunning'?: (number | string | Long);
  'itemsQueued'?: (number | string | Long);
  /**
   * Since the call opened.
   */
  'ageMs'?: (number | string | Long);
}

/**
 * One open call, for dashboards.
 */
export interface CallRow__Output {
  'id': (number);
  'callable': (string);
  /**
   * Items that ended (with a value or a failure), and how many of them
   * failed.
   */
  'itemsDone': (number);
  'itemsFailed': (number);
  /**
   * Inputs received so far; once inputs_ended, the call's total.
   */
  'itemsReceived': (number);
  'inputsEnded': (boolean);
  'itemsRunning': (number);
  'itemsQueued': (number);
  /**
   * Since the call opened.
   */
  'ageMs': (number);
}
