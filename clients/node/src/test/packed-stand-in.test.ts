// The client's side of the packed form against a stand-in server that
// speaks it as the contract says, so that no pprocd is needed: what the
// client sends (options.packed in the first request, inputs only as JSON
// arrays numbered across requests, none past the split size) and what it
// hands back (blocks and ItemResults merged by index, packed channel
// messages, Reconnect blocks numbered by seq).
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { connect, Farm, Result } from "../index";
import { contract } from "../proto";

type Obj = Record<string, any>;

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const parse = (b: Buffer) => (b.length ? JSON.parse(b.toString()) : undefined);

/**
 * Answers each Map request at once, in one response: runs of inputs as
 * blocks; the input "fail" as a failed ItemResult, "log" as an ItemResult
 * that wrote to stdout.
 */
function answerMap(inputs: unknown[], first: number): Obj {
  const response: Obj = { results: [], blocks: [] };
  let run: { first: number; values: unknown[] } | undefined;
  const flush = () => {
    if (!run) return;
    response.blocks.push({
      firstIndex: run.first,
      count: run.values.length,
      values: json(run.values),
      stats: { workerPid: 7, wallUs: run.values.length },
    });
    run = undefined;
  };
  inputs.forEach((v, k) => {
    const index = first + k;
    if (v === "fail") {
      flush();
      response.results.push({ index, last: true, error: { kind: "ERROR_KIND_RAISED", message: "no" }, stats: { workerPid: 8 } });
    } else if (v === "log") {
      flush();
      response.results.push({
        index,
        last: true,
        value: { stringValue: "log" },
        stats: { workerPid: 9 },
        logs: [{ stream: "LOG_STREAM_STDOUT", data: Buffer.from("hi") }],
      });
    } else {
      run ??= { first: index, values: [] };
      run.values.push(v);
    }
  });
  flush();
  return response;
}

const received: Record<string, Obj[]> = { Map: [], Start: [], Submit: [], Reconnect: [] };
let server: grpc.Server;
let dir: string;
let farm: Farm;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pprocd-node-stand-in-"));
  server = new grpc.Server();
  server.addService(contract().pprocd.v1.ProcessFarmService.service, {
    Map(call: grpc.ServerDuplexStream<Obj, Obj>) {
      let next = 0;
      call.on("data", (request: Obj) => {
        received.Map.push(request);
        const inputs: unknown[] = parse(request.packedInputs) ?? [];
        if (inputs.length) call.write(answerMap(inputs, next));
        next += inputs.length;
      });
      call.on("end", () => call.end());
    },
    Start(call: grpc.ServerDuplexStream<Obj, Obj>) {
      let factor = 1;
      call.on("data", (request: Obj) => {
        received.Start.push(request);
        if (request.options) factor = parse(request.packedArguments);
        else call.write({ packedMessages: json(parse(request.packedMessages).map((m: number) => m * factor)) });
      });
      call.on("end", () => {
        call.write({ packedMessages: json(["bye"]), result: { index: 0, last: true, value: { numberValue: factor } } });
        call.end();
      });
    },
    Submit(call: grpc.ServerUnaryCall<Obj, Obj>, done: grpc.sendUnaryData<Obj>) {
      received.Submit.push(call.request);
      done(null, { job: { id: "j1", name: call.request.name, state: "JOB_STATE_QUEUED", itemsTotal: 3 } });
    },
    Reconnect(call: grpc.ServerWritableStream<Obj, Obj>) {
      received.Reconnect.push(call.request);
      call.write({
        jobId: "j1",
        seq: 1,
        block: { firstIndex: 0, count: 2, values: json([10, { a: 1 }]), stats: { workerPid: 7 } },
        more: [
          { jobId: "j1", seq: 3, result: { index: 2, last: true, error: { kind: "ERROR_KIND_CRASHED", exitCode: 3 } } },
          { jobId: "j1", seq: 4, job: { id: "j1", state: "JOB_STATE_FAILED", itemsTotal: 3, itemsDone: 3 } },
        ],
      });
      call.end();
    },
  });
  const address = `unix:${path.join(dir, "farm.sock")}`;
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  farm = connect(address);
});

