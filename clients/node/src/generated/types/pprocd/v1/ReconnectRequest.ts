// Original file: pprocd/v1/service.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Replays the stored outputs of one or more jobs, then streams new ones
 * as they are stored; the stream ends when every job named has ended.
 * Outputs of several jobs are merged as they come, each naming its job.
 */
export interface ReconnectRequest {
  /**
   * Jobs to attach to, by id or name; none = the job of the per-job socket.
   */
  'jobs'?: (string)[];
  /**
   * Replay outputs with a sequence number greater than this.
   */
  'afterSeq'?: (number | string | Long);
  /**
   * Per job (by id or name as given in `jobs`): overrides after_seq.
   */
  'afterSeqByJob'?: ({[key: string]: number | string | Long});
}

/**
 * Replays the stored outputs of one or more jobs, then streams new ones
 * as they are stored; the stream ends when every job named has ended.
 * Outputs of several jobs are merged as they come, each naming its job.
 */
export interface ReconnectRequest__Output {
  /**
   * Jobs to attach to, by id or name; none = the job of the per-job socket.
   */
  'jobs': (string)[];
  /**
   * Replay outputs with a sequence number greater than this.
   */
  'afterSeq': (number);
  /**
   * Per job (by id or name as given in `jobs`): overrides after_seq.
   */
  'afterSeqByJob': ({[key: string]: number});
}
