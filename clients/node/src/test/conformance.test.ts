// The conformance runner: every scenario of tests/conformance/scenarios.json
// (the format is in tests/conformance/README.md) against a real pprocd,
// through this client's public API, in both forms of items: the packed form
// (the default) and the Value form, each on a fresh server. Each run keeps a
// transcript of what the client handed over (values, error kinds and
// messages, statuses, channel messages, job outcomes; not timings or ids),
// and the Value form's must equal the packed form's, step by step.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { connect, Farm, ItemError, PprocdError, Result, Job, Status, JsonValue, Options } from "../index";
import { eventLimitMs, Server, skipReason, sleep } from "./server";

const scenariosPath = path.join(__dirname, "..", "..", "..", "..", "tests", "conformance", "scenarios.json");

type Obj = Record<string, any>;

// The format, key by key: decoding refuses unknown keys, so a misspelt
// expectation fails instead of passing unchecked.
const KEYS = {
  file: ["format", "server", "scenarios"],
  server: ["workers"],
  scenario: ["name", "description", "steps"],
  step: ["rpc", "client", "callable", "inputs", "arguments", "options", "cancel", "exchange", "name", "ordered",
    "jobs", "after_seq", "job", "state", "value", "until", "expect"],
  options: ["limit", "chunksize", "timeout_ms", "isolation", "expected_inputs"],
  cancel: ["indices", "when_running"],
  exchange: ["send", "receive", "close", "cancel"],
  expect: ["status", "order", "results", "messages", "result", "job", "jobs", "first_seq", "includes", "fields",
    "delta", "value"],
  status: ["code", "message_contains"],
  result: ["index", "seq", "last", "value", "error", "stats", "stdout", "stderr"],
  error: ["kind", "signal", "exit_code", "message_contains", "stderr_contains"],
  job: ["name", "state", "callable", "items_done", "items_total", "attempts", "error"],
  jobStream: ["order", "results", "final"],
  callable: ["name", "kind", "origin", "parameters"],
  parameter: ["name", "type", "required", "default"],
  bounds: ["min", "max"],
};

function keys(o: unknown, allowed: string[], where: string): void {
  if (o === null || typeof o !== "object" || Array.isArray(o)) throw new Error(`${where}: not an object`);
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new Error(`${where}: unknown key "${k}"`);
  }
}

function list(o: unknown, where: string): any[] {
  if (!Array.isArray(o)) throw new Error(`${where}: not a list`);
  return o;
}

function checkResultPattern(p: Obj, where: string): void {
  keys(p, KEYS.result, where);
  if (p.error !== undefined) keys(p.error, KEYS.error, `${where}.error`);
}

function checkJobPattern(p: Obj, where: string): void {
  keys(p, KEYS.job, where);
}

function checkNumbers(m: Obj | undefined, where: string): void {
  if (m === undefined) return;
  keys(m, Object.keys(m), where);
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== "number") keys(v, KEYS.bounds, `${where}.${k}`);
  }
}

