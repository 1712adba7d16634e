import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loadTarget } from "../../src/target/index.js";
import { builtinJson, runCli, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("pccxc targets list", () => {
  it("prints each built-in with its fingerprint and description", async () => {
    const r = await runCli(["targets", "list"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+FINGERPRINT\s+DESCRIPTION$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(loadTarget("kv260-v002").fingerprint);
    expect(r.stdout).toContain(loadTarget("kv260-v002-rtl").fingerprint);
  });

  it("--json", async () => {
    const r = await runCli(["targets", "list", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.targets.map((t: { name: string }) => t.name)).toEqual([
      "kv260-v002",
      "kv260-v002-ext",
      "kv260-v002-rtl",
    ]);
    expect(j.targets[1].fingerprint).toBe(loadTarget("kv260-v002-ext").fingerprint);
  });
});

describe("pccxc targets show", () => {
  it("prints values and derived values", async () => {
    const r = await runCli(["targets", "show", "kv260-v002"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(
      `${loadTarget("kv260-v002").fingerprint}  (targets/kv260-v002.json)`,
    );
    expect(r.stdout).toContain("  $.gemv.cores = 4\n");
    expect(r.stdout).toContain("  $.mmio.npu_page = 0xA0000000\n");
    expect(r.stdout).toContain("  derived.gemv.gmacs = 51.2\n");
    expect(r.stdout).not.toContain("target-file");
  });

  it("--explain adds each value's provenance and source line", async () => {
    const r = await runCli(["targets", "show", "kv260-v002-ext", "--explain"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "  $.gemv.cores = 4\n      target-file targets/kv260-v002.json: pccx-v002.md §2 GEMV (4 cores)\n",
    );
    expect(r.stdout).toMatch(
      / {2}\$\.isa\.cvo_functions\[8\]\.name = "SILU"\n {6}target-file targets\/kv260-v002-ext\.json\n/,
    );
    expect(r.stdout).toContain("      schema-default: pccx-v002.md §2 SFU: one unit, 1 BF16 element/clk\n");
    expect(r.stdout).toContain(
      "  derived.gemv.feed.feed_gbps = 16\n      derived: feed_bytes_per_s / 10^9\n",
    );
  });

  it("--set overrides, shown as overrides", async () => {
    const r = await runCli(["targets", "show", "kv260-v002", "--explain", "--set", "ddr.efficiency=0.85"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  $.ddr.efficiency = 0.85\n      override: --set ddr.efficiency=0.85\n");
    expect(r.stdout).toContain("  derived.ddr.effective_gbps = 16.32\n");
  });

  it("--json with --explain", async () => {
    const r = await runCli(["targets", "show", "kv260-v002-rtl", "--json", "--explain"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const t = loadTarget("kv260-v002-rtl");
    expect(j.fingerprint).toBe(t.fingerprint);
    expect(j.hash).toBe(t.hash);
    expect(j.target.l2.addressing.cvo.unit).toBe("element");
    expect(j.derived.gemv.max_k_per_instruction).toBe(1024);
    expect(j.provenance["$.activation_cache.k_accumulation_limit"]).toEqual({
      kind: "target-file",
      file: "targets/kv260-v002-rtl.json",
      source: "pccx-v002.md §8 (the accumulation limit is 1,024)",
    });
    const plain = JSON.parse((await runCli(["targets", "show", "kv260-v002-rtl", "--json"])).stdout);
    expect(plain.provenance).toBeUndefined();
  });

  it("a path relative to the working directory", async () => {
    const d = builtinJson("kv260-v002");
    d.name = "mine";
    tmp.write("mine.json", JSON.stringify(d));
    const r = await runCli(["targets", "show", "./mine.json", "--json"], tmp.dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).file).toBe("mine.json");
  });

  it("an invalid file: message on stderr, exit 2; with --json also a JSON error", async () => {
    const d = builtinJson("kv260-v002");
    d.name = "bad";
    d.ports[2].width_bits = -1;
    tmp.write("bad.json", JSON.stringify(d, null, 2));
    const r = await runCli(["targets", "show", "bad.json"], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "error[target/invalid]: bad.json at $.ports[2].width_bits: expected a positive integer, got -1",
    );
    expect(r.stderr).toMatch(/--> bad\.json:\d+:\d+ at \$\.ports\[2\]\.width_bits/);
    const j = await runCli(["targets", "show", "bad.json", "--json"], tmp.dir);
    expect(JSON.parse(j.stdout).error).toMatchObject({ code: "target/invalid", exitCode: 2 });
  });

  it("a missing file exits 4, an unknown name 2, a malformed --set 1", async () => {
    expect((await runCli(["targets", "show", "nope.json"], tmp.dir)).code).toBe(4);
    const unknown = await runCli(["targets", "show", "kv999"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("built-in targets: kv260-v002, kv260-v002-ext, kv260-v002-rtl");
    expect((await runCli(["targets", "show", "kv260-v002", "--set", "ddr.efficiency"])).code).toBe(1);
  });
});

describe("pccxc schema", () => {
  it("schema target prints exactly the committed schemas/target.schema.json", async () => {
    const r = await runCli(["schema", "target"]);
    expect(r.code).toBe(0);
    const committed = readFileSync(new URL("../../schemas/target.schema.json", import.meta.url), "utf8");
    expect(r.stdout).toBe(committed);
    expect(JSON.parse(r.stdout).properties.ddr.properties.efficiency.exclusiveMinimum).toBe(0);
  });

  it("lists the schemas, and rejects an unknown one (exit 1)", async () => {
    const list = await runCli(["schema"]);
    expect(list.stdout).toMatch(/^target {2}/);
    const bad = await runCli(["schema", "nope"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown schema "nope"; available: target');
  });
});
