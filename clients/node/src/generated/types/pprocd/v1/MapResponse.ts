// Original file: pprocd/v1/service.proto

import type { ItemResult as _pprocd_v1_ItemResult, ItemResult__Output as _pprocd_v1_ItemResult__Output } from '../../pprocd/v1/ItemResult';

export interface MapResponse {
  /**
   * Consecutive results in input order. A channel callable (continuous
   * Map) gives every result of one input, by seq, before the next input's.
   */
  'results'?: (_pprocd_v1_ItemResult)[];
}

export interface MapResponse__Output {
  /**
   * Consecutive results in input order. A channel callable (continuous
   * Map) gives every result of one input, by seq, before the next input's.
   */
  'results': (_pprocd_v1_ItemResult__Output)[];
}
