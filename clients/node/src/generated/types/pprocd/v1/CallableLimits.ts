// Original file: pprocd/v1/callable.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Resource limits of one callable, set by the server's configuration. Zero
 * means no limit.
 */
export interface CallableLimits {
  /**
   * Memory an invocation may add to its process (address space), in MiB.
   * Past it allocation fails and the item ends ERROR_KIND_MEMORY_LIMIT.
   */
  'maxMemoryMib'?: (number | string | Long);
  /**
   * CPU time an invocation may use, in seconds. Past it the process is
   * killed (SIGXCPU) and the item ends ERROR_KIND_CPU_LIMIT.
   */
  'cpuSeconds'?: (number);
  /**
   * Descriptors an invocation's process may have open (including the few
   * the worker itself holds).
   */
  'maxOpenFiles'?: (number);
  /**
   * The per-item timeout when a call sets none (CallOptions.timeout_ms).
   */
  'timeoutMs'?: (number);
  /**
   * Invocations of this callable running at once, over all calls.
   */
  'maxConcurrent'?: (number);
}

/**
 * Resource limits of one callable, set by the server's configuration. Zero
 * means no limit.
 */
export interface CallableLimits__Output {
  /**
   * Memory an invocation may add to its process (address space), in MiB.
   * Past it allocation fails and the item ends ERROR_KIND_MEMORY_LIMIT.
   */
  'maxMemoryMib': (number);
  /**
   * CPU time an invocation may use, in seconds. Past it the process is
   * killed (SIGXCPU) and the item ends ERROR_KIND_CPU_LIMIT.
   */
  'cpuSeconds': (number);
  /**
   * Descriptors an invocation's process may have open (including the few
   * the worker itself holds).
   */
  'maxOpenFiles': (number);
  /**
   * The per-item timeout when a call sets none (CallOptions.timeout_ms).
   */
  'timeoutMs': (number);
  /**
   * Invocations of this callable running at once, over all calls.
   */
  'maxConcurrent': (number);
}
