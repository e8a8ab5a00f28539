// Original file: pprocd/v1/service.proto

import type { Job as _pprocd_v1_Job, Job__Output as _pprocd_v1_Job__Output } from '../../pprocd/v1/Job';

export interface ListJobsResponse {
  'jobs'?: (_pprocd_v1_Job)[];
  'nextPageToken'?: (string);
}

export interface ListJobsResponse__Output {
  'jobs': (_pprocd_v1_Job__Output)[];
  'nextPageToken': (string);
}
