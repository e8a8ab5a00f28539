// Original file: pprocd/v1/service.proto

import type { JobState as _pprocd_v1_JobState, JobState__Output as _pprocd_v1_JobState__Output } from '../../pprocd/v1/JobState';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

/**
 * A background job.
 */
export interface Job {
  'id'?: (string);
  /**
   * Client-chosen name, unique per owner (pprocess "address").
   */
  'name'?: (string);
  'state'?: (_pprocd_v1_JobState);
  /**
   * Inputs whose final result is stored, of items_total.
   */
  'itemsDone'?: (number | string | Long);
  'itemsTotal'?: (number | string | Long);
  'createTime'?: (_google_protobuf_Timestamp | null);
  /**
   * When the current (or last) attempt started, and when the job ended.
   */
  'startTime'?: (_google_protobuf_Timestamp | null);
  'endTime'?: (_google_protobuf_Timestamp | null);
  'callable'?: (string);
  /**
   * Why the job failed or was interrupted; empty otherwise.
   */
  'error'?: (string);
  /**
   * Attempts started so far; the job may run 1 + max_retries times.
   */
  'attempts'?: (number);
  'maxRetries'?: (number);
  /**
   * The sequence number of the job's last stored output.
   */
  'lastSeq'?: (number | string | Long);
  /**
   * The uid that submitted it; -1 for a caller over TCP (anonymous).
   */
  'ownerUid'?: (number | string | Long);
  /**
   * The job's own socket file, if it asked for one.
   */
  'socketPath'?: (string);
}

/**
 * A background job.
 */
export interface Job__Output {
  'id': (string);
  /**
   * Client-chosen name, unique per owner (pprocess "address").
   */
  'name': (string);
  'state': (_pprocd_v1_JobState__Output);
  /**
   * Inputs whose final result is stored, of items_total.
   */
  'itemsDone': (number);
  'itemsTotal': (number);
  'createTime': (_google_protobuf_Timestamp__Output | null);
  /**
   * When the current (or last) attempt started, and when the job ended.
   */
  'startTime': (_google_protobuf_Timestamp__Output | null);
  'endTime': (_google_protobuf_Timestamp__Output | null);
  'callable': (string);
  /**
   * Why the job failed or was interrupted; empty otherwise.
   */
  'error': (string);
  /**
   * Attempts started so far; the job may run 1 + max_retries times.
   */
  'attempts': (number);
  'maxRetries': (number);
  /**
   * The sequence number of the job's last stored output.
   */
  'lastSeq': (number);
  /**
   * The uid that submitted it; -1 for a caller over TCP (anonymous).
   */
  'ownerUid': (number);
  /**
   * The job's own socket file, if it asked for one.
   */
  'socketPath': (string);
}
