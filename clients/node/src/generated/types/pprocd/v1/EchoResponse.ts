// Original file: pprocd/v1/service.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../../google/protobuf/Value';

export interface EchoResponse {
  'value'?: (_google_protobuf_Value | null);
}

export interface EchoResponse__Output {
  'value': (_google_protobuf_Value__Output | null);
}
