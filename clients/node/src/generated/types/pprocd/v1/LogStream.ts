// Original file: pprocd/v1/item.proto

/**
 * Which standard stream a callable wrote to.
 */
export const LogStream = {
  LOG_STREAM_UNSPECIFIED: 'LOG_STREAM_UNSPECIFIED',
  LOG_STREAM_STDOUT: 'LOG_STREAM_STDOUT',
  LOG_STREAM_STDERR: 'LOG_STREAM_STDERR',
} as const;

/**
 * Which standard stream a callable wrote to.
 */
export type LogStream =
  | 'LOG_STREAM_UNSPECIFIED'
  | 0
  | 'LOG_STREAM_STDOUT'
  | 1
  | 'LOG_STREAM_STDERR'
  | 2

/**
 * Which standard stream a callable wrote to.
 */
export type LogStream__Output = typeof LogStream[keyof typeof LogStream]
