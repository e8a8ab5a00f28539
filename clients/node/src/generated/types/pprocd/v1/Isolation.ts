// Original file: pprocd/v1/item.proto

/**
 * Process isolation of one invocation (pprocess `reuse`).
 */
export const Isolation = {
  /**
   * Same as ISOLATION_POOLED.
   */
  ISOLATION_UNSPECIFIED: 'ISOLATION_UNSPECIFIED',
  /**
   * Long-lived pooled workers are reused between invocations.
   */
  ISOLATION_POOLED: 'ISOLATION_POOLED',
  /**
   * Every invocation in a brand-new process forked from the template.
   */
  ISOLATION_FRESH: 'ISOLATION_FRESH',
} as const;

/**
 * Process isolation of one invocation (pprocess `reuse`).
 */
export type Isolation =
  /**
   * Same as ISOLATION_POOLED.
   */
  | 'ISOLATION_UNSPECIFIED'
  | 0
  /**
   * Long-lived pooled workers are reused between invocations.
   */
  | 'ISOLATION_POOLED'
  | 1
  /**
   * Every invocation in a brand-new process forked from the template.
   */
  | 'ISOLATION_FRESH'
  | 2

/**
 * Process isolation of one invocation (pprocess `reuse`).
 */
export type Isolation__Output = typeof Isolation[keyof typeof Isolation]
