// The client: a connection to pprocd, Promises and async iterators over it.
import * as grpc from "@grpc/grpc-js";
import type { Http2Stream } from "node:http2";
import { Duplex } from "node:stream";
import { contract, ProcessFarmServiceClient } from "./proto";
import { ItemError, PprocdError, wrapError } from "./errors";
import { Located, locateServer, resolveAddress } from "./address";
import { fromValue, JsonValue, toValue } from "./values";
import { BlockStats, convertStats, decodeArray, encodeArray, expandBlock, ItemStats, jsonOf, mergeByIndex } from "./packed";
import type { ItemResult__Output } from "./generated/types/pprocd/v1/ItemResult";
import type { Job__Output } from "./generated/types/pprocd/v1/Job";
import type { CallOptions as CallOptionsMessage } from "./generated/types/pprocd/v1/CallOptions";
import type { StartResponse__Output } from "./generated/types/pprocd/v1/StartResponse";
import type { ResultBlock__Output } from "./generated/types/pprocd/v1/ResultBlock";
import type { ReconnectResponse__Output } from "./generated/types/pprocd/v1/ReconnectResponse";
import type { Timestamp__Output } from "./generated/types/google/protobuf/Timestamp";

export { defaultAddress, locateServer, resolveAddress, userSocketPath, ADDRESS_ENV, SYSTEM_SOCKET } from "./address";
export type { Located } from "./address";

/** How the items of one call run (CallOptions), and how to cancel it. */
export interface Options {
  /** Items of this call running at once (0: the pool's size). */
  limit?: number;
  /** Items sent to a worker in one hop (0: automatic). */
  chunksize?: number;
  /** Per-item timeout in milliseconds (0: none; Start: the whole invocation). */
  timeoutMs?: number;
  /** "POOLED" (reused workers, the default) or "FRESH" (a new process per item). */
  isolation?: "POOLED" | "FRESH";
  /** How many inputs will be sent in all, if known. */
  expectedInputs?: number;
  /** Aborting it cancels the call (its running items are killed). */
  signal?: AbortSignal;
  /**
   * Items in the packed form (JSON arrays, results in blocks; the default,
   * unless the Farm was connected with packed: false) or, with false, in
   * the Value form (one google.protobuf.Value per item). Both give the
   * same values.
   */
  packed?: boolean;
  /**
   * Which resource figures successful results carry: "PER_ITEM" (each
   * its own `stats`; the Value form's default), "PER_CHUNK" (the packed
   * form's default: the results of one block share its `blockStats`) or
   * "NONE". Failed items always carry their own `stats`.
   */
  itemStats?: "PER_ITEM" | "PER_CHUNK" | "NONE";
}

export type { ItemStats, BlockStats };

export type Stream = "stdout" | "stderr";

export interface LogRecord {
  stream: Stream;
  data: Buffer;
  droppedBytes: number;
}

/** The outcome of one input (or, for a channel callable, one of its results). */
export interface Result {
  /** Position of the input in the call, from 0. */
  index: number;
  /** Position among this input's results (channel callables), from 0. */
  seq: number;
  /** True on the input's final result. */
  last: boolean;
  /** The value (null when the item failed or returned bytes). */
  value: JsonValue;
  /** A binary return value, for callables that return bytes. */
  data?: Buffer;
  /** Why the item failed; undefined when it succeeded. */
  error?: ItemError;
  /** Resources used; on an input's last result only (see Options.itemStats). */
  stats?: ItemStats;
  /**
   * itemStats "PER_CHUNK" (the packed form's default): the figures of the
   * block of successful results this one came in, shared by its items.
   */
  blockStats?: BlockStats;
  /** What the item wrote to stdout and stderr since its previous result. */
  logs: LogRecord[];
}

export type JobState = "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED" | "INTERRUPTED";

