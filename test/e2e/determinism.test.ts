/**
 * Two compiles of the same inputs are byte-identical, into different directories; manifest.json
 * lists every output file with its sha256 and every input; no output holds an absolute path.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/util/hash.js";
import { REPO_ROOT, readTree, runCli, TINY_DIR, tempDir } from "./helpers.js";

describe("determinism", () => {
  it("compiles the tiny llama twice to the same bytes, with a manifest of every input and output", async () => {
    const t = await tempDir("pccxc-e2e-det-");
    try {
      const a = join(t.dir, "a");
      const b = join(t.dir, "nested", "b");
      for (const out of [a, b]) {
        const r = await runCli(["compile", join(TINY_DIR, "llama"), "-o", out, "--offline", "-q"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
      }
      const ta = await readTree(a);
      const tb = await readTree(b);
      expect([...tb.keys()]).toEqual([...ta.keys()]);
      for (const [name, bytes] of ta) expect(Buffer.compare(bytes, tb.get(name)!), name).toBe(0);
      for (const f of [
        "program.json",
        "program.bin",
        "weights.bin",
        "weights.json",
        "report.json",
        "trace.json",
        "driver/pccx_model.c",
        "layout.json",
        "ledger.json",
      ]) {
        expect(ta.has(f), f).toBe(true);
      }

      const manifest = JSON.parse(ta.get("manifest.json")!.toString("utf8"));
      expect(manifest.compiler.name).toBe("pccxc");
      expect(manifest.target.fingerprint).toMatch(/^kv260-v002@[0-9a-f]{16}$/);
      const outputs = new Map<string, string>(
        manifest.outputs.map((o: { path: string; sha256: string }) => [o.path, o.sha256]),
      );
      expect([...outputs.keys()].sort()).toEqual([...ta.keys()].filter((k) => k !== "manifest.json").sort());
      for (const [path, sha] of outputs) expect(sha256Hex(ta.get(path)!), path).toBe(sha);
      const inputs = manifest.inputs.map((i: { role: string; path: string }) => `${i.role}:${i.path}`);
      expect(inputs).toEqual([
        "config:config.json",
        "generation-config:generation_config.json",
        "weights:model.safetensors",
        "target:targets/kv260-v002.json",
      ]);

      // no absolute path (the temp dir, the repo, the home dir) in any output
      for (const [name, bytes] of ta) {
        const text = bytes.toString("latin1");
        for (const p of [t.dir, REPO_ROOT.replace(/\/$/, ""), "/tmp/", "/home/"])
          expect(text.includes(p), `${name} holds ${p}`).toBe(false);
      }
    } finally {
      await t.cleanup();
    }
  });
});
