// Original file: pprocd/v1/callable.proto

/**
 * The type a parameter accepts.
 */
export const ParameterType = {
  PARAMETER_TYPE_UNSPECIFIED: 'PARAMETER_TYPE_UNSPECIFIED',
  /**
   * Any JSON value.
   */
  PARAMETER_TYPE_ANY: 'PARAMETER_TYPE_ANY',
  /**
   * A whole number (a JSON number without a fraction).
   */
  PARAMETER_TYPE_INTEGER: 'PARAMETER_TYPE_INTEGER',
  /**
   * Any JSON number.
   */
  PARAMETER_TYPE_NUMBER: 'PARAMETER_TYPE_NUMBER',
  PARAMETER_TYPE_STRING: 'PARAMETER_TYPE_STRING',
  PARAMETER_TYPE_BOOLEAN: 'PARAMETER_TYPE_BOOLEAN',
  PARAMETER_TYPE_LIST: 'PARAMETER_TYPE_LIST',
  PARAMETER_TYPE_STRUCT: 'PARAMETER_TYPE_STRUCT',
} as const;

/**
 * The type a parameter accepts.
 */
export type ParameterType =
  | 'PARAMETER_TYPE_UNSPECIFIED'
  | 0
  /**
   * Any JSON value.
   */
  | 'PARAMETER_TYPE_ANY'
  | 1
  /**
   * A whole number (a JSON number without a fraction).
   */
  | 'PARAMETER_TYPE_INTEGER'
  | 2
  /**
   * Any JSON number.
   */
  | 'PARAMETER_TYPE_NUMBER'
  | 3
  | 'PARAMETER_TYPE_STRING'
  | 4
  | 'PARAMETER_TYPE_BOOLEAN'
  | 5
  | 'PARAMETER_TYPE_LIST'
  | 6
  | 'PARAMETER_TYPE_STRUCT'
  | 7

/**
 * The type a parameter accepts.
 */
export type ParameterType__Output = typeof ParameterType[keyof typeof ParameterType]
