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
  /**
   * How many outputs one message may carry. 0 or 1: every output comes in a
   * message of its own (what a person reading grpcurl's output wants).
   * More: the server packs up to this many outputs that are ready together
   * into one message (the first in the message's own fields, the others in
   * `more`), which costs far less for jobs with many small outputs.
   */
  'maxOutputsPerMessage'?: (number);
  /**
   * Successful results come as ResultBlocks (`block`) instead of one
   * ItemResult each.
   */
  'packed'?: (boolean);
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
  /**
   * How many outputs one message may carry. 0 or 1: every output comes in a
   * message of its own (what a person reading grpcurl's output wants).
   * More: the server packs up to this many outputs that are ready together
   * into one message (the first in the message's own fields, the others in
   * `more`), which costs far less for jobs with many small outputs.
   */
  'maxOutputsPerMessage': (number);
  /**
   * Successful results come as ResultBlocks (`block`) instead of one
   * ItemResult each.
   */
  'packed': (boolean);
}
