// Original file: pprocd/v1/service.proto

import type { Callable as _pprocd_v1_Callable, Callable__Output as _pprocd_v1_Callable__Output } from '../../pprocd/v1/Callable';

export interface ListCallablesResponse {
  'callables'?: (_pprocd_v1_Callable)[];
}

export interface ListCallablesResponse__Output {
  'callables': (_pprocd_v1_Callable__Output)[];
}
