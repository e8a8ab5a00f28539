// The client's API against a real pprocd ($PPROCD_BINARY), and its value
// conversions without one.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  connect,
  defaultAddress,
  locateServer,
  resolveAddress,
  userSocketPath,
  Farm,
  ItemError,
  PprocdError,
  Result,
  ServerUnavailable,
} from "../index";
import { fromValue, toValue } from "../values";
import { eventLimitMs, Server, skipReason } from "./server";

test("JSON values round-trip through google.protobuf.Value", () => {
  const value = { list: [1, 2.5, "x", true, null], nested: { empty: [], object: {} }, text: "héllo" };
  assert.deepEqual(fromValue(toValue(value) as never), value);
  assert.throws(() => toValue([1, Number.NaN]), /value\[1\]: NaN is not a JSON number/);
  assert.throws(() => toValue({ f: () => 1 }), /value\.f: a function is not a JSON value/);
});

/** Runs `body` with the environment variables `vars` (undefined: unset), then restores them. */
async function withEnv(vars: Record<string, string | undefined>, body: () => void | Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  set(vars);
  try {
    await body();
  } finally {
    set(saved);
  }
}

test("the default address is $PPROCD_ADDRESS, else the per-user socket", () =>
  withEnv({ PPROCD_ADDRESS: undefined, XDG_RUNTIME_DIR: "/nonexistent/xdg" }, () => {
    assert.equal(defaultAddress(), "unix:/nonexistent/xdg/pprocd/pprocd.sock");
    process.env.PPROCD_ADDRESS = "localhost:50051";
    assert.equal(defaultAddress(), "localhost:50051");
    const farm = connect();
    assert.equal(farm.address, "localhost:50051");
    farm.close();
    assert.equal(connect("unix:given.sock").address, "unix:given.sock");
  }));

test("without XDG_RUNTIME_DIR the per-user socket is in a private /tmp directory", () =>
  withEnv({ XDG_RUNTIME_DIR: undefined }, () => {
    const expected = `/tmp/pprocd-${process.geteuid!()}/pprocd.sock`;
    assert.equal(userSocketPath(), expected);
    process.env.XDG_RUNTIME_DIR = "relative/dir"; // ignored, as XDG says
    assert.equal(userSocketPath(), expected);
  }));

