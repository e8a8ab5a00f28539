// Original file: pprocd/v1/service.proto


/**
 * Deletes a job that has ended, with its stored outputs;
 * FAILED_PRECONDITION while it is queued or running.
 */
export interface DeleteJobRequest {
  'job'?: (string);
}

/**
 * Deletes a job that has ended, with its stored outputs;
 * FAILED_PRECONDITION while it is queued or running.
 */
export interface DeleteJobRequest__Output {
  'job': (string);
}