export interface Job {
  id: string;
  name: string;
  state: JobState;
  itemsDone: number;
  itemsTotal: number;
  createTime?: Date;
  startTime?: Date;
  endTime?: Date;
  callable: string;
  error: string;
  attempts: number;
  maxRetries: number;
  lastSeq: number;
  ownerUid: number;
  socketPath: string;
  /** True once the job has ended (SUCCEEDED, FAILED, CANCELLED or INTERRUPTED). */
  done: boolean;
}

export interface SubmitOptions extends Options {
  /** Unique among your jobs; accepted in place of the id. */
  name?: string;
  /** Results in input order (true) or completion order. */
  ordered?: boolean;
  /** A key used before returns that job instead of starting another. */
  idempotencyKey?: string;
  retries?: number;
  retryBackoffMs?: number;
  socketPath?: string;
}

/** One output of a job: a result, or the job at a change of state or progress. */
export interface JobOutput {
  jobId: string;
  seq: number;
  result?: Result;
  job?: Job;
  /** The job output only reports progress. */
  progress: boolean;
}

export interface ReconnectOptions {
  /** Replay outputs with a sequence number greater than this. */
  afterSeq?: number;
  /** Per job (id or name as given): overrides afterSeq. */
  afterSeqByJob?: Record<string, number>;
  signal?: AbortSignal;
  /** Successful results in blocks (the default, as for Options.packed), or with false one message each. */
  packed?: boolean;
}

export interface JobFilter {
  state?: JobState;
  name?: string;
  pageSize?: number;
  signal?: AbortSignal;
}

export interface Parameter {
  name: string;
  type: "UNSPECIFIED" | "ANY" | "INTEGER" | "NUMBER" | "STRING" | "BOOLEAN" | "LIST" | "STRUCT";
  /** Absent when the parameter is required. */
  default?: JsonValue;
  description: string;
  required: boolean;
}

export interface Callable {
  name: string;
  kind: "UNSPECIFIED" | "FUNCTION" | "CHANNEL";
  parameters: Parameter[];
  description: string;
  origin: string;
  limits: {
    maxMemoryMib: number;
    cpuSeconds: number;
    maxOpenFiles: number;
    timeoutMs: number;
    maxConcurrent: number;
  };
}

/** GetStatus: pool and queue counters. */
export interface Status {
  workersIdle: number;
  workersBusy: number;
  workersStarting: number;
  itemsQueued: number;
  itemsRunning: number;
  itemsCompleted: number;
  itemsFailed: number;
  itemsCrashed: number;
  workersRespawned: number;
  uptimeMs: number;
  callsActive: number;
  workersConfigured: number;
  workersRecycled: number;
  callableReloads: number;
}

export interface ConnectOptions {
  /** Transport credentials (default: insecure, as for a UNIX socket). */
  credentials?: grpc.ChannelCredentials;
  /** Extra grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
  /** The form of items of every call that does not choose (Options.packed); default true. */
  packed?: boolean;
}

/** Inputs sent per request of a Map or Queue call, in the Value form. */
const BATCH = 256;
/** Inputs sent per request in the packed form (one JSON array each). */
const PACKED_BATCH = 2048;
/** Bytes of JSON past which a packed request is split (well under the server's 4 MiB limit). */
const PACKED_BYTES = 1 << 20;
/** Outputs the server may pack into one Reconnect message (reconnect() unpacks them). */
const OUTPUTS_PER_MESSAGE = 256;

function callOptions(o: Options | undefined, packed: boolean): CallOptionsMessage {
  return {
    limit: o?.limit ?? 0,
    chunksize: o?.chunksize ?? 0,
    timeoutMs: o?.timeoutMs ?? 0,
    isolation: o?.isolation === "FRESH" ? "ISOLATION_FRESH" : "ISOLATION_UNSPECIFIED",
    expectedInputs: o?.expectedInputs ?? 0,
    itemStats: o?.itemStats ? `ITEM_STATS_${o.itemStats}` : "ITEM_STATS_UNSPECIFIED",
    packed,
  };
}

