// Original file: pprocd/v1/service.proto

import type { ItemResult as _pprocd_v1_ItemResult, ItemResult__Output as _pprocd_v1_ItemResult__Output } from '../../pprocd/v1/ItemResult';
import type { ResultBlock as _pprocd_v1_ResultBlock, ResultBlock__Output as _pprocd_v1_ResultBlock__Output } from '../../pprocd/v1/ResultBlock';

export interface QueueResponse {
  /**
   * Results in completion order; each names its input index. A channel
   * callable (continuous Queue) gives many results per input, each with its
   * seq, the input's final one marked last.
   */
  'results'?: (_pprocd_v1_ItemResult)[];
  /**
   * Packed form: blocks of successful results, in completion order like
   * `results` (each block's items completed together).
   */
  'blocks'?: (_pprocd_v1_ResultBlock)[];
}

export interface QueueResponse__Output {
  /**
   * Results in completion order; each names its input index. A channel
   * callable (continuous Queue) gives many results per input, each with its
   * seq, the input's final one marked last.
   */
  'results': (_pprocd_v1_ItemResult__Output)[];
  /**
   * Packed form: blocks of successful results, in completion order like
   * `results` (each block's items completed together).
   */
  'blocks': (_pprocd_v1_ResultBlock__Output)[];
}
