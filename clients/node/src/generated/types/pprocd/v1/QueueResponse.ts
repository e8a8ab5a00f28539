// Original file: pprocd/v1/service.proto

import type { ItemResult as _pprocd_v1_ItemResult, ItemResult__Output as _pprocd_v1_ItemResult__Output } from '../../pprocd/v1/ItemResult';

export interface QueueResponse {
  /**
   * Results in completion order; each names its input index. A channel
   * callable (continuous Queue) gives many results per input, each with its
   * seq, the input's final one marked last.
   */
  'results'?: (_pprocd_v1_ItemResult)[];
}

export interface QueueResponse__Output {
  /**
   * Results in completion order; each names its input index. A channel
   * callable (continuous Queue) gives many results per input, each with its
   * seq, the input's final one marked last.
   */
  'results': (_pprocd_v1_ItemResult__Output)[];
}
