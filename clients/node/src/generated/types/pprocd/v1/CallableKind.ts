// Original file: pprocd/v1/callable.proto

/**
 * Whether a callable returns one value or talks over a channel.
 */
export const CallableKind = {
  CALLABLE_KIND_UNSPECIFIED: 'CALLABLE_KIND_UNSPECIFIED',
  /**
   * Returns one value per invocation (pprocess MakeParallel).
   */
  CALLABLE_KIND_FUNCTION: 'CALLABLE_KIND_FUNCTION',
  /**
   * Receives a channel; may send many values and receive messages.
   */
  CALLABLE_KIND_CHANNEL: 'CALLABLE_KIND_CHANNEL',
} as const;

/**
 * Whether a callable returns one value or talks over a channel.
 */
export type CallableKind =
  | 'CALLABLE_KIND_UNSPECIFIED'
  | 0
  /**
   * Returns one value per invocation (pprocess MakeParallel).
   */
  | 'CALLABLE_KIND_FUNCTION'
  | 1
  /**
   * Receives a channel; may send many values and receive messages.
   */
  | 'CALLABLE_KIND_CHANNEL'
  | 2

/**
 * Whether a callable returns one value or talks over a channel.
 */
export type CallableKind__Output = typeof CallableKind[keyof typeof CallableKind]
