// Original file: pprocd/v1/item.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Resources used by one invocation.
 */
export interface ItemStats {
  /**
   * Wall-clock time of the invocation in microseconds.
   */
  'wallUs'?: (number | string | Long);
  /**
   * CPU time (user + system) of the invocation in microseconds. Results a
   * worker sends together share their batch's CPU time in proportion to
   * wall time; a batch closes once 2 ms have passed, so the figure of a
   * slow item is close to exact.
   */
  'cpuUs'?: (number | string | Long);
  /**
   * Peak resident set size of the worker process in KiB, read when the
   * item's batch of results was sent.
   */
  'maxRssKib'?: (number | string | Long);
  /**
   * Process id of the worker that ran the item.
   */
  'workerPid'?: (number);
  /**
   * When the invocation started, in microseconds since the UNIX epoch.
   */
  'startUnixUs'?: (number | string | Long);
}

/**
 * Resources used by one invocation.
 */
export interface ItemStats__Output {
  /**
   * Wall-clock time of the invocation in microseconds.
   */
  'wallUs': (number);
  /**
   * CPU time (user + system) of the invocation in microseconds. Results a
   * worker sends together share their batch's CPU time in proportion to
   * wall time; a batch closes once 2 ms have passed, so the figure of a
   * slow item is close to exact.
   */
  'cpuUs': (number);
  /**
   * Peak resident set size of the worker process in KiB, read when the
   * item's batch of results was sent.
   */
  'maxRssKib': (number);
  /**
   * Process id of the worker that ran the item.
   */
  'workerPid': (number);
  /**
   * When the invocation started, in microseconds since the UNIX epoch.
   */
  'startUnixUs': (number);
}