function checkStep(st: Obj, where: string): void {
  keys(st, KEYS.step, where);
  if (st.options !== undefined) keys(st.options, KEYS.options, `${where}.options`);
  if (st.cancel !== undefined) keys(st.cancel, KEYS.cancel, `${where}.cancel`);
  (st.exchange ?? []).forEach((x: Obj, i: number) => keys(x, KEYS.exchange, `${where}.exchange[${i}]`));
  const e = st.expect;
  keys(e, KEYS.expect, `${where}.expect`);
  if (e.status !== undefined) keys(e.status, KEYS.status, `${where}.expect.status`);
  if (e.results !== undefined) list(e.results, `${where}.expect.results`).forEach((p, i) =>
    checkResultPattern(p, `${where}.expect.results[${i}]`));
  if (e.result !== undefined) checkResultPattern(e.result, `${where}.expect.result`);
  if (e.job !== undefined) checkJobPattern(e.job, `${where}.expect.job`);
  if (e.jobs !== undefined) {
    if (st.rpc === "ListJobs") {
      list(e.jobs, `${where}.expect.jobs`).forEach((p, i) => checkJobPattern(p, `${where}.expect.jobs[${i}]`));
    } else {
      for (const [name, s] of Object.entries(e.jobs as Obj)) {
        keys(s, KEYS.jobStream, `${where}.expect.jobs.${name}`);
        (s.results ?? []).forEach((p: Obj, i: number) =>
          checkResultPattern(p, `${where}.expect.jobs.${name}.results[${i}]`));
        if (s.final !== undefined) checkJobPattern(s.final, `${where}.expect.jobs.${name}.final`);
      }
    }
  }
  (e.includes ?? []).forEach((c: Obj, i: number) => {
    keys(c, KEYS.callable, `${where}.expect.includes[${i}]`);
    (c.parameters ?? []).forEach((p: Obj, k: number) =>
      keys(p, KEYS.parameter, `${where}.expect.includes[${i}].parameters[${k}]`));
  });
  checkNumbers(e.fields, `${where}.expect.fields`);
  checkNumbers(e.delta, `${where}.expect.delta`);
}

function loadScenarios(): Obj {
  const file = JSON.parse(fs.readFileSync(scenariosPath, "utf8"));
  keys(file, KEYS.file, scenariosPath);
  keys(file.server, KEYS.server, `${scenariosPath}: server`);
  if (file.format !== 1) throw new Error(`${scenariosPath}: format ${file.format}; this runner reads format 1`);
  const names = new Set<string>();
  for (const sc of list(file.scenarios, "scenarios")) {
    keys(sc, KEYS.scenario, `scenario ${sc.name}`);
    if (!sc.name || names.has(sc.name)) throw new Error(`scenario name "${sc.name}" is empty or repeated`);
    names.add(sc.name);
    list(sc.steps, `${sc.name}.steps`).forEach((st, i) => checkStep(st, `${sc.name} step ${i}`));
  }
  return file;
}

// JSON values compared as JSON: numbers by value, objects regardless of key order.
function sameJSON(want: unknown, got: unknown): boolean {
  if (want === null || got === null) return want === got;
  if (Array.isArray(want)) {
    return Array.isArray(got) && want.length === got.length && want.every((w, i) => sameJSON(w, got[i]));
  }
  if (typeof want === "object") {
    if (typeof got !== "object" || Array.isArray(got)) return false;
    const wk = Object.keys(want as Obj), gk = Object.keys(got as Obj);
    return wk.length === gk.length && wk.every((k) => k in (got as Obj) && sameJSON((want as Obj)[k], (got as Obj)[k]));
  }
  return want === got;
}

const text = (v: unknown) => JSON.stringify(v);

function describeResults(results: Result[]): string {
  return "[" + results.map((r) =>
    `{index ${r.index} seq ${r.seq} last ${r.last} ${r.error ? "error " + r.error.message : "value " + text(r.value)}}`,
  ).join(", ") + "]";
}

function resultMismatches(p: Obj, r: Result): string[] {
  const out: string[] = [];
  if (p.index !== undefined && r.index !== p.index) out.push(`index ${r.index}, want ${p.index}`);
  if (p.seq !== undefined && r.seq !== p.seq) out.push(`seq ${r.seq}, want ${p.seq}`);
  if (p.last !== undefined && r.last !== p.last) out.push(`last ${r.last}, want ${p.last}`);
  if ("value" in p) {
    if (r.error) out.push(`error ${r.error.message}, want value ${text(p.value)}`);
    else if (!sameJSON(p.value, r.value)) out.push(`value ${text(r.value)}, want ${text(p.value)}`);
  }
  if (p.error !== undefined) {
    if (!(r.error instanceof ItemError)) out.push(`value ${text(r.value)}, want an error ${p.error.kind}`);
    else out.push(...errorMismatches(p.error, r.error));
  }
  // Stats of its own, or (per-chunk stats, the packed form's default) those of its block.
  const stats = r.stats ?? r.blockStats;
  if (p.stats && !(stats && stats.workerPid > 0)) out.push("no stats (with the worker's pid)");
  for (const stream of ["stdout", "stderr"] as const) {
    if (p[stream] === undefined) continue;
    const got = Buffer.concat(r.logs.filter((l) => l.stream === stream).map((l) => l.data)).toString();
    if (got !== p[stream]) out.push(`${stream} ${text(got)}, want ${text(p[stream])}`);
  }
  return out;
}

