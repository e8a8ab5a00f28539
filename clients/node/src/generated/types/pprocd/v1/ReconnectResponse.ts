// Original file: pprocd/v1/service.proto

import type { ItemResult as _pprocd_v1_ItemResult, ItemResult__Output as _pprocd_v1_ItemResult__Output } from '../../pprocd/v1/ItemResult';
import type { Job as _pprocd_v1_Job, Job__Output as _pprocd_v1_Job__Output } from '../../pprocd/v1/Job';
import type { ReconnectResponse as _pprocd_v1_ReconnectResponse, ReconnectResponse__Output as _pprocd_v1_ReconnectResponse__Output } from '../../pprocd/v1/ReconnectResponse';
import type { ResultBlock as _pprocd_v1_ResultBlock, ResultBlock__Output as _pprocd_v1_ResultBlock__Output } from '../../pprocd/v1/ResultBlock';
import type { Long } from '@grpc/proto-loader';

/**
 * One output of a job: a result, or the job itself at a change of state
 * (and, while it runs, its progress about once a second). The last output
 * of every job that has ended is the job in its final state.
 */
export interface ReconnectResponse {
  'jobId'?: (string);
  /**
   * 1, 2, 3, ... per job, in the order the outputs were stored.
   */
  'seq'?: (number | string | Long);
  'result'?: (_pprocd_v1_ItemResult | null);
  'job'?: (_pprocd_v1_Job | null);
  /**
   * Set on a `job` output that only reports progress (the job's state is
   * unchanged since its previous `job` output).
   */
  'progress'?: (boolean);
  /**
   * With ReconnectRequest.max_outputs_per_message > 1: the outputs that
   * follow this one, in stream order (none of them has `more` itself).
   */
  'more'?: (_pprocd_v1_ReconnectResponse)[];
  /**
   * ReconnectRequest.packed: consecutive successful results; its items
   * have the sequence numbers seq, seq + 1, ..., seq + count - 1.
   */
  'block'?: (_pprocd_v1_ResultBlock | null);
  'output'?: "result"|"job"|"block";
}

/**
 * One output of a job: a result, or the job itself at a change of state
 * (and, while it runs, its progress about once a second). The last output
 * of every job that has ended is the job in its final state.
 */
export interface ReconnectResponse__Output {
  'jobId': (string);
  /**
   * 1, 2, 3, ... per job, in the order the outputs were stored.
   */
  'seq': (number);
  'result'?: (_pprocd_v1_ItemResult__Output | null);
  'job'?: (_pprocd_v1_Job__Output | null);
  /**
   * Set on a `job` output that only reports progress (the job's state is
   * unchanged since its previous `job` output).
   */
  'progress': (boolean);
  /**
   * With ReconnectRequest.max_outputs_per_message > 1: the outputs that
   * follow this one, in stream order (none of them has `more` itself).
   */
  'more': (_pprocd_v1_ReconnectResponse__Output)[];
  /**
   * ReconnectRequest.packed: consecutive successful results; its items
   * have the sequence numbers seq, seq + 1, ..., seq + count - 1.
   */
  'block'?: (_pprocd_v1_ResultBlock__Output | null);
  'output'?: "result"|"job"|"block";
}
