// Original file: pprocd/v1/service.proto

/**
 * The life of a background job.
 */
export const JobState = {
  JOB_STATE_UNSPECIFIED: 'JOB_STATE_UNSPECIFIED',
  JOB_STATE_QUEUED: 'JOB_STATE_QUEUED',
  JOB_STATE_RUNNING: 'JOB_STATE_RUNNING',
  JOB_STATE_SUCCEEDED: 'JOB_STATE_SUCCEEDED',
  JOB_STATE_FAILED: 'JOB_STATE_FAILED',
  JOB_STATE_CANCELLED: 'JOB_STATE_CANCELLED',
  JOB_STATE_INTERRUPTED: 'JOB_STATE_INTERRUPTED',
} as const;

/**
 * The life of a background job.
 */
export type JobState =
  | 'JOB_STATE_UNSPECIFIED'
  | 0
  | 'JOB_STATE_QUEUED'
  | 1
  | 'JOB_STATE_RUNNING'
  | 2
  | 'JOB_STATE_SUCCEEDED'
  | 3
  | 'JOB_STATE_FAILED'
  | 4
  | 'JOB_STATE_CANCELLED'
  | 5
  | 'JOB_STATE_INTERRUPTED'
  | 6

/**
 * The life of a background job.
 */
export type JobState__Output = typeof JobState[keyof typeof JobState]
