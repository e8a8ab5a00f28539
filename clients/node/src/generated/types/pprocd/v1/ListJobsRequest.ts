// Original file: pprocd/v1/service.proto

import type { JobState as _pprocd_v1_JobState, JobState__Output as _pprocd_v1_JobState__Output } from '../../pprocd/v1/JobState';

/**
 * The caller's jobs (every job for root and the admin group), newest
 * first.
 */
export interface ListJobsRequest {
  /**
   * Only jobs in this state (unspecified = any).
   */
  'state'?: (_pprocd_v1_JobState);
  /**
   * Only the job with this name.
   */
  'name'?: (string);
  /**
   * At most this many (0 = 100; at most 1000).
   */
  'pageSize'?: (number);
  /**
   * next_page_token of the previous page.
   */
  'pageToken'?: (string);
}

/**
 * The caller's jobs (every job for root and the admin group), newest
 * first.
 */
export interface ListJobsRequest__Output {
  /**
   * Only jobs in this state (unspecified = any).
   */
  'state': (_pprocd_v1_JobState__Output);
  /**
   * Only the job with this name.
   */
  'name': (string);
  /**
   * At most this many (0 = 100; at most 1000).
   */
  'pageSize': (number);
  /**
   * next_page_token of the previous page.
   */
  'pageToken': (string);
}
