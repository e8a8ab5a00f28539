// Original file: pprocd/v1/callable.proto

import type { CallableKind as _pprocd_v1_CallableKind, CallableKind__Output as _pprocd_v1_CallableKind__Output } from '../../pprocd/v1/CallableKind';
import type { Parameter as _pprocd_v1_Parameter, Parameter__Output as _pprocd_v1_Parameter__Output } from '../../pprocd/v1/Parameter';
import type { CallableLimits as _pprocd_v1_CallableLimits, CallableLimits__Output as _pprocd_v1_CallableLimits__Output } from '../../pprocd/v1/CallableLimits';

/**
 * A registered callable, as ListCallables describes it.
 */
export interface Callable {
  'name'?: (string);
  'kind'?: (_pprocd_v1_CallableKind);
  'parameters'?: (_pprocd_v1_Parameter)[];
  'description'?: (string);
  /**
   * Where it comes from: "builtin", a plugin path, or a command.
   */
  'origin'?: (string);
  /**
   * Its resource limits (all zero: none).
   */
  'limits'?: (_pprocd_v1_CallableLimits | null);
}

/**
 * A registered callable, as ListCallables describes it.
 */
export interface Callable__Output {
  'name': (string);
  'kind': (_pprocd_v1_CallableKind__Output);
  'parameters': (_pprocd_v1_Parameter__Output)[];
  'description': (string);
  /**
   * Where it comes from: "builtin", a plugin path, or a command.
   */
  'origin': (string);
  /**
   * Its resource limits (all zero: none).
   */
  'limits': (_pprocd_v1_CallableLimits__Output | null);
}