function convertResult(r: ItemResult__Output): Result {
  const result: Result = {
    index: Number(r.index),
    seq: Number(r.seq),
    last: r.last,
    value: r.outcome === "value" ? fromValue(r.value) : null,
    logs: (r.logs ?? []).map((l) => ({
      stream: l.stream === "LOG_STREAM_STDERR" ? "stderr" : "stdout",
      data: l.data ?? Buffer.alloc(0),
      droppedBytes: Number(l.droppedBytes),
    })),
  };
  if (r.outcome === "data") result.data = r.data;
  if (r.outcome === "error" && r.error) result.error = new ItemError(result.index, r.error);
  if (r.stats) result.stats = convertStats(r.stats);
  return result;
}

/** The Result of one item of a block: a successful function call, without logs. */
function blockResult(index: number, value: JsonValue, stats?: ItemStats, blockStats?: BlockStats): Result {
  const result: Result = { index, seq: 0, last: true, value, logs: [] };
  if (stats) result.stats = stats;
  if (blockStats) result.blockStats = blockStats;
  return result;
}

function blockResults(b: ResultBlock__Output): Result[] {
  return expandBlock(b, blockResult);
}

/** The results of one Map or Queue response: its ItemResults and blocks merged by index. */
function responseResults(response: { results?: ItemResult__Output[]; blocks?: ResultBlock__Output[] }): Result[] {
  return mergeByIndex(response.results ?? [], response.blocks ?? [], (r) => Number(r.index), convertResult, blockResults);
}

function toDate(t: Timestamp__Output | null | undefined): Date | undefined {
  if (!t) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6));
}

function convertJob(j: Job__Output | null | undefined): Job {
  if (!j) throw new PprocdError(grpc.status.INTERNAL, "the server answered without a job");
  const state = String(j.state).replace(/^JOB_STATE_/, "") as JobState;
  return {
    id: j.id,
    name: j.name,
    state,
    itemsDone: Number(j.itemsDone),
    itemsTotal: Number(j.itemsTotal),
    createTime: toDate(j.createTime),
    startTime: toDate(j.startTime),
    endTime: toDate(j.endTime),
    callable: j.callable,
    error: j.error,
    attempts: j.attempts,
    maxRetries: j.maxRetries,
    lastSeq: Number(j.lastSeq),
    ownerUid: Number(j.ownerUid),
    socketPath: j.socketPath,
    done: ["SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED"].includes(state),
  };
}

/**
 * The HTTP/2 stream under a grpc-js call, found by a bounded walk of its
 * objects (grpc-js does not expose it); undefined if not found.
 */
function http2StreamOf(call: object): Http2Stream | undefined {
  const seen = new Set<unknown>();
  let level: unknown[] = [call];
  for (let depth = 0; depth < 12 && level.length; depth++) {
    const next: unknown[] = [];
    for (const o of level) {
      if (!o || typeof o !== "object" || seen.has(o)) continue;
      seen.add(o);
      if (o instanceof Duplex && o.constructor?.name === "ClientHttp2Stream") return o as unknown as Http2Stream;
      for (const key of Object.keys(o)) {
        if (key.startsWith("_") || key === "channel" || key === "transport" || key === "session") continue;
        next.push((o as Record<string, unknown>)[key]);
      }
    }
    level = next;
  }
  return undefined;
}

/**
 * Cancels a call with an RST_STREAM alone. grpc-js cancels by closing the
 * HTTP/2 stream, and Node's close() ends the stream's writable side first:
 * the server would read a half-close (for Start, the end of the channel's
 * input, on which the callable may return) before the reset. Destroying
 * the stream resets it without ending it; grpc-js's cancel then gives the
 * call its CANCELLED status.
 */
function cancelCall(call: grpc.ClientDuplexStream<any, any> | grpc.ClientReadableStream<any>): void {
  const stream = http2StreamOf(call);
  if (stream && !stream.destroyed && !stream.writableEnded) {
    stream.destroy();
  }
  call.cancel();
}

/**
 * Writes one request, resolving once the stream takes more (at once, or
 * on 'drain'); also when the call ends meanwhile (its status is what the
 * reader sees). Rejects if the call has already ended.
 */