function errorMismatches(p: Obj, e: ItemError): string[] {
  const out: string[] = [];
  if (p.kind && e.kind !== p.kind) out.push(`error kind ${e.kind}, want ${p.kind} (${e.message})`);
  if (p.signal && e.signal !== p.signal) out.push(`signal ${text(e.signal)}, want ${text(p.signal)}`);
  if (p.exit_code !== undefined && e.exitCode !== p.exit_code) out.push(`exit code ${e.exitCode}, want ${p.exit_code}`);
  if (p.message_contains && !e.reason.includes(p.message_contains)) {
    out.push(`message ${text(e.reason)} does not contain ${text(p.message_contains)}`);
  }
  if (p.stderr_contains && !e.stderrTail.includes(p.stderr_contains)) {
    out.push(`stderr tail ${text(e.stderrTail)} does not contain ${text(p.stderr_contains)}`);
  }
  return out;
}

function jobMismatches(p: Obj, job: Job | undefined): string[] {
  if (!job) return ["no job"];
  const out: string[] = [];
  const fields: [string, unknown][] = [
    ["name", job.name], ["state", job.state], ["callable", job.callable], ["items_done", job.itemsDone],
    ["items_total", job.itemsTotal], ["attempts", job.attempts], ["error", job.error],
  ];
  for (const [k, v] of fields) {
    if (p[k] !== undefined && v !== p[k]) out.push(`${k} ${text(v)}, want ${text(p[k])}`);
  }
  return out.length ? [`job ${job.id}: ${out.join("; ")}`] : [];
}

const STATUS_FIELDS: Record<string, keyof Status> = {
  workers_idle: "workersIdle", workers_busy: "workersBusy", workers_starting: "workersStarting",
  items_queued: "itemsQueued", items_running: "itemsRunning", items_completed: "itemsCompleted",
  items_failed: "itemsFailed", items_crashed: "itemsCrashed", workers_respawned: "workersRespawned",
  uptime_ms: "uptimeMs", calls_active: "callsActive", workers_configured: "workersConfigured",
  workers_recycled: "workersRecycled", callable_reloads: "callableReloads",
};

function numberMatches(p: number | Obj, v: number): boolean {
  if (typeof p === "number") return v === p;
  return (p.min === undefined || v >= p.min) && (p.max === undefined || v <= p.max);
}

/** A call's outcome in a transcript: OK, or its status code and message. */
function statusOf(err: unknown): string {
  if (!err) return "OK";
  if (err instanceof PprocdError) return `${err.codeName}: ${err.details}`;
  return `not a status: ${err}`;
}

/** Text that names a worker process, with the pid masked: it differs from run to run. */
const withoutPids = (s: string) => s.replace(/\bworker \d+/g, "worker PID");

/**
 * Results as a transcript keeps them: what the user reads of each, without
 * stats; sorted by index and seq where their order is the completion order.
 */
function transcriptOf(results: Result[], sort: boolean): Obj[] {
  const rows = results.map((r) => ({
    index: r.index,
    seq: r.seq,
    last: r.last,
    value: r.value,
    data: r.data?.toString("base64"),
    error: r.error && {
      kind: r.error.kind,
      message: withoutPids(r.error.message),
      signal: r.error.signal,
      exitCode: r.error.exitCode,
      stderrTail: withoutPids(r.error.stderrTail),
    },
    logs: r.logs.map((l) => `${l.stream}: ${l.data.toString()} (${l.droppedBytes} dropped)`),
  }));
  if (sort) rows.sort((a, b) => a.index - b.index || a.seq - b.seq);
  return rows;
}

