// pprocd: the Node.js / TypeScript client of the pprocd process farm.
export { connect, Farm, Channel, StreamCall } from "./client";
export { defaultAddress, locateServer, resolveAddress, userSocketPath, ADDRESS_ENV, SYSTEM_SOCKET } from "./address";
export type { Located } from "./address";
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
export { ItemError, PprocdError, ServerUnavailable, codeName } from "./errors";
export type { ErrorKind } from "./errors";
export type { JsonValue } from "./values";
