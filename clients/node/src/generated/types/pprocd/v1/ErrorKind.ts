// Original file: pprocd/v1/item.proto

/**
 * Why one item failed. Per-item failure is data, never an RPC failure.
 */
export const ErrorKind = {
  ERROR_KIND_UNSPECIFIED: 'ERROR_KIND_UNSPECIFIED',
  /**
   * The callable reported an error (a raised exception).
   */
  ERROR_KIND_RAISED: 'ERROR_KIND_RAISED',
  /**
   * The worker process died while running the item (signal or exit).
   */
  ERROR_KIND_CRASHED: 'ERROR_KIND_CRASHED',
  /**
   * The item ran past its timeout and its worker was killed.
   */
  ERROR_KIND_TIMED_OUT: 'ERROR_KIND_TIMED_OUT',
  /**
   * The call was cancelled before the item finished.
   */
  ERROR_KIND_CANCELLED: 'ERROR_KIND_CANCELLED',
  /**
   * The item's arguments did not match the callable's parameters.
   */
  ERROR_KIND_INVALID_ARGUMENT: 'ERROR_KIND_INVALID_ARGUMENT',
  /**
   * The invocation went past its callable's memory limit
   * (CallableLimits.max_memory_mib).
   */
  ERROR_KIND_MEMORY_LIMIT: 'ERROR_KIND_MEMORY_LIMIT',
  /**
   * The invocation used up its callable's CPU time limit
   * (CallableLimits.cpu_seconds); its worker was killed.
   */
  ERROR_KIND_CPU_LIMIT: 'ERROR_KIND_CPU_LIMIT',
} as const;

/**
 * Why one item failed. Per-item failure is data, never an RPC failure.
 */
export type ErrorKind =
  | 'ERROR_KIND_UNSPECIFIED'
  | 0
  /**
   * The callable reported an error (a raised exception).
   */
  | 'ERROR_KIND_RAISED'
  | 1
  /**
   * The worker process died while running the item (signal or exit).
   */
  | 'ERROR_KIND_CRASHED'
  | 2
  /**
   * The item ran past its timeout and its worker was killed.
   */
  | 'ERROR_KIND_TIMED_OUT'
  | 3
  /**
   * The call was cancelled before the item finished.
   */
  | 'ERROR_KIND_CANCELLED'
  | 4
  /**
   * The item's arguments did not match the callable's parameters.
   */
  | 'ERROR_KIND_INVALID_ARGUMENT'
  | 5
  /**
   * The invocation went past its callable's memory limit
   * (CallableLimits.max_memory_mib).
   */
  | 'ERROR_KIND_MEMORY_LIMIT'
  | 6
  /**
   * The invocation used up its callable's CPU time limit
   * (CallableLimits.cpu_seconds); its worker was killed.
   */
  | 'ERROR_KIND_CPU_LIMIT'
  | 7

/**
 * Why one item failed. Per-item failure is data, never an RPC failure.
 */
export type ErrorKind__Output = typeof ErrorKind[keyof typeof ErrorKind]
