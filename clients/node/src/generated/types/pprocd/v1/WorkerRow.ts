// Original file: pprocd/v1/service.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One worker process, for dashboards.
 */
export interface WorkerRow {
  'pid'?: (number);
  /**
   * "starting", "idle", "busy" or "exiting".
   */
  'state'?: (string);
  /**
   * While busy: the call it works for, its callable, and the index of the
   * item it runs.
   */
  'callId'?: (number | string | Long);
  'callable'?: (string);
  'itemIndex'?: (number | string | Long);
  /**
   * While busy: how long the current item has been running.
   */
  'itemAgeMs'?: (number | string | Long);
  /**
   * Resident set size now, in KiB (0 when unknown).
   */
  'rssKib'?: (number | string | Long);
  /**
   * Items it has finished.
   */
  'itemsRun'?: (number | string | Long);
  /**
   * A FRESH process (one item, then it exits).
   */
  'fresh'?: (boolean);
}

/**
 * One worker process, for dashboards.
 */
export interface WorkerRow__Output {
  'pid': (number);
  /**
   * "starting", "idle", "busy" or "exiting".
   */
  'state': (string);
  /**
   * While busy: the call it works for, its callable, and the index of the
   * item it runs.
   */
  'callId': (number);
  'callable': (string);
  'itemIndex': (number);
  /**
   * While busy: how long the current item has been running.
   */
  'itemAgeMs': (number);
  /**
   * Resident set size now, in KiB (0 when unknown).
   */
  'rssKib': (number);
  /**
   * Items it has finished.
   */
  'itemsRun': (number);
  /**
   * A FRESH process (one item, then it exits).
   */
  'fresh': (boolean);
}
