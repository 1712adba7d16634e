import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ex = (p: string) => join(ROOT, "examples", p);

describe("pccxc inspect: architecture and ledger", () => {
  it("shows the per-layer graph summary, parameters by role and the ledger of a tiny Gemma 3n", async () => {
    const r = await runCli(["inspect", ex("tiny/gemma3n")], {}, ROOT);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("== architecture");
    expect(r.stdout).toMatch(/plugin: gemma3n \(gemma3n_text\), 10 layers/);
    expect(r.stdout).toMatch(/L5: attention .* kv=shared\(L3\)/);
    expect(r.stdout).toMatch(/per_layer_embedding\s+[\d,]+/);
    expect(r.stdout).toContain("== feature ledger");
    expect(r.stdout).toMatch(/\d+ lowered, \d+ approximated, \d+ host, 0 rejected/);
  });

  it("puts the graph summary and the ledger in --json, and they agree with the text", async () => {
    const r = await runCli(["inspect", ex("configs/mistralai__Mixtral-8x7B-v0.1"), "--json"], {}, ROOT);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.architecture.params.total).toBe(46_702_792_704);
    expect(j.architecture.layers[0].moe).toEqual({ experts: 8, topK: 2 });
    expect(j.ledger.format).toBe("pccxc-feature-ledger");
    expect(j.ledger.target).toMatch(/^kv260-v002@[0-9a-f]{16}$/);
  });

  it("judges the ledger against the target given with --target", async () => {
    const base = await runCli(["inspect", ex("tiny/llama"), "--json"], {}, ROOT);
    const ext = await runCli(["inspect", ex("tiny/llama"), "--json", "--target", "kv260-v002-ext"], {}, ROOT);
    const host = (j: { ledger: { summary: { host: number } } }) => j.ledger.summary.host;
    expect(host(JSON.parse(ext.stdout))).toBeLessThan(host(JSON.parse(base.stdout)));
  });

  it("reports an architecture the resolver rejects after the config sections, with its exit code", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pccxc-inspect-"));
    try {
      const cfg = JSON.parse(readFileSync(ex("tiny/gemma4/config.json"), "utf8"));
      cfg.text_config.use_bidirectional_attention = "all";
      writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
      const r = await runCli(["inspect", dir, "--config-only"], {}, ROOT);
      expect(r.stdout).toContain("== config");
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/error\[/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
