// Original file: pprocd/v1/service.proto

import type { ItemResult as _pprocd_v1_ItemResult, ItemResult__Output as _pprocd_v1_ItemResult__Output } from '../../pprocd/v1/ItemResult';
import type { ResultBlock as _pprocd_v1_ResultBlock, ResultBlock__Output as _pprocd_v1_ResultBlock__Output } from '../../pprocd/v1/ResultBlock';

export interface MapResponse {
  /**
   * Consecutive results in input order. A channel callable (continuous
   * Map) gives every result of one input, by seq, before the next input's.
   */
  'results'?: (_pprocd_v1_ItemResult)[];
  /**
   * Packed form: blocks of successful results. Every index in a response's
   * blocks and results comes before every index of the next response;
   * within one response, merge `results` and `blocks` by index.
   */
  'blocks'?: (_pprocd_v1_ResultBlock)[];
}

export interface MapResponse__Output {
  /**
   * Consecutive results in input order. A channel callable (continuous
   * Map) gives every result of one input, by seq, before the next input's.
   */
  'results': (_pprocd_v1_ItemResult__Output)[];
  /**
   * Packed form: blocks of successful results. Every index in a response's
   * blocks and results comes before every index of the next response;
   * within one response, merge `results` and `blocks` by index.
   */
  'blocks': (_pprocd_v1_ResultBlock__Output)[];
}