after(() => {
  farm?.close();
  server?.forceShutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test("map sends JSON arrays and merges blocks and ItemResults by index", async () => {
  received.Map.length = 0;
  const inputs = ["a", 1, "fail", { x: [2] }, "log", null, "fail", "fail", true];
  const results: Result[] = await collect(farm.map("f", inputs, { limit: 3 }));
  assert.deepEqual(
    results.map((r) => [r.index, r.seq, r.last, r.error ? r.error.kind : r.value]),
    [[0, 0, true, "a"], [1, 0, true, 1], [2, 0, true, "RAISED"], [3, 0, true, { x: [2] }], [4, 0, true, "log"],
      [5, 0, true, null], [6, 0, true, "RAISED"], [7, 0, true, "RAISED"], [8, 0, true, true]],
  );
  assert.deepEqual(results[0].blockStats, { wallUs: 2, cpuUs: 0, maxRssKib: 0, workerPid: 7, startUnixUs: 0, firstIndex: 0, count: 2 });
  assert.equal(results[0].blockStats, results[1].blockStats);
  assert.equal(results[0].stats, undefined);
  assert.equal(results[2].stats?.workerPid, 8);
  assert.equal(results[4].stats?.workerPid, 9);
  assert.equal(Buffer.concat(results[4].logs.map((l) => l.data)).toString(), "hi");

  const [first, ...rest] = received.Map;
  assert.equal(first.callable, "f");
  assert.equal(first.options.packed, true);
  assert.equal(first.options.limit, 3);
  assert.equal(first.options.itemStats, "ITEM_STATS_UNSPECIFIED");
  assert.ok(received.Map.every((r) => r.inputs.length === 0), "no input in the Value form");
  assert.ok(rest.every((r) => r.options === null && r.callable === ""));
  assert.deepEqual(received.Map.flatMap((r) => parse(r.packedInputs) ?? []), inputs);
});

test("many or big inputs go as several requests, numbered across them", async () => {
  received.Map.length = 0;
  const many = Array.from({ length: 5000 }, (_, i) => i);
  assert.deepEqual(await farm.mapValues("f", many, { itemStats: "PER_ITEM" }), many);
  assert.equal(received.Map[0].options.itemStats, "ITEM_STATS_PER_ITEM");
  assert.ok(received.Map.length >= 3, `${received.Map.length} requests for 5,000 inputs`);

  received.Map.length = 0;
  const big = Array.from({ length: 40 }, (_, i) => `${i} ${"x".repeat(100_000)}`); // 4 MB
  const call = farm.openMap("f");
  assert.equal(await call.send(...big), 0);
  assert.equal(await call.send("more"), 40);
  call.closeSend();
  assert.deepEqual((await collect(call)).map((r) => r.value), [...big, "more"]);
  const sizes = received.Map.map((r) => r.packedInputs.length);
  assert.ok(sizes.every((n) => n <= 1 << 20), `request sizes ${sizes}`);
  assert.deepEqual(received.Map.flatMap((r) => parse(r.packedInputs) ?? []), [...big, "more"]);
});

test("a channel's arguments and messages go packed; its messages come packed", async () => {
  received.Start.length = 0;
  const ch = farm.start("scale", 3);
  await ch.send(1);
  assert.equal(await ch.receive(), 3);
  await ch.send(2.5);
  assert.equal(await ch.receive(), 7.5);
  ch.close();
  assert.deepEqual(await collect(ch), ["bye"]);
  assert.equal(await ch.value(), 3);
  assert.equal(received.Start[0].options.packed, true);
  assert.equal(received.Start[0].arguments, null);
  assert.deepEqual(received.Start.slice(1).map((r) => [r.message, parse(r.packedMessages)]), [[null, [1]], [null, [2.5]]]);
});

test("submit sends its inputs as one JSON array; reconnect numbers a block's items by seq", async () => {
  const job = await farm.submit("f", [1, "two", [3]], { name: "n" });
  assert.equal(job.id, "j1");
  const request = received.Submit[0];
  assert.deepEqual(parse(request.packedInputs), [1, "two", [3]]);
  assert.deepEqual(request.inputs, []);
  assert.equal(request.options.packed, true);

  const outputs = await collect(farm.reconnect("n"));
  assert.equal(received.Reconnect[0].packed, true);
  assert.deepEqual(
    outputs.map((o) => [o.seq, o.result?.index, o.result?.error?.kind ?? o.result?.value, o.job?.state]),
    [[1, 0, 10, undefined], [2, 1, { a: 1 }, undefined], [3, 2, "CRASHED", undefined], [4, undefined, undefined, "FAILED"]],
  );
  assert.equal(outputs[0].result?.blockStats?.workerPid, 7);
});
