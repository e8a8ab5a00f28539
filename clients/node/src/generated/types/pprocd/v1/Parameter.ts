// Original file: pprocd/v1/callable.proto

import type { ParameterType as _pprocd_v1_ParameterType, ParameterType__Output as _pprocd_v1_ParameterType__Output } from '../../pprocd/v1/ParameterType';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../../google/protobuf/Value';

/**
 * One declared parameter of a callable.
 */
export interface Parameter {
  'name'?: (string);
  'type'?: (_pprocd_v1_ParameterType);
  /**
   * Absent when the parameter is required.
   */
  'defaultValue'?: (_google_protobuf_Value | null);
  'description'?: (string);
  /**
   * True when the parameter must be given (it has no default).
   */
  'required'?: (boolean);
}

/**
 * One declared parameter of a callable.
 */
export interface Parameter__Output {
  'name': (string);
  'type': (_pprocd_v1_ParameterType__Output);
  /**
   * Absent when the parameter is required.
   */
  'defaultValue': (_google_protobuf_Value__Output | null);
  'description': (string);
  /**
   * True when the parameter must be given (it has no default).
   */
  'required': (boolean);
}
