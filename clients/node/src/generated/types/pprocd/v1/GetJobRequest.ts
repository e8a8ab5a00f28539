// Original file: pprocd/v1/service.proto


export interface GetJobRequest {
  /**
   * The job's id or name.
   */
  'job'?: (string);
}

export interface GetJobRequest__Output {
  /**
   * The job's id or name.
   */
  'job': (string);
}
