// The contract, loaded at run time from the .proto files scripts/regen-clients
// copies into src/generated/proto (with the same options as the types).
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType } from "./generated/types/service";
import type { ProcessFarmServiceClient } from "./generated/types/pprocd/v1/ProcessFarmService";

export type { ProcessFarmServiceClient };

let loaded: ProtoGrpcType | undefined;

export function contract(): ProtoGrpcType {
  if (!loaded) {
    const dir = path.join(__dirname, "..", "src", "generated", "proto");
    const definition = protoLoader.loadSync("pprocd/v1/service.proto", {
      includeDirs: [dir],
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loaded;
}
