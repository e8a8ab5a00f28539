// The checked-in generated code (src/generated) is exactly what
// scripts/regen-clients makes from proto/ now: a contract change without
// regenerating fails here.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.join(__dirname, "..", "..", "..", "..");
const kept = path.join(__dirname, "..", "..", "src", "generated");

function files(dir: string, under = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of fs.readdirSync(path.join(dir, under), { withFileTypes: true })) {
    const rel = path.join(under, entry.name);
    if (entry.isDirectory()) for (const [k, v] of files(dir, rel)) out.set(k, v);
    else out.set(rel, fs.readFileSync(path.join(dir, rel), "utf8"));
  }
  return out;
}

test("the generated code matches the contract", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "pprocd-node-regen-"));
  try {
    execFileSync(path.join(root, "scripts", "regen-clients"), ["--out", out, "node"], { stdio: "pipe" });
    const fresh = files(path.join(out, "node"));
    const checkedIn = files(kept);
    assert.deepEqual([...checkedIn.keys()].sort(), [...fresh.keys()].sort(),
      "the generated files differ from what proto/ gives now: run scripts/regen-clients");
    for (const [name, data] of fresh) {
      assert.ok(checkedIn.get(name) === data, `src/generated/${name} differs from what proto/ gives now: run scripts/regen-clients`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
