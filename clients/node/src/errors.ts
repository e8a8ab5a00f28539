// The errors the client throws.
import * as grpc from "@grpc/grpc-js";
import type { ItemError__Output } from "./generated/types/pprocd/v1/ItemError";
import type { Located } from "./address";

/** Why one item failed (ErrorKind without its prefix). */
export type ErrorKind =
  | "UNSPECIFIED"
  | "RAISED"
  | "CRASHED"
  | "TIMED_OUT"
  | "CANCELLED"
  | "INVALID_ARGUMENT"
  | "MEMORY_LIMIT"
  | "CPU_LIMIT";

/**
 * The failure of one item. Per-item failures are data: the call goes on,
 * and the item's Result carries this as `error`.
 */
export class ItemError extends Error {
  override name = "ItemError";
  /** Position of the failed input in its call. */
  readonly index: number;
  readonly kind: ErrorKind;
  /** For CRASHED by a signal: its name, e.g. "SIGSEGV". */
  readonly signal: string;
  /** For CRASHED by exit: the exit status. */
  readonly exitCode: number;
  /** The last lines the worker wrote to stderr before it failed. */
  readonly stderrTail: string;
  /** The server's reason, without the kind. */
  readonly reason: string;

  constructor(index: number, e: ItemError__Output) {
    const kind = String(e.kind).replace(/^ERROR_KIND_/, "") as ErrorKind;
    let text = `item ${index}: ${kind}`;
    if (e.signal) text += ` (${e.signal})`;
    else if (kind === "CRASHED") text += ` (exit ${e.exitCode})`;
    if (e.message) text += `: ${e.message}`;
    super(text);
    this.index = index;
    this.kind = kind;
    this.signal = e.signal ?? "";
    this.exitCode = e.exitCode ?? 0;
    this.stderrTail = e.stderrTail ?? "";
    this.reason = e.message ?? "";
  }
}

/** Canonical names of gRPC status codes, e.g. "NOT_FOUND". */
export function codeName(code: number): string {
  return (grpc.status as unknown as Record<number, string>)[code] ?? String(code);
}

/** A call failed as a whole: its gRPC status. */
export class PprocdError extends Error {
  override name = "PprocdError";
  /** The gRPC status code (grpc.status). */
  readonly code: number;
  /** Its canonical name, e.g. "NOT_FOUND". */
  readonly codeName: string;
  /** The server's message. */
  readonly details: string;

  constructor(code: number, details: string) {
    super(`${codeName(code)}: ${details}`);
    this.code = code;
    this.codeName = codeName(code);
    this.details = details;
  }
}

/**
 * No server answered (UNAVAILABLE before any response): the message names
 * each address tried and how to start a server; `details` is gRPC's reason.
 */
export class ServerUnavailable extends PprocdError {
  override name = "ServerUnavailable";

  constructor(
    /** The address that was tried last. */
    readonly address: string,
    hint: string,
    details: string,
  ) {
    super(grpc.status.UNAVAILABLE, details);
    this.message = `cannot reach pprocd at ${address}: ${hint}`;
  }
}

/**
 * A gRPC error (or any other) as the client throws it. With `located` (no
 * response came yet), UNAVAILABLE is a ServerUnavailable.
 */
export function wrapError(err: unknown, located?: Located): Error {
  if (err instanceof PprocdError || err instanceof ItemError) return err;
  const e = err as Partial<grpc.ServiceError>;
  if (e && e.code === grpc.status.UNAVAILABLE && located) {
    return new ServerUnavailable(located.address, located.noServerHint, e.details ?? e.message ?? "");
  }
  if (e && typeof e.code === "number") return new PprocdError(e.code, e.details ?? e.message ?? "");
  return err instanceof Error ? err : new Error(String(err));
}
