// pprocd: the Node.js / TypeScript client of the pprocd process farm.
export { connect, defaultAddress, resolveAddress, Farm, Channel, StreamCall } from "./client";
export type {
  Options,
  SubmitOptions,
  ReconnectOptions,
  ConnectOptions,
  JobFilter,
  Result,
  ItemStats,
  LogRecord,
  Stream,
  Job,
  JobState,
  JobOutput,
  Callable,
  Parameter,
  Status,
} from "./client";
export { ItemError, PprocdError, codeName } from "./errors";
export type { ErrorKind } from "./errors";
export type { JsonValue } from "./values";
