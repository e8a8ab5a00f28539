// Original file: pprocd/v1/service.proto

import type { Job as _pprocd_v1_Job, Job__Output as _pprocd_v1_Job__Output } from '../../pprocd/v1/Job';

export interface SubmitResponse {
  'job'?: (_pprocd_v1_Job | null);
}

export interface SubmitResponse__Output {
  'job': (_pprocd_v1_Job__Output | null);
}