function writeTo(stream: grpc.ClientDuplexStream<any, any>, request: object): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed || stream.writableEnded) {
      reject(new Error("the call has ended: nothing more can be sent"));
      return;
    }
    if (stream.write(request)) {
      resolve();
      return;
    }
    const events = ["drain", "status", "close", "error"];
    const done = () => {
      for (const e of events) stream.off(e, done);
      resolve();
    };
    for (const e of events) stream.on(e, done);
  });
}

/** Cancels `call` when `signal` aborts; returns the function that stops listening. */
function linkSignal(signal: AbortSignal | undefined, call: { cancel(): void }): () => void {
  const cancel = () => ("write" in call ? cancelCall(call as grpc.ClientDuplexStream<any, any>) : call.cancel());
  if (!signal) return () => {};
  if (signal.aborted) {
    cancel();
    return () => {};
  }
  const onAbort = cancel;
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

type Inputs = Iterable<unknown> | AsyncIterable<unknown>;

/** A promise-like input: awaited before it is sent, as `for await` does. */
function isThenable(v: unknown): boolean {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/**
 * An open Map or Queue call: send inputs (and cancellations) as you go,
 * closeSend() when done, and read the results.
 */
export class StreamCall implements AsyncIterable<Result> {
  private sent = 0;
  private first = true;
  private unlink: () => void;

  constructor(
    private readonly call: grpc.ClientDuplexStream<any, any>,
    private readonly callable: string,
    private readonly options: Options | undefined,
    /** The form of items: packed (JSON arrays and result blocks) or Value. */
    readonly packed: boolean = true,
    /** Where the server was looked for, for the "no server" error. */
    private readonly located?: Located,
  ) {
    this.unlink = linkSignal(options?.signal, call);
    // Errors surface from the results; a write after the call failed is not one more.
    call.on("error", () => {});
  }

  private write(request: object): Promise<void> {
    if (this.first) {
      request = { callable: this.callable, options: callOptions(this.options, this.packed), ...request };
      this.first = false;
    }
    return writeTo(this.call, request);
  }

  /**
   * Sends inputs; returns the index of the first. An input JSON cannot
   * hold (NaN, an infinity, undefined, a function) throws TypeError, naming
   * it, before its request is sent.
   */
  send(...inputs: unknown[]): Promise<number> {
    return this.sendArray(inputs);
  }

  private async sendArray(inputs: readonly unknown[]): Promise<number> {
    const start = this.sent;
    if (!this.packed) {
      for (let i = 0; i < inputs.length || (i === 0 && this.first); i += BATCH) {
        const batch = inputs.slice(i, i + BATCH).map((v, k) => toValue(v, `inputs[${start + i + k}]`));
        await this.write({ inputs: batch });
        this.sent += batch.length;
      }
      return start;
    }
    if (inputs.length === 0 && this.first) await this.write({});
    for (let i = 0; i < inputs.length; ) {
      let n = Math.min(PACKED_BATCH, inputs.length - i);
      let packed = encodeArray(inputs.slice(i, i + n), "inputs", start + i);
      while (packed.length > PACKED_BYTES && n > 1) {
        n = Math.ceil(n / 2);
        packed = encodeArray(inputs.slice(i, i + n), "inputs", start + i);
      }
      await this.write({ packedInputs: packed });
      this.sent += n;
      i += n;
    }
    return start;
  }

  /**
   * Sends every input of an array or (async) iterable, in batches (of an
   * async iterable's, every 256 inputs).
   */
  async sendAll(inputs: Inputs): Promise<void> {
    const size = this.packed ? PACKED_BATCH : BATCH;
    if (Array.isArray(inputs) && !inputs.some(isThenable)) {
      for (let i = 0; i < inputs.length; i += size) await this.sendArray(inputs.slice(i, i + size));
      if (inputs.length === 0) await this.sendArray([]);
      return;
    }
    let batch: unknown[] = [];
    const sync = Symbol.iterator in inputs;
    for await (const input of inputs as AsyncIterable<unknown>) {
      batch.push(input);
      if (batch.length >= (sync ? size : BATCH)) {
        await this.sendArray(batch);
        batch = [];
      }
    }
    await this.sendArray(batch);
  }

  /** Cancels earlier inputs by index: each still yields a CANCELLED result. */
  async cancel(...indices: number[]): Promise<void> {
    await this.write({ cancelIndices: indices });
  }

  /** Ends the input (half-close). */
  closeSend(): void {
    if (this.first) void this.write({});
    this.call.end();
  }

  /** Cancels the whole call. */
  abort(): void {
    cancelCall(this.call);
  }

  /** The results, as they come; throws PprocdError if the call fails. */
  results(): AsyncGenerator<Result> {
    return flatten(this.batches());
  }

  /** The results, one array per response of the server. */
  async *batches(): AsyncGenerator<Result[]> {
    let received = false;
    try {
      for await (const response of this.call) {
        received = true;
        const results = responseResults(response);
        if (results.length) yield results;
      }
    } catch (err) {
      throw wrapError(err, received ? undefined : this.located);
    } finally {
      this.unlink();
      cancelCall(this.call); // a no-op once the call has ended; stops it when the reader gives up
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Result> {
    return this.results();
  }
}

/** The items of batches, one by one; leaving early closes `batches`. */
async function* flatten<T>(batches: AsyncGenerator<T[]>): AsyncGenerator<T> {
  for await (const batch of batches) for (const item of batch) yield item; // cheaper than yield*
}

/** A queue of values a reader awaits one by one. */
class Pending<T> {
  private items: T[] = [];
  private waiters: { resolve: (v: T | undefined) => void; reject: (e: unknown) => void }[] = [];
  private ended = false;
  private failure: unknown;

  push(item: T) {
    const w = this.waiters.shift();
    if (w) w.resolve(item);
    else this.items.push(item);
  }

  end(failure?: unknown) {
    this.ended = true;
    this.failure = failure;
    for (const w of this.waiters.splice(0)) {
      if (failure) w.reject(failure);
      else w.resolve(undefined);
    }
  }

  next(): Promise<T | undefined> {
    if (this.items.length) return Promise.resolve(this.items.shift());
    if (this.ended) return this.failure ? Promise.reject(this.failure) : Promise.resolve(undefined);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
}

/**
 * A running invocation of one callable (Start), talking over a two-way
 * channel: send() values to it, receive() the values it sends, close() the
 * input, result() its final outcome. Async-iterable over its messages.
 */
export class Channel implements AsyncIterable<JsonValue> {
  private readonly messages = new Pending<JsonValue>();
  private readonly final: Promise<Result>;
  private closed = false;
  /** What the callable wrote to stdout/stderr, in order. */
  readonly logs: LogRecord[] = [];

  constructor(
    private readonly call: grpc.ClientDuplexStream<any, StartResponse__Output>,
    signal?: AbortSignal,
    /** The form of items: packed (JSON arrays) or Value. */
    readonly packed: boolean = true,
    /** Where the server was looked for, for the "no server" error. */
    located?: Located,
  ) {
    const unlink = linkSignal(signal, call);
    call.on("error", () => {});
    this.final = (async () => {
      let result: Result | undefined;
      let received = false;
      try {
        for await (const response of call as AsyncIterable<StartResponse__Output>) {
          received = true;
          for (const l of response.logs ?? []) {
            this.logs.push({
              stream: l.stream === "LOG_STREAM_STDERR" ? "stderr" : "stdout",
              data: l.data ?? Buffer.alloc(0),
              droppedBytes: Number(l.droppedBytes),
            });
          }
          if (response.packedMessages?.length) {
            for (const m of decodeArray(response.packedMessages, "the channel's messages")) this.messages.push(m);
          }
          if (response.event === "message") this.messages.push(fromValue(response.message));
          else if (response.event === "result" && response.result) result = convertResult(response.result);
        }
      } catch (err) {
        const e = wrapError(err, received ? undefined : located);
        this.messages.end(e);
        throw e;
      } finally {
        unlink();
      }
      this.messages.end();
      if (!result) throw new PprocdError(grpc.status.INTERNAL, "the call ended without a result");
      return result;
    })();
    this.final.catch(() => {});
  }

  /** Sends one value to the callable. */
  send(message: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new Error("send after close"));
    if (this.packed) return writeTo(this.call, { packedMessages: Buffer.from(`[${jsonOf(message, "message")}]`, "utf8") });
    return writeTo(this.call, { message: toValue(message, "message") });
  }

  /**
   * The next value the callable sent; undefined once it has finished (its
   * result() is then ready). Throws PprocdError if the call failed.
   */
  receive(): Promise<JsonValue | undefined> {
    return this.messages.next();
  }

  /** Ends the callable's input (half-close). */
  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.call.end();
    }
  }

  /** Cancels the invocation; the call then fails CANCELLED. */
  cancel(): void {
    this.closed = true;
    cancelCall(this.call);
  }

  /** The final result; its `error` is set if the invocation failed. */
  result(): Promise<Result> {
    return this.final;
  }

  /** The final value; throws ItemError if the invocation failed. */
  async value(): Promise<JsonValue> {
    const r = await this.final;
    if (r.error) throw r.error;
    return r.value;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<JsonValue> {
    for (;;) {
      const m = await this.receive();
      if (m === undefined) return;
      yield m;
    }
  }
}

/** A connection to a pprocd server. */
export class Farm {
  /** The generated gRPC client, for what the wrapper does not cover. */
  readonly stub: ProcessFarmServiceClient;
  /** The form of items of calls that do not choose one (ConnectOptions.packed). */
  readonly packed: boolean;

  /** The address this farm talks to, as given or found (see locateServer). */
  readonly address: string;
  /** Where the server was looked for: a "no server" error names it. */
  readonly located: Located;

  /** `address`: see connect. */
  constructor(address?: string, options: ConnectOptions = {}) {
    this.located = locateServer(address);
    this.address = this.located.address;
    this.packed = options.packed ?? true;
    const Service = contract().pprocd.v1.ProcessFarmService;
    this.stub = new Service(resolveAddress(this.address), options.credentials ?? grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": -1,
      ...options.channelOptions,
    });
  }

  /** Closes the connection. */
  close(): void {
    this.stub.close();
  }

  /** Waits until the connection is up (or the deadline passes). */
  ready(timeoutMs = 10000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.stub.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(wrapError(err, this.located)) : resolve())),
    );
  }

  private unary<Req, Res>(method: string, request: Req, signal?: AbortSignal): Promise<Res> {
    return new Promise((resolve, reject) => {
      const call = (this.stub as any)[method](request, (err: grpc.ServiceError | null, res: Res) =>
        err ? reject(wrapError(err, this.located)) : resolve(res),
      ) as grpc.ClientUnaryCall;
      const unlink = linkSignal(signal, call);
      call.on("status", unlink);
    });
  }

  private run(kind: "Map" | "Queue", callable: string, inputs: Inputs, options?: Options): AsyncGenerator<Result[]> {
    const call = this.open(kind, callable, options);
    let inputError: unknown;
    const writing = call.sendAll(inputs).then(
      () => call.closeSend(),
      (err) => {
        inputError = err;
        call.abort();
      },
    );
    return (async function* () {
      try {
        yield* call.batches();
      } catch (err) {
        if (inputError) throw inputError;
        throw err;
      }
      await writing;
      if (inputError) throw inputError;
    })();
  }

  private open(kind: "Map" | "Queue", callable: string, options?: Options): StreamCall {
    const stream = kind === "Map" ? this.stub.Map() : this.stub.Queue();
    return new StreamCall(stream, callable, options, options?.packed ?? this.packed, this.located);
  }

  /**
   * Runs `callable` over `inputs` (each one value: the argument, a list
   * spread over the parameters, or an object naming them); results come in
   * input order. A failed item is a Result with `error`, not an exception.
   */
  map(callable: string, inputs: Inputs, options?: Options): AsyncGenerator<Result> {
    return flatten(this.run("Map", callable, inputs, options));
  }

  /** Like map, but results come as they complete, each naming its index. */
  queue(callable: string, inputs: Inputs, options?: Options): AsyncGenerator<Result> {
    return flatten(this.run("Queue", callable, inputs, options));
  }

  /** The values of map, in input order; throws the first item's ItemError. */
  async mapValues(callable: string, inputs: Inputs, options?: Options): Promise<JsonValue[]> {
    const values: JsonValue[] = [];
    for await (const batch of this.run("Map", callable, inputs, options)) {
      for (const r of batch) {
        if (r.error) throw r.error; // leaving the loop cancels the call
        if (r.last) values.push(r.value);
      }
    }
    return values;
  }

  /** An open Map call, to send inputs and cancel some as it runs. */
  openMap(callable: string, options?: Options): StreamCall {
    return this.open("Map", callable, options);
  }

  /** An open Queue call, to send inputs and cancel some as it runs. */
  openQueue(callable: string, options?: Options): StreamCall {
    return this.open("Queue", callable, options);
  }

  /** Starts one invocation of `callable` with `args` and a channel to it. */
  start(callable: string, args: unknown = null, options?: Options): Channel {
    const packed = options?.packed ?? this.packed;
    const first = packed
      ? { callable, packedArguments: Buffer.from(jsonOf(args, "arguments"), "utf8"), options: callOptions(options, true) }
      : { callable, arguments: toValue(args, "arguments"), options: callOptions(options, false) };
    const call = this.stub.Start();
    const channel = new Channel(call, options?.signal, packed, this.located);
    call.write(first);
    return channel;
  }

  /** Starts a background job of `callable` over `inputs`, which outlives this client. */
  async submit(callable: string, inputs: unknown[], options: SubmitOptions = {}): Promise<Job> {
    const packed = options.packed ?? this.packed;
    const res = await this.unary<object, { job: Job__Output }>(
      "Submit",
      {
        callable,
        ...(packed
          ? { packedInputs: encodeArray(inputs, "inputs") }
          : { inputs: inputs.map((v, i) => toValue(v, `inputs[${i}]`)) }),
        options: callOptions(options, packed),
        ordered: options.ordered ?? false,
        name: options.name ?? "",
        idempotencyKey: options.idempotencyKey ?? "",
        retries: options.retries ?? 0,
        socketPath: options.socketPath ?? "",
        retryBackoffMs: options.retryBackoffMs ?? 0,
      },
      options.signal,
    );
    return convertJob(res.job);
  }

  /**
   * Attaches to jobs (by id or name): their stored outputs, then live ones,
   * until every job named has ended.
   */
  async *reconnect(jobs: string | string[], options: ReconnectOptions = {}): AsyncGenerator<JobOutput> {
    const call = this.stub.Reconnect({
      jobs: typeof jobs === "string" ? [jobs] : jobs,
      afterSeq: options.afterSeq ?? 0,
      afterSeqByJob: options.afterSeqByJob ?? {},
      maxOutputsPerMessage: OUTPUTS_PER_MESSAGE,
      packed: options.packed ?? this.packed,
    });
    const unlink = linkSignal(options.signal, call);
    try {
      for await (const message of call as AsyncIterable<ReconnectResponse__Output>) {
        for (const o of [message, ...(message.more ?? [])]) {
          if (o.output === "block" && o.block) {
            const seq = Number(o.seq);
            for (const result of blockResults(o.block)) {
              yield { jobId: o.jobId, seq: seq + result.index - Number(o.block.firstIndex), progress: false, result };
            }
            continue;
          }
          const output: JobOutput = { jobId: o.jobId, seq: Number(o.seq), progress: o.progress };
          if (o.output === "result" && o.result) output.result = convertResult(o.result);
          if (o.output === "job" && o.job) output.job = convertJob(o.job);
          yield output;
        }
      }
    } catch (err) {
      throw wrapError(err);
    } finally {
      unlink();
      call.cancel();
    }
  }

  /** A job by id or name. */
  async getJob(job: string, signal?: AbortSignal): Promise<Job> {
    return convertJob((await this.unary<object, { job: Job__Output }>("GetJob", { job }, signal)).job);
  }

  /** Your jobs, newest first, page after page. */
  async *listJobs(filter: JobFilter = {}): AsyncGenerator<Job> {
    let pageToken = "";
    do {
      const res = await this.unary<object, { jobs: Job__Output[]; nextPageToken: string }>(
        "ListJobs",
        {
          state: filter.state ? `JOB_STATE_${filter.state}` : "JOB_STATE_UNSPECIFIED",
          name: filter.name ?? "",
          pageSize: filter.pageSize ?? 0,
          pageToken,
        },
        filter.signal,
      );
      for (const j of res.jobs) yield convertJob(j);
      pageToken = res.nextPageToken;
    } while (pageToken);
  }

  /** Cancels a queued or running job; returns it. */
  async cancelJob(job: string, signal?: AbortSignal): Promise<Job> {
    return convertJob((await this.unary<object, { job: Job__Output }>("CancelJob", { job }, signal)).job);
  }

  /** Deletes a job that has ended, with its stored outputs. */
  async deleteJob(job: string, signal?: AbortSignal): Promise<void> {
    await this.unary("DeleteJob", { job }, signal);
  }

  /** Every registered callable. */
  async listCallables(signal?: AbortSignal): Promise<Callable[]> {
    const res = await this.unary<object, { callables: any[] }>("ListCallables", {}, signal);
    return res.callables.map((c) => ({
      name: c.name,
      kind: String(c.kind).replace(/^CALLABLE_KIND_/, "") as Callable["kind"],
      description: c.description,
      origin: c.origin,
      parameters: (c.parameters ?? []).map((p: any) => {
        const param: Parameter = {
          name: p.name,
          type: String(p.type).replace(/^PARAMETER_TYPE_/, "") as Parameter["type"],
          description: p.description,
          required: p.required,
        };
        if (p.defaultValue) param.default = fromValue(p.defaultValue);
        return param;
      }),
      limits: {
        maxMemoryMib: Number(c.limits?.maxMemoryMib ?? 0),
        cpuSeconds: c.limits?.cpuSeconds ?? 0,
        maxOpenFiles: c.limits?.maxOpenFiles ?? 0,
        timeoutMs: c.limits?.timeoutMs ?? 0,
        maxConcurrent: c.limits?.maxConcurrent ?? 0,
      },
    }));
  }

  /** Pool and queue counters. */
  async status(signal?: AbortSignal): Promise<Status> {
    const s = await this.unary<object, Record<string, number>>("GetStatus", {}, signal);
    const out: Record<string, number> = {};
    for (const key of [
      "workersIdle", "workersBusy", "workersStarting", "itemsQueued", "itemsRunning", "itemsCompleted",
      "itemsFailed", "itemsCrashed", "workersRespawned", "uptimeMs", "callsActive", "workersConfigured",
      "workersRecycled", "callableReloads",
    ]) {
      out[key] = Number(s[key] ?? 0);
    }
    return out as unknown as Status;
  }

  /** Returns `value` unchanged, without touching a worker. */
  async echo(value: unknown, signal?: AbortSignal): Promise<JsonValue> {
    const res = await this.unary<object, { value: any }>("Echo", { value: toValue(value) }, signal);
    return fromValue(res.value);
  }
}

/**
 * Connects to pprocd at `address`: "unix:PATH", "unix:///ABS", a bare
 * socket path, "tcp:HOST:PORT" or "HOST:PORT" (default: $PPROCD_ADDRESS,
 * else the per-user socket, else the system socket; see locateServer).
 * The connection is made lazily, on the first call; with no server there
 * a call throws ServerUnavailable, naming each address tried.
 */
export function connect(address?: string, options?: ConnectOptions): Farm {
  return new Farm(address, options);
}
