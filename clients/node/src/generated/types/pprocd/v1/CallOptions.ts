// Original file: pprocd/v1/item.proto

import type { Isolation as _pprocd_v1_Isolation, Isolation__Output as _pprocd_v1_Isolation__Output } from '../../pprocd/v1/Isolation';
import type { ItemStatsMode as _pprocd_v1_ItemStatsMode, ItemStatsMode__Output as _pprocd_v1_ItemStatsMode__Output } from '../../pprocd/v1/ItemStatsMode';
import type { Long } from '@grpc/proto-loader';

/**
 * How the items of one call run: shared by Map, Queue, Start and Submit.
 */
export interface CallOptions {
  /**
   * Maximum number of this call's items running at once; 0 = no limit other
   * than the pool size (pprocess `limit`).
   */
  'limit'?: (number);
  /**
   * Items sent to a worker in one hop; 0 = automatic (about
   * items / (4 x workers) when the count is known, capped to keep latency
   * and memory bounded).
   */
  'chunksize'?: (number);
  /**
   * Per-item wall-clock timeout in milliseconds; 0 = none. An item past it
   * has its worker killed and fails with ERROR_KIND_TIMED_OUT.
   */
  'timeoutMs'?: (number);
  /**
   * Where each invocation runs.
   */
  'isolation'?: (_pprocd_v1_Isolation);
  /**
   * Hint: how many inputs the client will send in all (0 = unknown). Used
   * only to choose an automatic chunksize early.
   */
  'expectedInputs'?: (number | string | Long);
  /**
   * Which resource figures come with results (see ItemStatsMode).
   */
  'itemStats'?: (_pprocd_v1_ItemStatsMode);
  /**
   * The packed form: inputs come as JSON arrays in the requests'
   * `packed_inputs`, and successful results as ResultBlocks (failures,
   * channel messages and results with logs stay ItemResults, beside them by
   * index). Set in the first request; a call uses one form only: a packed
   * call's request with `inputs`, or a Value-form call's request with
   * `packed_inputs`, is INVALID_ARGUMENT.
   */
  'packed'?: (boolean);
}

/**
 * How the items of one call run: shared by Map, Queue, Start and Submit.
 */
export interface CallOptions__Output {
  /**
   * Maximum number of this call's items running at once; 0 = no limit other
   * than the pool size (pprocess `limit`).
   */
  'limit': (number);
  /**
   * Items sent to a worker in one hop; 0 = automatic (about
   * items / (4 x workers) when the count is known, capped to keep latency
   * and memory bounded).
   */
  'chunksize': (number);
  /**
   * Per-item wall-clock timeout in milliseconds; 0 = none. An item past it
   * has its worker killed and fails with ERROR_KIND_TIMED_OUT.
   */
  'timeoutMs': (number);
  /**
   * Where each invocation runs.
   */
  'isolation': (_pprocd_v1_Isolation__Output);
  /**
   * Hint: how many inputs the client will send in all (0 = unknown). Used
   * only to choose an automatic chunksize early.
   */
  'expectedInputs': (number);
  /**
   * Which resource figures come with results (see ItemStatsMode).
   */
  'itemStats': (_pprocd_v1_ItemStatsMode__Output);
  /**
   * The packed form: inputs come as JSON arrays in the requests'
   * `packed_inputs`, and successful results as ResultBlocks (failures,
   * channel messages and results with logs stay ItemResults, beside them by
   * index). Set in the first request; a call uses one form only: a packed
   * call's request with `inputs`, or a Value-form call's request with
   * `packed_inputs`, is INVALID_ARGUMENT.
   */
  'packed': (boolean);
}
