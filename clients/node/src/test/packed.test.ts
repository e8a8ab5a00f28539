// The packed form's encoding and decoding, without a server: inputs as one
// JSON array that carries what the Value form carries (and fails where it
// fails, with the same error), blocks back to one value per item, and
// ItemResults and blocks merged by index.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { BlockStats, decodeArray, encodeArray, expandBlock, ItemStats, jsonOf, mergeByIndex } from "../packed";
import type { JsonValue } from "../values";
import { fromValue, toValue } from "../values";
import { PprocdError } from "../errors";
import type { ResultBlock__Output } from "../generated/types/pprocd/v1/ResultBlock";

/** What the Value form sends for `items`, as JSON text. */
function valueForm(items: unknown[]): string {
  return JSON.stringify(items.map((v, i) => fromValue(toValue(v, `inputs[${i}]`) as never)));
}

/** The error `f` throws, as [its class, its message]. */
function thrown(f: () => unknown): [string, string] {
  try {
    f();
  } catch (err) {
    return [(err as Error).constructor.name, (err as Error).message];
  }
  return ["", "nothing thrown"];
}

test("inputs become one JSON array carrying what the Value form carries", () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  const cases: unknown[][] = [
    [],
    [0, 1, -2.5, 1e300, "text", "héllo \u2028 \"quoted\"", true, false, null],
    [[1, [2, []]], { a: 1, nested: { b: [null, "x"] } }, {}],
    [new Date(0), 12n, new Point(1, 2), new Map([[1, 2]])],
  ];
  for (const items of cases) {
    const packed = encodeArray(items, "inputs");
    assert.ok(Buffer.isBuffer(packed));
    assert.equal(packed.toString("utf8"), valueForm(items), `inputs ${JSON.stringify(items, (_, v) => String(v))}`);
  }
  assert.equal(jsonOf({ when: new Date(0) }, "arguments"), JSON.stringify({ when: "1970-01-01T00:00:00.000Z" }));
});

test("what JSON cannot hold throws the Value form's TypeError, naming the input", () => {
  const bad: [unknown[], number][] = [
    [[1, Number.NaN], 1],
    [[Number.POSITIVE_INFINITY], 0],
    [["x", { deep: [Number.NEGATIVE_INFINITY] }], 1],
    [[undefined], 0],
    [[{ a: undefined }], 0],
    [[0, 0, { f: () => 1 }], 2],
    [[Symbol("s")], 0],
  ];
  for (const [items, index] of bad) {
    const first = 100; // as numbered in a later request of the call
    const got = thrown(() => encodeArray(items, "inputs", first));
    const want = thrown(() => toValue(items[index], `inputs[${first + index}]`));
    assert.equal(want[0], "TypeError");
    assert.deepEqual(got, want);
  }
  assert.deepEqual(thrown(() => jsonOf(Number.NaN, "message")), thrown(() => toValue(Number.NaN, "message")));
});

test("a block's values are decoded in one piece, each checked against its count", () => {
  assert.deepEqual(decodeArray(Buffer.from('[1,"a",[true,null],{"k":-0.5}]'), "block", 4), [
    1,
    "a",
    [true, null],
    { k: -0.5 },
  ]);
  assert.deepEqual(decodeArray(Buffer.alloc(0), "block"), []);
  for (const [bytes, count, message] of [
    ["[1,2]", 3, /2 values, want 3/],
    ["{}", undefined, /not a JSON array/],
    ["[1,", 2, /not JSON/],
    ["", 1, /no values, want 1/],
  ] as const) {
    assert.throws(
      () => decodeArray(Buffer.from(bytes), "block", count),
      (err: unknown) => err instanceof PprocdError && err.codeName === "INTERNAL" && message.test(err.details),
    );
  }
});

function block(first: number, values: unknown[], more: Partial<ResultBlock__Output> = {}): ResultBlock__Output {
  return {
    firstIndex: first,
    count: values.length,
    values: Buffer.from(JSON.stringify(values)),
    stats: null,
    itemStats: [],
    ...more,
  };
}

/** A block's items as plain objects. */
function blockItems(b: ResultBlock__Output) {
  return expandBlock(b, (index: number, value: JsonValue, stats?: ItemStats, blockStats?: BlockStats) => ({
    index,
    value,
    stats,
    blockStats,
  }));
}

const stats = (pid: number, wall: number) => ({ wallUs: wall, cpuUs: 1, maxRssKib: 2, workerPid: pid, startUnixUs: 3 });

test("block items carry their index, value and the chosen stats", () => {
  const perChunk = blockItems(block(10, ["a", "b"], { stats: stats(7, 40) }));
  assert.deepEqual(perChunk.map((i) => [i.index, i.value, i.stats]), [[10, "a", undefined], [11, "b", undefined]]);
  assert.equal(perChunk[0].blockStats, perChunk[1].blockStats, "one block's items share its figures");
  assert.deepEqual(perChunk[0].blockStats, { ...stats(7, 40), firstIndex: 10, count: 2 });

  const perItem = blockItems(block(0, [1, 2], { itemStats: [stats(5, 10), stats(6, 20)] }));
  assert.deepEqual(perItem.map((i) => [i.value, i.stats?.workerPid, i.stats?.wallUs, i.blockStats]), [
    [1, 5, 10, undefined],
    [2, 6, 20, undefined],
  ]);

  assert.deepEqual(blockItems(block(3, [null])), [{ index: 3, value: null, stats: undefined, blockStats: undefined }]);
});

test("ItemResults and blocks of one response merge by index", () => {
  const results = [{ index: 2 }, { index: 5 }, { index: 5 }, { index: 9 }];
  const blocks = [block(0, [0, 1]), block(3, [3, 4]), block(6, [6, 7, 8])];
  const merged = mergeByIndex(results, blocks, (r) => r.index, (r) => `result ${r.index}`, (b) =>
    blockItems(b).map((i) => `value ${i.index}`),
  );
  assert.deepEqual(merged, [
    "value 0", "value 1", "result 2", "value 3", "value 4", "result 5", "result 5", "value 6", "value 7", "value 8",
    "result 9",
  ]);
  const onlyResults = mergeByIndex(results, [], (r) => r.index, (r) => r.index, () => []);
  assert.deepEqual(onlyResults, [2, 5, 5, 9]);
  const onlyBlocks = mergeByIndex([], blocks, () => 0, () => -1, (b) => blockItems(b).map((i) => i.index));
  assert.deepEqual(onlyBlocks, [0, 1, 3, 4, 6, 7, 8]);
});