test("an existing per-user socket is used", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pprocd-address-"));
  try {
    await withEnv({ PPROCD_ADDRESS: undefined, XDG_RUNTIME_DIR: dir }, async () => {
      const socket = path.join(dir, "pprocd", "pprocd.sock");
      mkdirSync(path.dirname(socket));
      const listener = net.createServer().listen(socket);
      await once(listener, "listening");
      try {
        assert.equal(locateServer().address, "unix:" + socket);
      } finally {
        listener.close();
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("with no server, a call names every socket tried, in order, and how to start one", () =>
  withEnv({ PPROCD_ADDRESS: undefined, XDG_RUNTIME_DIR: "/nonexistent/xdg" }, async () => {
    const farm = connect();
    try {
      await assert.rejects(farm.status(), (err: unknown) => {
        assert.ok(err instanceof ServerUnavailable, String(err));
        assert.ok(err instanceof PprocdError);
        assert.equal(err.codeName, "UNAVAILABLE");
        assert.equal(
          err.message,
          "cannot reach pprocd at unix:/nonexistent/xdg/pprocd/pprocd.sock: tried " +
            "unix:/nonexistent/xdg/pprocd/pprocd.sock (the per-user socket), then " +
            "unix:/run/pprocd/pprocd.sock (the system socket), as no address was given and " +
            "$PPROCD_ADDRESS is unset; start one with `pprocd` or scripts/run",
        );
        return true;
      });
      const explicit = connect("unix:/nonexistent/given.sock");
      await assert.rejects(
        explicit.listCallables(),
        /cannot reach pprocd at unix:\/nonexistent\/given\.sock: tried .* \(the address given\); start one with `pprocd --listen unix:\/nonexistent\/given\.sock`/,
      );
      explicit.close();
    } finally {
      farm.close();
    }
  }));

test("addresses take the forms of the other clients", () => {
  assert.equal(resolveAddress("unix:run/pprocd.sock"), "unix:run/pprocd.sock");
  assert.equal(resolveAddress("unix:///var/run/pprocd.sock"), "unix:///var/run/pprocd.sock");
  assert.equal(resolveAddress("run/pprocd.sock"), "unix:run/pprocd.sock");
  assert.equal(resolveAddress("pprocd.sock"), "unix:pprocd.sock");
  assert.equal(resolveAddress("tcp:localhost:50051"), "localhost:50051");
  assert.equal(resolveAddress("localhost:50051"), "localhost:50051");
});

describe("against pprocd", { skip: skipReason() }, () => {
  const server = new Server();
  let farm: Farm;

  before(async () => {
    await server.start(2);
    farm = connect(server.address);
  });
  after(async () => {
    farm?.close();
    await server.stop();
  });

  async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const x of it) out.push(x);
    return out;
  }

  test("map gives results in input order, from an array or an async iterable", async () => {
    const results = await collect(farm.map("square", [1, 2, 3]));
    assert.deepEqual(results.map((r) => [r.index, r.value]), [[0, 1], [1, 4], [2, 9]]);
    // The packed form's default: per-chunk figures, shared by a block's items.
    assert.ok(results.every((r) => r.last && r.blockStats && r.blockStats.workerPid > 0));
    async function* inputs() {
      for (let i = 0; i < 600; i++) yield i;
    }
    const values = await farm.mapValues("square", inputs(), { chunksize: 16 });
    assert.equal(values.length, 600);
    assert.deepEqual(values.slice(0, 4), [0, 1, 4, 9]);
    assert.equal(values[599], 599 * 599);
  });

  test("the packed form (the default) and the Value form give the same results", async () => {
    const inputs: unknown[] = [];
    for (let i = 0; i < 3000; i++) {
      inputs.push([i, -i / 3, `text ${i} é \u2028 "q"`, true, null, { nested: [i, { deep: "x" }] }, [], {}][i % 8]);
    }
    inputs.push(new Date(0), 12n);
    for (const kind of ["map", "queue"] as const) {
      const packed = await collect(farm[kind]("echo", inputs, { chunksize: 7 }));
      const value = await collect(farm[kind]("echo", inputs, { chunksize: 7, packed: false }));
      const plain = (rs: Result[]) =>
        rs.map((r) => ({ index: r.index, seq: r.seq, last: r.last, value: r.value, error: r.error?.message }))
          .sort((a, b) => a.index - b.index);
      assert.deepStrictEqual(plain(packed), plain(value), kind);
      const sent = inputs.map((v) => (typeof v === "bigint" ? Number(v) : v));
      assert.deepStrictEqual(plain(packed).map((r) => r.value), JSON.parse(JSON.stringify(sent)), kind);
      if (kind === "map") assert.deepEqual(packed.map((r) => r.index), inputs.map((_, i) => i));
    }
    const noPacking = connect(server.address, { packed: false });
    try {
      assert.equal(noPacking.packed, false);
      assert.deepEqual(await noPacking.mapValues("square", [1, 2, 3]), [1, 4, 9]);
      assert.deepEqual(await noPacking.mapValues("square", [1, 2, 3], { packed: true }), [1, 4, 9]);
    } finally {
      noPacking.close();
    }
  });

  test("inputs past the message limit are split into several requests", async () => {
    const big = "x".repeat(64 * 1024);
    const inputs = Array.from({ length: 100 }, (_, i) => `${i} ${big}`); // 6.4 MB in all
    const values = await farm.mapValues("echo", inputs);
    assert.equal(values.length, 100);
    assert.ok(values.every((v, i) => v === inputs[i]));
  });

  test("itemStats chooses the figures successes carry; failures keep their own", async () => {
    const inputs = ["ok", "ok", "raise", "ok"];
    const stats = async (itemStats?: "PER_ITEM" | "PER_CHUNK" | "NONE", packed?: boolean) =>
      (await collect(farm.map("chaos", inputs, { itemStats, packed }))).map((r) => [
        r.error ? "error" : "value",
        r.stats ? r.stats.workerPid > 0 : false,
        r.blockStats ? r.blockStats.workerPid > 0 && r.blockStats.count >= 1 : false,
      ]);
    const perItem = [["value", true, false], ["value", true, false], ["error", true, false], ["value", true, false]];
    assert.deepEqual(await stats("PER_ITEM"), perItem);
    assert.deepEqual(await stats(undefined, false), perItem, "the Value form's default");
    const perChunk = [["value", false, true], ["value", false, true], ["error", true, false], ["value", false, true]];
    assert.deepEqual(await stats(), perChunk, "the packed form's default");
    assert.deepEqual(await stats("PER_CHUNK"), perChunk);
    const none = [["value", false, false], ["value", false, false], ["error", true, false], ["value", false, false]];
    assert.deepEqual(await stats("NONE"), none);
  });

  test("what JSON cannot hold fails alike in both forms, before it is sent", async () => {
    async function failure(f: () => Promise<unknown>): Promise<string> {
      try {
        await f();
      } catch (err) {
        return `${(err as Error).constructor.name}: ${(err as Error).message}`;
      }
      return "no failure";
    }
    const cases: [string, (packed: boolean) => Promise<unknown>][] = [
      ["map", (packed) => collect(farm.map("echo", [1, 2, 3, Number.NaN], { packed }))],
      ["mapValues", (packed) => farm.mapValues("echo", [1, { a: [Number.POSITIVE_INFINITY] }], { packed })],
      ["queue", (packed) => collect(farm.queue("echo", [undefined], { packed }))],
      ["submit", (packed) => farm.submit("echo", [1, () => 2], { packed })],
      ["start", async (packed) => farm.start("echo", Number.NaN, { packed })],
      [
        "channel send",
        async (packed) => {
          const ch = farm.start("accumulate", null, { packed });
          try {
            await ch.send(Number.NEGATIVE_INFINITY);
          } finally {
            ch.close(); // accumulate returns at the end of its input
            await ch.result();
          }
        },
      ],
    ];
    for (const [what, f] of cases) {
      const packed = await failure(() => f(true));
      assert.match(packed, /^TypeError: .* is not a JSON (number|value)$/, what);
      assert.equal(packed, await failure(() => f(false)), what);
    }
  });

  test("queue names each result's input", async () => {
    const results = await collect(farm.queue("calculate", [[1, 2], [3, 4]], { limit: 1 }));
    const byIndex = new Map(results.map((r) => [r.index, r.value]));
    assert.deepEqual(byIndex, new Map([[0, 12], [1, 34]]));
  });

  test("a failed item is a result with a typed ItemError; the call goes on", async () => {
    const results: Result[] = await collect(farm.map("chaos", ["ok", "raise", "crash", "ok"]));
    assert.equal(results.length, 4);
    assert.equal(results[0].value, "ok");
    assert.ok(results[1].error instanceof ItemError);
    assert.equal(results[1].error.kind, "RAISED");
    assert.equal(results[2].error?.kind, "CRASHED");
    assert.equal(results[2].error?.signal, "SIGSEGV");
    assert.match(results[2].error?.stderrTail ?? "", /SIGSEGV/);
    assert.equal(results[3].value, "ok");
    await assert.rejects(farm.mapValues("chaos", ["ok", "raise"]), (err: unknown) =>
      err instanceof ItemError && err.kind === "RAISED" && err.index === 1);
  });

  test("a call that fails as a whole throws PprocdError with its code", async () => {
    await assert.rejects(collect(farm.map("no_such_callable", [1])), (err: unknown) =>
      err instanceof PprocdError && err.codeName === "NOT_FOUND" && err.details.includes("no_such_callable"));
  });

  test("an AbortSignal cancels a call", async () => {
    const controller = new AbortController();
    const call = farm.queue("sleep_ms", [60000], { signal: controller.signal });
    const first = call.next();
    const deadline = Date.now() + eventLimitMs;
    while ((await farm.status()).itemsRunning < 1) {
      assert.ok(Date.now() < deadline, "the item never ran");
      await new Promise((r) => setTimeout(r, 10));
    }
    controller.abort();
    await assert.rejects(first, (err: unknown) => err instanceof PprocdError && err.codeName === "CANCELLED");
  });

  test("start in both forms: the same messages and values", async () => {
    for (const packed of [true, false]) {
      const rows = farm.start("rows", 5, { packed });
      rows.close();
      assert.deepEqual(await collect(rows), [0, 1, 2, 3, 4], `packed ${packed}`);
      const sum = farm.start("accumulate", null, { packed });
      for (const x of [1.5, 2, 3]) await sum.send(x);
      sum.close();
      assert.equal(await sum.value(), 6.5, `packed ${packed}`);
    }
  });

  test("start gives a two-way channel", async () => {
    const ch = farm.start("countdown");
    await ch.send(2);
    assert.equal(await ch.receive(), 1);
    await ch.send(1);
    assert.equal(await ch.receive(), 0);
    assert.equal(await ch.receive(), undefined);
    const result = await ch.result();
    assert.equal(result.value, null);
    assert.ok(result.last);

    const rows = farm.start("rows", 3);
    rows.close();
    assert.deepEqual(await collect(rows), [0, 1, 2]);
    assert.equal(await rows.value(), null);

    const sum = farm.start("accumulate");
    for (const x of [1, 2, 3]) await sum.send(x);
    sum.close();
    assert.equal(await sum.value(), 6);
    await assert.rejects(sum.send(7), /send after close/);
  });

  test("cancelling a Start kills the invocation (its worker is replaced)", async () => {
    const before = await farm.status();
    const ch = farm.start("countdown");
    await ch.send(5);
    assert.equal(await ch.receive(), 4);
    ch.cancel();
    await assert.rejects(ch.result(), (err: unknown) => err instanceof PprocdError && err.codeName === "CANCELLED");
    const deadline = Date.now() + eventLimitMs;
    let now = await farm.status();
    while (now.workersRespawned === before.workersRespawned && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      now = await farm.status();
    }
    assert.ok(now.workersRespawned > before.workersRespawned, "the cancelled invocation's worker was not replaced");
    assert.equal(now.itemsCompleted, before.itemsCompleted, "the cancelled invocation completed");
  });

  test("jobs: submit, reconnect, get, list, cancel, delete", async () => {
    const job = await farm.submit("square", [2, 3], { name: "node-squares", ordered: true });
    assert.equal(job.name, "node-squares");
    assert.equal(job.itemsTotal, 2);
    const values = [];
    let final;
    for await (const output of farm.reconnect("node-squares")) {
      if (output.result) values.push(output.result.value);
      if (output.job) final = output.job;
    }
    assert.deepEqual(values, [4, 9]);
    assert.equal(final?.state, "SUCCEEDED");
    for (const packed of [true, false]) {
      const outputs = await collect(farm.reconnect("node-squares", { packed }));
      assert.deepEqual(outputs.filter((o) => o.result).map((o) => [o.result!.index, o.result!.value]), [[0, 4], [1, 9]]);
      assert.deepEqual(outputs.map((o) => o.seq), outputs.map((_, i) => i + 1), "outputs numbered from 1");
    }
    assert.ok(final?.done);
    assert.equal((await farm.getJob(job.id)).name, "node-squares");
    const listed = await collect(farm.listJobs({ name: "node-squares" }));
    assert.deepEqual(listed.map((j) => j.id), [job.id]);

    const sleeper = await farm.submit("sleep_ms", [60000], { name: "node-sleeper" });
    const cancelled = await farm.cancelJob(sleeper.id);
    assert.equal(cancelled.state, "CANCELLED");
    await farm.deleteJob("node-sleeper");
    await assert.rejects(farm.getJob("node-sleeper"), (err: unknown) =>
      err instanceof PprocdError && err.codeName === "NOT_FOUND");
  });

  test("listCallables, status and echo", async () => {
    const callables = await farm.listCallables();
    const square = callables.find((c) => c.name === "square");
    assert.equal(square?.kind, "FUNCTION");
    assert.deepEqual(square?.parameters.map((p) => [p.name, p.type, p.required]), [["x", "NUMBER", true]]);
    const calculate = callables.find((c) => c.name === "calculate");
    assert.equal(calculate?.parameters.find((p) => p.name === "n")?.default, 10);
    const status = await farm.status();
    assert.equal(status.workersConfigured, 2);
    assert.deepEqual(await farm.echo({ a: [1, "b", null] }), { a: [1, "b", null] });
  });
});
