// Original file: pprocd/v1/service.proto

import type { WorkerRow as _pprocd_v1_WorkerRow, WorkerRow__Output as _pprocd_v1_WorkerRow__Output } from '../../pprocd/v1/WorkerRow';
import type { CallRow as _pprocd_v1_CallRow, CallRow__Output as _pprocd_v1_CallRow__Output } from '../../pprocd/v1/CallRow';
import type { FailureRow as _pprocd_v1_FailureRow, FailureRow__Output as _pprocd_v1_FailureRow__Output } from '../../pprocd/v1/FailureRow';
import type { Long } from '@grpc/proto-loader';

export interface GetStatusResponse {
  'workersIdle'?: (number);
  'workersBusy'?: (number);
  'workersStarting'?: (number);
  /**
   * Items accepted and not yet running, over all calls.
   */
  'itemsQueued'?: (number | string | Long);
  /**
   * Items running now.
   */
  'itemsRunning'?: (number | string | Long);
  /**
   * Items that produced a value since start.
   */
  'itemsCompleted'?: (number | string | Long);
  /**
   * Items that raised, timed out or were cancelled since start.
   */
  'itemsFailed'?: (number | string | Long);
  /**
   * Items whose worker died since start.
   */
  'itemsCrashed'?: (number | string | Long);
  /**
   * Workers started to replace dead or killed ones since start.
   */
  'workersRespawned'?: (number | string | Long);
  'uptimeMs'?: (number | string | Long);
  /**
   * Calls (Map, Queue, Start) open now.
   */
  'callsActive'?: (number);
  /**
   * Size of the pool.
   */
  'workersConfigured'?: (number);
  /**
   * Pooled workers replaced after --max-tasks-per-worker items since start.
   */
  'workersRecycled'?: (number | string | Long);
  /**
   * Reloads of the callables (SIGHUP) that took effect since start.
   */
  'callableReloads'?: (number | string | Long);
  /**
   * The server's version (as `pprocd --version` prints it, without the name).
   */
  'version'?: (string);
  /**
   * Every worker process the server knows of now (pooled and FRESH).
   */
  'workers'?: (_pprocd_v1_WorkerRow)[];
  /**
   * Every open call (Map, Queue, Start, and the calls of running jobs).
   */
  'calls'?: (_pprocd_v1_CallRow)[];
  /**
   * The latest failed items (at most 20), newest first.
   */
  'recentFailures'?: (_pprocd_v1_FailureRow)[];
}

export interface GetStatusResponse__Output {
  'workersIdle': (number);
  'workersBusy': (number);
  'workersStarting': (number);
  /**
   * Items accepted and not yet running, over all calls.
   */
  'itemsQueued': (number);
  /**
   * Items running now.
   */
  'itemsRunning': (number);
  /**
   * Items that produced a value since start.
   */
  'itemsCompleted': (number);
  /**
   * Items that raised, timed out or were cancelled since start.
   */
  'itemsFailed': (number);
  /**
   * Items whose worker died since start.
   */
  'itemsCrashed': (number);
  /**
   * Workers started to replace dead or killed ones since start.
   */
  'workersRespawned': (number);
  'uptimeMs': (number);
  /**
   * Calls (Map, Queue, Start) open now.
   */
  'callsActive': (number);
  /**
   * Size of the pool.
   */
  'workersConfigured': (number);
  /**
   * Pooled workers replaced after --max-tasks-per-worker items since start.
   */
  'workersRecycled': (number);
  /**
   * Reloads of the callables (SIGHUP) that took effect since start.
   */
  'callableReloads': (number);
  /**
   * The server's version (as `pprocd --version` prints it, without the name).
   */
  'version': (string);
  /**
   * Every worker process the server knows of now (pooled and FRESH).
   */
  'workers': (_pprocd_v1_WorkerRow__Output)[];
  /**
   * Every open call (Map, Queue, Start, and the calls of running jobs).
   */
  'calls': (_pprocd_v1_CallRow__Output)[];
  /**
   * The latest failed items (at most 20), newest first.
   */
  'recentFailures': (_pprocd_v1_FailureRow__Output)[];
}
