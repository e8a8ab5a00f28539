// Original file: pprocd/v1/service.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../../google/protobuf/Value';
import type { CallOptions as _pprocd_v1_CallOptions, CallOptions__Output as _pprocd_v1_CallOptions__Output } from '../../pprocd/v1/CallOptions';
import type { PythonFunction as _pprocd_v1_PythonFunction, PythonFunction__Output as _pprocd_v1_PythonFunction__Output } from '../../pprocd/v1/PythonFunction';

/**
 * A background job: `callable` over `inputs` (one invocation per input; a
 * single call is one input), as Map (ordered) or Queue would run them. The
 * job outlives the client; its outputs are stored and replayed by
 * Reconnect.
 */
export interface SubmitRequest {
  'callable'?: (string);
  'inputs'?: (_google_protobuf_Value)[];
  'options'?: (_pprocd_v1_CallOptions | null);
  /**
   * Results in input order (true) or completion order (false).
   */
  'ordered'?: (boolean);
  /**
   * Unique among the submitter's jobs; GetJob, Reconnect, CancelJob and
   * DeleteJob accept it in place of the id.
   */
  'name'?: (string);
  /**
   * A Submit with a key the submitter already used returns that job
   * instead of starting another.
   */
  'idempotencyKey'?: (string);
  /**
   * How many times the job runs again when an attempt fails (an item
   * failed, or the server stopped while it ran); every item runs again.
   */
  'retries'?: (number);
  /**
   * If set, the server serves this job alone on a UNIX socket at this path.
   */
  'socketPath'?: (string);
  /**
   * Wait before the first retry; doubles for each later one (0 = 1000 ms).
   */
  'retryBackoffMs'?: (number);
  /**
   * Packed form (options.packed): the inputs as one JSON array, in place of
   * `inputs`.
   */
  'packedInputs'?: (Buffer | Uint8Array | string);
  /**
   * In place of `callable`: a Python function by reference (see
   * PythonFunction).
   */
  'function'?: (_pprocd_v1_PythonFunction | null);
}

/**
 * A background job: `callable` over `inputs` (one invocation per input; a
 * single call is one input), as Map (ordered) or Queue would run them. The
 * job outlives the client; its outputs are stored and replayed by
 * Reconnect.
 */
export interface SubmitRequest__Output {
  'callable': (string);
  'inputs': (_google_protobuf_Value__Output)[];
  'options': (_pprocd_v1_CallOptions__Output | null);
  /**
   * Results in input order (true) or completion order (false).
   */
  'ordered': (boolean);
  /**
   * Unique among the submitter's jobs; GetJob, Reconnect, CancelJob and
   * DeleteJob accept it in place of the id.
   */
  'name': (string);
  /**
   * A Submit with a key the submitter already used returns that job
   * instead of starting another.
   */
  'idempotencyKey': (string);
  /**
   * How many times the job runs again when an attempt fails (an item
   * failed, or the server stopped while it ran); every item runs again.
   */
  'retries': (number);
  /**
   * If set, the server serves this job alone on a UNIX socket at this path.
   */
  'socketPath': (string);
  /**
   * Wait before the first retry; doubles for each later one (0 = 1000 ms).
   */
  'retryBackoffMs': (number);
  /**
   * Packed form (options.packed): the inputs as one JSON array, in place of
   * `inputs`.
   */
  'packedInputs': (Buffer);
  /**
   * In place of `callable`: a Python function by reference (see
   * PythonFunction).
   */
  'function': (_pprocd_v1_PythonFunction__Output | null);
}