class Runner {
  problems: string[] = [];
  jobIDs = new Map<string, string>();
  before!: Status;
  /** What each step handed over, in order (see transcriptOf). */
  readonly transcript: Obj[] = [];

  constructor(
    readonly server: Server,
    readonly farm: Farm,
    readonly packed: boolean,
  ) {}

  fail(message: string): void {
    this.problems.push(message);
  }

  record(entry: Obj): void {
    this.transcript.push(entry);
  }

  async waitStatus(holds: (s: Status) => boolean, what: string): Promise<Status> {
    const deadline = Date.now() + eventLimitMs;
    for (;;) {
      const s = await this.farm.status();
      if (holds(s)) return s;
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${text(s)}`);
      await sleep(20);
    }
  }

  /** Compares a step's error with its expected status; true when the step goes on. */
  checkStatus(want: Obj | undefined, err: unknown): boolean {
    let code = "OK", message = "";
    if (err) {
      if (!(err instanceof PprocdError)) {
        this.fail(`error without a gRPC status: ${err}`);
        return false;
      }
      code = err.codeName;
      message = err.details;
    }
    const wantCode = want?.code ?? "OK";
    if (code !== wantCode) {
      this.fail(`status ${code} (${text(message)}), want ${wantCode}`);
      return false;
    }
    if (want?.message_contains && !message.includes(want.message_contains)) {
      this.fail(`status message ${text(message)} does not contain ${text(want.message_contains)}`);
    }
    return !err;
  }

  /** The shared client, or for "client": "own" one of its own, closed after the step. */
  clientFor(st: Obj): [Farm, () => void] {
    if (st.client === undefined) return [this.farm, () => {}];
    if (st.client !== "own") throw new Error(`unknown client ${text(st.client)}`);
    const own = connect(this.server.address, { packed: this.packed });
    return [own, () => own.close()];
  }

  checkResults(what: string, order: string | undefined, patterns: Obj[], results: Result[]): void {
    if (results.length !== patterns.length) {
      this.fail(`${what}: ${results.length} results, want ${patterns.length}: ${describeResults(results)}`);
      return;
    }
    switch (order ?? "input") {
      case "input":
        results.forEach((r, i) => {
          const problems = resultMismatches(patterns[i], r);
          if (problems.length) this.fail(`${what}[${i}]: ${problems.join("; ")}`);
        });
        break;
      case "per_input": {
        const got = new Map<number, Result[]>(), want = new Map<number, Obj[]>();
        for (const r of results) got.set(r.index, [...(got.get(r.index) ?? []), r]);
        for (const p of patterns) {
          if (p.index === undefined) {
            this.fail(`${what}: order per_input needs an index in every pattern`);
            return;
          }
          want.set(p.index, [...(want.get(p.index) ?? []), p]);
        }
        for (const [index, ps] of want) {
          const rs = got.get(index) ?? [];
          if (rs.length !== ps.length) {
            this.fail(`${what}: input ${index}: ${rs.length} results, want ${ps.length}: ${describeResults(rs)}`);
            continue;
          }
          rs.forEach((r, i) => {
            const problems = resultMismatches(ps[i], r);
            if (problems.length) this.fail(`${what}: input ${index}, result ${i}: ${problems.join("; ")}`);
          });
        }
        break;
      }
      case "any": {
        const used = patterns.map(() => false);
        for (const r of results) {
          const i = patterns.findIndex((p, k) => !used[k] && resultMismatches(p, r).length === 0);
          if (i < 0) this.fail(`${what}: no expected result matches ${describeResults([r])}`);
          else used[i] = true;
        }
        break;
      }
      default:
        this.fail(`unknown order ${text(order)}`);
    }
  }

  // Map and Queue.
  async call(st: Obj): Promise<void> {
    const [farm, done] = this.clientFor(st);
    const results: Result[] = [];
    let callErr: unknown;
    try {
      if (!st.cancel) {
        const run = st.rpc === "Map" ? farm.map.bind(farm) : farm.queue.bind(farm);
        for await (const r of run(st.callable, st.inputs ?? [], options(st))) results.push(r);
      } else {
        const call = st.rpc === "Map" ? farm.openMap(st.callable, options(st)) : farm.openQueue(st.callable, options(st));
        await call.send(...(st.inputs ?? []));
        await this.waitStatus((s) => s.itemsRunning >= st.cancel.when_running, `${st.cancel.when_running} items running`);
        await call.cancel(...st.cancel.indices);
        call.closeSend();
        for await (const r of call) results.push(r);
      }
    } catch (err) {
      callErr = err;
    } finally {
      done();
    }
    this.record({ status: statusOf(callErr), results: transcriptOf(results, st.rpc === "Queue") });
    if (!this.checkStatus(st.expect.status, callErr)) return;
    this.checkResults("results", st.expect.order, st.expect.results ?? [], results);
  }

  async start(st: Obj): Promise<void> {
    const [farm, done] = this.clientFor(st);
    try {
      const ch = farm.start(st.callable, st.arguments ?? null, options(st));
      let closed = false;
      for (const [i, x] of (st.exchange ?? []).entries()) {
        if ("send" in x) {
          await ch.send(x.send);
        } else if ("receive" in x) {
          let got: JsonValue | undefined;
          try {
            got = await ch.receive();
          } catch (err) {
            this.fail(`exchange ${i}: receive: ${err}, want ${text(x.receive)}`);
            return;
          }
          if (got === undefined) {
            this.fail(`exchange ${i}: the channel ended, want ${text(x.receive)}`);
            return;
          }
          this.record({ exchange: i, received: got });
          if (!sameJSON(x.receive, got)) this.fail(`exchange ${i}: received ${text(got)}, want ${text(x.receive)}`);
        } else if (x.close) {
          ch.close();
          closed = true;
        } else if (x.cancel) {
          ch.cancel();
          closed = true;
        } else {
          this.fail(`exchange ${i}: nothing to do`);
        }
      }
      if (!closed) ch.close();
      const messages: JsonValue[] = [];
      let callErr: unknown;
      try {
        for await (const m of ch) messages.push(m);
      } catch (err) {
        callErr = err;
      }
      const final = callErr ? undefined : await ch.result();
      this.record({ status: statusOf(callErr), messages, result: final && transcriptOf([final], false)[0] });
      if (!this.checkStatus(st.expect.status, callErr)) return;
      if (!sameJSON(st.expect.messages ?? [], messages)) {
        this.fail(`messages ${text(messages)}, want ${text(st.expect.messages ?? [])}`);
      }
      const result = await ch.result();
      if (st.expect.result) {
        const problems = resultMismatches(st.expect.result, result);
        if (problems.length) this.fail(`result: ${problems.join("; ")}`);
      }
    } finally {
      done();
    }
  }

  // Submit; for "client": "own" from a process of its own that exits.
  async submit(st: Obj): Promise<void> {
    const request = {
      address: this.server.address,
      callable: st.callable,
      inputs: st.inputs ?? [],
      options: { ...options(st), name: st.name ?? "", ordered: st.ordered ?? false, packed: this.packed },
    };
    let job: Job | undefined, err: unknown;
    if (st.client === undefined) {
      try {
        job = await this.farm.submit(request.callable, request.inputs, request.options);
      } catch (e) {
        err = e;
      }
    } else if (st.client === "own") {
      const helper = spawnSync(process.execPath, [path.join(__dirname, "submit-helper.js")], {
        env: { ...process.env, PPROCD_CONFORMANCE_SUBMIT: JSON.stringify(request) },
        encoding: "utf8",
        timeout: eventLimitMs,
      });
      if (helper.status !== 0) throw new Error(`the submitting process failed: ${helper.status}\n${helper.stderr}`);
      const reply = JSON.parse(helper.stdout);
      if (reply.job) job = reply.job;
      else err = new PprocdError(reply.code, reply.details);
    } else {
      throw new Error(`unknown client ${text(st.client)}`);
    }
    this.record({ status: statusOf(err), job: job && { name: job.name, callable: job.callable, itemsTotal: job.itemsTotal } });
    if (!this.checkStatus(st.expect.status, err)) return;
    if (st.name) this.jobIDs.set(st.name, job!.id);
    if (st.expect.job) this.problems.push(...jobMismatches(st.expect.job, job));
  }

  async reconnect(st: Obj): Promise<void> {
    const [farm, done] = this.clientFor(st);
    try {
      const names: string[] = st.jobs ?? [];
      const afterSeq: number = st.after_seq ?? 0;
      const nameOf = new Map<string, string>();
      for (const name of names) {
        let id = this.jobIDs.get(name);
        if (id === undefined) id = (await farm.getJob(name)).id;
        nameOf.set(id, name);
      }
      const outputs = new Map<string, Awaited<ReturnType<Farm["reconnect"]> extends AsyncGenerator<infer T> ? T : never>[]>();
      let callErr: unknown;
      try {
        for await (const o of farm.reconnect(names, { afterSeq })) {
          const name = nameOf.get(o.jobId);
          if (name === undefined) {
            this.fail(`an output of job ${text(o.jobId)}, which was not asked for`);
            continue;
          }
          outputs.set(name, [...(outputs.get(name) ?? []), o]);
        }
      } catch (err) {
        callErr = err;
      }
      this.record({
        status: statusOf(callErr),
        jobs: names.map((name) => {
          const got = outputs.get(name) ?? [];
          const final = got[got.length - 1]?.job;
          return {
            name,
            results: transcriptOf(got.filter((o) => o.result).map((o) => o.result!), true),
            final: final && { state: final.state, itemsDone: final.itemsDone, itemsTotal: final.itemsTotal, error: final.error },
          };
        }),
      });
      if (!this.checkStatus(st.expect.status, callErr)) return;
      const wanted: Obj = st.expect.jobs ?? {};
      for (const name of names) {
        const got = outputs.get(name) ?? [];
        for (const [i, o] of got.entries()) {
          if (o.seq !== afterSeq + i + 1) {
            this.fail(`job ${name}: output ${i} has seq ${o.seq}, want ${afterSeq + i + 1}`);
            break;
          }
          if ((o.result === undefined) === (o.job === undefined)) {
            this.fail(`job ${name}: output ${i} is neither a result nor a job`);
          }
        }
        if (got.length === 0) {
          this.fail(`job ${name}: no outputs`);
          continue;
        }
        if (st.expect.first_seq !== undefined && got[0].seq !== st.expect.first_seq) {
          this.fail(`job ${name}: first seq ${got[0].seq}, want ${st.expect.first_seq}`);
        }
        const last = got[got.length - 1];
        if (!last.job || !last.job.done || last.progress) {
          this.fail(`job ${name}: the last output is not the job in a final state`);
          continue;
        }
        const want = wanted[name];
        if (!want) continue;
        if (want.results !== undefined) {
          const results = got.filter((o) => o.result).map((o) => o.result!);
          this.checkResults(`job ${name}`, want.order, want.results, results);
        }
        if (want.final) this.problems.push(...jobMismatches(want.final, last.job).map((p) => `job ${name} final: ${p}`));
      }
      for (const name of Object.keys(wanted)) {
        if (!names.includes(name)) this.fail(`expect.jobs names ${text(name)}, which the step does not reconnect to`);
      }
    } finally {
      done();
    }
  }

  async jobRPC(st: Obj): Promise<void> {
    const [farm, done] = this.clientFor(st);
    let job: Job | undefined, err: unknown;
    try {
      if (st.rpc === "GetJob") job = await farm.getJob(st.job);
      else if (st.rpc === "CancelJob") job = await farm.cancelJob(st.job);
      else await farm.deleteJob(st.job);
    } catch (e) {
      err = e;
    } finally {
      done();
    }
    if (!this.checkStatus(st.expect.status, err)) return;
    if (st.expect.job) this.problems.push(...jobMismatches(st.expect.job, job));
  }

  async listJobs(st: Obj): Promise<void> {
    const jobs: Job[] = [];
    let err: unknown;
    try {
      for await (const job of this.farm.listJobs({ name: st.name, state: st.state })) jobs.push(job);
    } catch (e) {
      err = e;
    }
    if (!this.checkStatus(st.expect.status, err)) return;
    const want: Obj[] = st.expect.jobs ?? [];
    if (jobs.length !== want.length) {
      this.fail(`${jobs.length} jobs, want ${want.length}`);
      return;
    }
    jobs.forEach((job, i) => this.problems.push(...jobMismatches(want[i], job).map((p) => `jobs[${i}]: ${p}`)));
  }

  async listCallables(st: Obj): Promise<void> {
    let callables;
    try {
      callables = await this.farm.listCallables();
    } catch (err) {
      this.checkStatus(st.expect.status, err);
      return;
    }
    if (!this.checkStatus(st.expect.status, undefined)) return;
    const byName = new Map(callables.map((c) => [c.name, c]));
    for (const want of st.expect.includes ?? []) {
      const got = byName.get(want.name);
      if (!got) {
        this.fail(`no callable ${text(want.name)} among ${[...byName.keys()].sort().join(", ")}`);
        continue;
      }
      if (want.kind && got.kind !== want.kind) this.fail(`${want.name}: kind ${got.kind}, want ${want.kind}`);
      if (want.origin !== undefined && got.origin !== want.origin) {
        this.fail(`${want.name}: origin ${text(got.origin)}, want ${text(want.origin)}`);
      }
      if (want.parameters === undefined) continue;
      if (got.parameters.length !== want.parameters.length) {
        this.fail(`${want.name}: ${got.parameters.length} parameters, want ${want.parameters.length}`);
        continue;
      }
      want.parameters.forEach((p: Obj, i: number) => {
        const g = got.parameters[i];
        if (g.name !== p.name) this.fail(`${want.name}: parameter ${i} is ${text(g.name)}, want ${text(p.name)}`);
        if (p.type && g.type !== p.type) this.fail(`${want.name}.${p.name}: type ${g.type}, want ${p.type}`);
        if (p.required !== undefined && g.required !== p.required) {
          this.fail(`${want.name}.${p.name}: required ${g.required}, want ${p.required}`);
        }
        if ("default" in p && !sameJSON(p.default, g.default ?? null)) {
          this.fail(`${want.name}.${p.name}: default ${text(g.default)}, want ${text(p.default)}`);
        }
      });
    }
  }

  statusMismatches(st: Obj, now: Status): string[] {
    const out: string[] = [];
    const check = (kind: string, want: Obj | undefined, value: (field: keyof Status) => number) => {
      for (const name of Object.keys(want ?? {}).sort()) {
        const field = STATUS_FIELDS[name];
        if (!field) {
          out.push(`no status field ${text(name)}`);
          continue;
        }
        const v = value(field);
        if (!numberMatches(want![name], v)) out.push(`${kind} ${name} is ${v}, want ${text(want![name])}`);
      }
    };
    check("field", st.expect.fields, (f) => now[f]);
    check("change of", st.expect.delta, (f) => now[f] - this.before[f]);
    return out;
  }

  async getStatus(st: Obj): Promise<void> {
    const deadline = Date.now() + eventLimitMs;
    for (;;) {
      const problems = this.statusMismatches(st, await this.farm.status());
      if (problems.length === 0) return;
      if (!st.until || Date.now() > deadline) {
        this.fail(problems.join("; "));
        return;
      }
      await sleep(20);
    }
  }

  async echo(st: Obj): Promise<void> {
    let got: JsonValue | undefined, err: unknown;
    try {
      got = await this.farm.echo(st.value);
    } catch (e) {
      err = e;
    }
    this.record({ status: statusOf(err), value: got });
    if (!this.checkStatus(st.expect.status, err)) return;
    if ("value" in st.expect && !sameJSON(st.expect.value, got)) {
      this.fail(`echoed ${text(got)}, want ${text(st.expect.value)}`);
    }
  }
}

function options(st: Obj): Options | undefined {
  const o = st.options;
  if (!o) return undefined;
  if (o.isolation !== undefined && o.isolation !== "POOLED" && o.isolation !== "FRESH") {
    throw new Error(`unknown isolation ${text(o.isolation)}`);
  }
  return {
    limit: o.limit,
    chunksize: o.chunksize,
    timeoutMs: o.timeout_ms,
    isolation: o.isolation,
    expectedInputs: o.expected_inputs,
  };
}

const stepRunners: Record<string, (r: Runner, st: Obj) => Promise<void>> = {
  Map: (r, st) => r.call(st),
  Queue: (r, st) => r.call(st),
  Start: (r, st) => r.start(st),
  Submit: (r, st) => r.submit(st),
  Reconnect: (r, st) => r.reconnect(st),
  GetJob: (r, st) => r.jobRPC(st),
  CancelJob: (r, st) => r.jobRPC(st),
  DeleteJob: (r, st) => r.jobRPC(st),
  ListJobs: (r, st) => r.listJobs(st),
  ListCallables: (r, st) => r.listCallables(st),
  GetStatus: (r, st) => r.getStatus(st),
  Echo: (r, st) => r.echo(st),
};

test("the scenario list is well formed", () => {
  const file = loadScenarios();
  if (file.scenarios.length === 0) throw new Error("no scenarios");
  for (const sc of file.scenarios) {
    sc.steps.forEach((st: Obj, i: number) => {
      if (!(st.rpc in stepRunners)) throw new Error(`${sc.name} step ${i}: unknown rpc ${text(st.rpc)}`);
    });
  }
});

/** The packed form's transcript of each scenario, which the Value form's must equal. */
const packedTranscripts = new Map<string, Obj[]>();

/** Runs every scenario on a fresh server in one form of items. */
async function runScenarios(t: { test: (name: string, fn: () => Promise<void>) => Promise<unknown> }, packed: boolean) {
  const file = loadScenarios();
  const server = new Server();
  await server.start(file.server.workers);
  const farm = connect(server.address, { packed });
  try {
    for (const sc of file.scenarios) {
      await t.test(sc.name, async () => {
        if (!server.alive()) throw new Error(`pprocd is not running; stderr:\n${server.stderrText()}`);
        const runner = new Runner(server, farm, packed);
        if (packed) packedTranscripts.set(sc.name, runner.transcript);
        runner.before = await runner.waitStatus((s) => !s.itemsRunning && !s.itemsQueued && !s.callsActive, "an idle server");
        for (const [i, st] of sc.steps.entries()) {
          const where = `step ${i} (${st.rpc})`;
          try {
            await stepRunners[st.rpc](runner, st);
          } catch (err) {
            runner.fail(String(err instanceof Error ? err.stack ?? err.message : err));
          }
          if (runner.problems.length) throw new Error(`${sc.name}: ${where}: ${runner.problems.join("\n  ")}`);
        }
        if (!server.alive()) throw new Error(`pprocd died during this scenario; stderr:\n${server.stderrText()}`);
        if (!packed) {
          const want = packedTranscripts.get(sc.name);
          if (!want) throw new Error(`${sc.name}: the packed form's run did not reach this scenario`);
          assert.deepStrictEqual(runner.transcript, want, `${sc.name}: the Value form differs from the packed form`);
        }
      });
    }
  } finally {
    farm.close();
    await server.stop();
  }
}

test("conformance, packed form (the default)", { skip: skipReason() }, (t) => runScenarios(t, true));

test("conformance, Value form, identical to the packed form", { skip: skipReason() }, (t) => runScenarios(t, false));


