import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value';
import type { Callable as _pprocd_v1_Callable, Callable__Output as _pprocd_v1_Callable__Output } from './pprocd/v1/Callable';
import type { CallableLimits as _pprocd_v1_CallableLimits, CallableLimits__Output as _pprocd_v1_CallableLimits__Output } from './pprocd/v1/CallableLimits';
import type { Parameter as _pprocd_v1_Parameter, Parameter__Output as _pprocd_v1_Parameter__Output } from './pprocd/v1/Parameter';
import type { PythonFunction as _pprocd_v1_PythonFunction, PythonFunction__Output as _pprocd_v1_PythonFunction__Output } from './pprocd/v1/PythonFunction';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      NullValue: EnumTypeDefinition
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
  }
  pprocd: {
    v1: {
      Callable: MessageTypeDefinition<_pprocd_v1_Callable, _pprocd_v1_Callable__Output>
      CallableKind: EnumTypeDefinition
      CallableLimits: MessageTypeDefinition<_pprocd_v1_CallableLimits, _pprocd_v1_CallableLimits__Output>
      Parameter: MessageTypeDefinition<_pprocd_v1_Parameter, _pprocd_v1_Parameter__Output>
      ParameterType: EnumTypeDefinition
      PythonFunction: MessageTypeDefinition<_pprocd_v1_PythonFunction, _pprocd_v1_PythonFunction__Output>
    }
  }
}

