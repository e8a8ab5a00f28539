// A pprocd process for the tests: $PPROCD_BINARY on a UNIX socket in a
// temporary directory, stopped when the tests end. Nothing it starts
// outlives the tests: it leads a process group of its own (detached), which
// stop() and this process's exit kill whole, and util-linux setpriv, where
// there is one, makes the kernel kill it when this process dies
// (PR_SET_PDEATHSIG; node starts children from its main thread).
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";

export const binaryEnv = "PPROCD_BINARY";

/** setpriv --pdeathsig KILL --, when there is a setpriv with that option. */
function dieWithTestsPrefix(): string[] {
  for (const setpriv of ["/usr/bin/setpriv", "/bin/setpriv"]) {
    if (!fs.existsSync(setpriv)) continue;
    const usage = spawnSync(setpriv, ["--help"], { encoding: "utf8" });
    return usage.stdout?.includes("--pdeathsig") ? [setpriv, "--pdeathsig", "KILL", "--"] : [];
  }
  return [];
}
const dieWithTests = dieWithTestsPrefix();

/** Why the tests that need a server skip, or undefined when they can run. */
export function skipReason(): string | undefined {
  return process.env[binaryEnv]
    ? undefined
    : `$${binaryEnv} is not set: point it at a built pprocd (ctest sets it; e.g. build/server/pprocd)`;
}

/** Bound on waits for events that come at once on a healthy machine: only a hang reaches it. */
export const eventLimitMs = 60_000;

export class Server {
  readonly dir: string;
  readonly address: string;
  private readonly stderrPath: string;
  private proc?: ChildProcess;
  private exited = false;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "pprocd-node-"));
    this.address = "unix:" + path.join(this.dir, "run", "pprocd.sock");
    this.stderrPath = path.join(this.dir, "stderr.log");
  }

  async start(workers: number): Promise<void> {
    const stderr = fs.openSync(this.stderrPath, "w");
    const command = [
      ...dieWithTests,
      process.env[binaryEnv]!,
      ...["--listen", this.address, "--workers", String(workers), "--state-dir", path.join(this.dir, "var")],
    ];
    const proc = spawn(command[0], command.slice(1), { stdio: ["ignore", "pipe", stderr], detached: true });
    fs.closeSync(stderr);
    this.proc = proc;
    const killGroup = () => {
      try {
        if (proc.pid) process.kill(-proc.pid, "SIGKILL");
      } catch {
        // The group is gone already.
      }
    };
    process.once("exit", killGroup);
    proc.once("exit", () => {
      process.removeListener("exit", killGroup);
      killGroup(); // What is left of its group (the template of a killed server).
    });
    const exit = new Promise<void>((resolve) => proc.on("exit", () => resolve()));
    void exit.then(() => (this.exited = true));
    const ready = new Promise<boolean>((resolve) => {
      const lines = readline.createInterface({ input: proc.stdout! });
      lines.on("line", (line) => {
        if (line.includes("pprocd ready on")) resolve(true);
      });
      lines.on("close", () => resolve(false));
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("timeout"), eventLimitMs);
    });
    const outcome = await Promise.race([ready, timeout]);
    clearTimeout(timer);
    if (outcome !== true) {
      throw new Error(`pprocd did not become ready; stderr:\n${this.stderrText()}`);
    }
  }

  alive(): boolean {
    return !!this.proc && !this.exited;
  }

  stderrText(): string {
    try {
      return fs.readFileSync(this.stderrPath, "utf8");
    } catch {
      return "";
    }
  }

  async stop(): Promise<void> {
    if (this.proc && !this.exited) {
      const proc = this.proc;
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
