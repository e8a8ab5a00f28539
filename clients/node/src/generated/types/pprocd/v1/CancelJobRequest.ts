// Original file: pprocd/v1/service.proto


/**
 * Cancels a queued or running job (its running items are killed); state
 * CANCELLED. A job that has ended is returned unchanged.
 */
export interface CancelJobRequest {
  'job'?: (string);
}

/**
 * Cancels a queued or running job (its running items are killed); state
 * CANCELLED. A job that has ended is returned unchanged.
 */
export interface CancelJobRequest__Output {
  'job': (string);
}
