// The packed form of items: inputs as one JSON array per request, successful
// results as ResultBlocks (one JSON array each) beside the ItemResults of
// failures, channel messages and results with logs. Each request or block is
// encoded or decoded with one JSON.stringify or JSON.parse; the user still
// gets one value per item, the same as the Value form gives.
import * as grpc from "@grpc/grpc-js";
import { PprocdError } from "./errors";
import { fromValue, JsonValue, toValue } from "./values";
import type { ResultBlock__Output } from "./generated/types/pprocd/v1/ResultBlock";
import type { ItemStats__Output } from "./generated/types/pprocd/v1/ItemStats";

/**
 * True when JSON.stringify gives `v` exactly as the Value form would send
 * it: null, booleans, strings, finite numbers, and arrays and objects of
 * those (no toJSON, no undefined, functions, symbols or bigints).
 */
function plain(v: unknown): boolean {
  switch (typeof v) {
    case "number":
      return v - v === 0; // false for NaN and the infinities
    case "string":
    case "boolean":
      return true;
    case "object": {
      if (v === null) return true;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!plain(v[i])) return false;
        return true;
      }
      if (typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false; // Map, boxed primitives, class instances
      for (const key of Object.keys(v)) if (!plain((v as Record<string, unknown>)[key])) return false;
      return true;
    }
    default:
      return false;
  }
}

/**
 * `v` as the JSON value the Value form would send; throws the Value form's
 * TypeError (naming `where`) for what JSON cannot hold (NaN, infinities,
 * undefined, functions, symbols).
 */
function asJson(v: unknown, where: string): unknown {
  return plain(v) ? v : fromValue(toValue(v, where) as never);
}

/**
 * Items as one JSON array (UTF-8). Item k is named `${where}[${first + k}]`
 * in errors, as toValue names it.
 */
export function encodeArray(items: readonly unknown[], where: string, first = 0): Buffer {
  let ok = true;
  for (let i = 0; i < items.length && ok; i++) {
    const v = items[i];
    ok = typeof v === "number" ? v - v === 0 : plain(v);
  }
  const json = ok ? items : items.map((v, k) => asJson(v, `${where}[${first + k}]`));
  return Buffer.from(JSON.stringify(json), "utf8");
}

/** One value as JSON text, with the Value form's errors. */
export function jsonOf(v: unknown, where: string): string {
  return JSON.stringify(asJson(v, where));
}

/**
 * The values of a JSON array the server sent (a ResultBlock's values,
 * packed channel messages). `count`, when given, is how many it must hold.
 * A malformed array is an INTERNAL PprocdError: the call cannot go on.
 */
export function decodeArray(bytes: Buffer | Uint8Array | null | undefined, what: string, count?: number): JsonValue[] {
  if (!bytes || bytes.length === 0) {
    if (!count) return [];
    throw new PprocdError(grpc.status.INTERNAL, `${what}: no values, want ${count}`);
  }
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8"));
  } catch (err) {
    throw new PprocdError(grpc.status.INTERNAL, `${what}: not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(values)) throw new PprocdError(grpc.status.INTERNAL, `${what}: not a JSON array`);
  if (count !== undefined && values.length !== count) {
    throw new PprocdError(grpc.status.INTERNAL, `${what}: ${values.length} values, want ${count}`);
  }
  return values as JsonValue[];
}

/** Resources used by one invocation. */
export interface ItemStats {
  wallUs: number;
  cpuUs: number;
  maxRssKib: number;
  workerPid: number;
  startUnixUs: number;
}

/**
 * The figures of one block of successful results (itemStats "PER_CHUNK",
 * the packed form's default): wallUs and cpuUs summed over its items, the
 * largest maxRssKib, the workerPid and startUnixUs of its first item.
 */
export interface BlockStats extends ItemStats {
  /** Index of the block's first item. */
  firstIndex: number;
  /** How many items the block holds. */
  count: number;
}

export function convertStats(s: ItemStats__Output): ItemStats {
  return {
    wallUs: Number(s.wallUs),
    cpuUs: Number(s.cpuUs),
    maxRssKib: Number(s.maxRssKib),
    workerPid: s.workerPid,
    startUnixUs: Number(s.startUnixUs),
  };
}

/**
 * The items of a ResultBlock, in order, each made by `make` from its index,
 * its value and its figures: its own (itemStats PER_ITEM) or its block's,
 * one object shared by the block's items (PER_CHUNK).
 */
export function expandBlock<T>(
  b: ResultBlock__Output,
  make: (index: number, value: JsonValue, stats?: ItemStats, blockStats?: BlockStats) => T,
): T[] {
  const first = Number(b.firstIndex);
  const values = decodeArray(b.values, `the block of items ${first}..${first + b.count - 1}`, b.count);
  const perItem = b.itemStats ?? [];
  const out: T[] = new Array(values.length);
  if (perItem.length) {
    for (let k = 0; k < values.length; k++) {
      out[k] = make(first + k, values[k], perItem[k] ? convertStats(perItem[k]) : undefined);
    }
    return out;
  }
  const shared: BlockStats | undefined = b.stats ? { ...convertStats(b.stats), firstIndex: first, count: b.count } : undefined;
  for (let k = 0; k < values.length; k++) out[k] = make(first + k, values[k], undefined, shared);
  return out;
}

/**
 * Merges a response's ItemResults and ResultBlocks by index (each list is
 * in the server's order), converting each with `convert` / `expand`.
 */
export function mergeByIndex<R, T>(
  results: readonly R[],
  blocks: readonly ResultBlock__Output[],
  indexOf: (r: R) => number,
  convert: (r: R) => T,
  expand: (b: ResultBlock__Output) => T[],
): T[] {
  if (blocks.length === 0) return results.map(convert);
  if (results.length === 0) return blocks.length === 1 ? expand(blocks[0]) : blocks.flatMap(expand);
  const out: T[] = [];
  let i = 0;
  for (const b of blocks) {
    const first = Number(b.firstIndex);
    while (i < results.length && indexOf(results[i]) < first) out.push(convert(results[i++]));
    for (const t of expand(b)) out.push(t);
  }
  while (i < results.length) out.push(convert(results[i++]));
  return out;
}
