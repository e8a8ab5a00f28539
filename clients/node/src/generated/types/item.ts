import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value';
import type { CallOptions as _pprocd_v1_CallOptions, CallOptions__Output as _pprocd_v1_CallOptions__Output } from './pprocd/v1/CallOptions';
import type { ItemError as _pprocd_v1_ItemError, ItemError__Output as _pprocd_v1_ItemError__Output } from './pprocd/v1/ItemError';
import type { ItemResult as _pprocd_v1_ItemResult, ItemResult__Output as _pprocd_v1_ItemResult__Output } from './pprocd/v1/ItemResult';
import type { ItemStats as _pprocd_v1_ItemStats, ItemStats__Output as _pprocd_v1_ItemStats__Output } from './pprocd/v1/ItemStats';
import type { LogRecord as _pprocd_v1_LogRecord, LogRecord__Output as _pprocd_v1_LogRecord__Output } from './pprocd/v1/LogRecord';
import type { ResultBlock as _pprocd_v1_ResultBlock, ResultBlock__Output as _pprocd_v1_ResultBlock__Output } from './pprocd/v1/ResultBlock';

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
      CallOptions: MessageTypeDefinition<_pprocd_v1_CallOptions, _pprocd_v1_CallOptions__Output>
      ErrorKind: EnumTypeDefinition
      Isolation: EnumTypeDefinition
      ItemError: MessageTypeDefinition<_pprocd_v1_ItemError, _pprocd_v1_ItemError__Output>
      ItemResult: MessageTypeDefinition<_pprocd_v1_ItemResult, _pprocd_v1_ItemResult__Output>
      ItemStats: MessageTypeDefinition<_pprocd_v1_ItemStats, _pprocd_v1_ItemStats__Output>
      ItemStatsMode: EnumTypeDefinition
      LogRecord: MessageTypeDefinition<_pprocd_v1_LogRecord, _pprocd_v1_LogRecord__Output>
      LogStream: EnumTypeDefinition
      ResultBlock: MessageTypeDefinition<_pprocd_v1_ResultBlock, _pprocd_v1_ResultBlock__Output>
    }
  }
}

