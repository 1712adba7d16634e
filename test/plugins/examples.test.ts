import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ntkTheta } from "../../examples/plugins/ntk-rope.js";
import { prepareConfig, runFeatures, unclaimedKeys } from "../../src/features/index.js";
import { parseConfigText } from "../../src/parser/config/index.js";
import { featureList, loadPlugins } from "../../src/plugins/index.js";
import { resolve } from "../../src/resolver/index.js";
import { GoldenModel, rowOf } from "../../src/validate/golden/index.js";
import { BASE, catchPccx, exampleJson, parsedFrom, ROOT } from "../features/helpers.js";
import { withCheckpointReader } from "../helpers/checkpoint.js";
import { runCli } from "../helpers/cli.js";

function ntkConfig() {
  const raw = exampleJson("meta-llama__Llama-3.2-1B");
  raw.rope_scaling = { rope_type: "ntk_alpha", alpha: 4.0 };
  return parsedFrom(raw, "ntk.json");
}

describe("the example feature plugin (a new RoPE scaling)", () => {
  it("without it the config cannot be resolved (the resolver names the rope type, exit 3)", () => {
    const err = catchPccx(() => resolve(ntkConfig()));
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('"ntk_alpha"');
  });

  it("with it the rope ops carry the NTK base and the ledger records the feature", async () => {
    const { features } = await loadPlugins(["examples/plugins/ntk-rope.ts"], ROOT);
    const list = featureList(features);
    const parsed = prepareConfig(ntkConfig(), list);
    const { graph } = resolve(parsed);
    const theta = ntkTheta(500000, 4, 64);
    expect(theta).toBeCloseTo(500000 * 4 ** (64 / 62), 6);
    const ropes = graph.ops.filter((o) => o.kind === "rope");
    expect(ropes).toHaveLength(32);
    for (const o of ropes) expect(o.kind === "rope" && o.rope).toEqual({ type: "default", theta });

    const r = runFeatures(graph, parsed, BASE, list);
    const e = r.ledger.entries.find((x) => x.feature === "ntk-alpha-rope")!;
    expect(e).toMatchObject({
      key: "rope_scaling",
      paths: ["$.rope_scaling"],
      value: { rope_type: "ntk_alpha", alpha: 4 },
      verdict: { kind: "lowered" },
    });
    expect(e.ops).toEqual(ropes.map((o) => o.id));
    expect(e.detail).toBe(`fixed NTK-aware scaling α=4: RoPE base 500000 → ${theta.toPrecision(8)}`);
    // Its nested key is claimed by the plugin: nothing unclaimed, no unknown-key warning.
    expect(unclaimedKeys(parsed, r.ledger)).toEqual([]);
    expect(r.ledger.keys.find((k) => k.path === "$.rope_scaling.alpha")).toEqual({
      path: "$.rope_scaling.alpha",
      status: "claimed",
      features: ["ntk-alpha-rope"],
    });
    expect(r.diagnostics).toEqual([]);
  });

  it("a missing alpha is the user's error (exit 2, pointing at the key)", async () => {
    const { features } = await loadPlugins(["examples/plugins/ntk-rope.ts"], ROOT);
    const raw = exampleJson("meta-llama__Llama-3.2-1B");
    raw.rope_scaling = { rope_type: "ntk_alpha" };
    const err = catchPccx(() => prepareConfig(parsedFrom(raw, "x.json"), features));
    expect(err.exitCode).toBe(2);
    expect(err.at).toEqual({ file: "x.json", jsonPath: "$.rope_scaling.alpha" });
  });
});

describe("the example architecture plugin", () => {
  it("takes over the llama family and reproduces the built-in graph's logits on the tiny llama", async () => {
    const { architectures } = await loadPlugins(["examples/plugins/llama-arch.mjs"], ROOT);
    const dir = join(ROOT, "examples/tiny/llama");
    const parsed = parseConfigText(readFileSync(join(dir, "config.json"), "utf8"), "config.json");
    const mine = resolve(parsed, { plugins: architectures });
    const builtin = resolve(parsed);
    expect(mine.plugin).toBe("example-llama");
    expect(mine.graph.meta.plugin).toBe("example-llama");
    const shapes = (g: typeof mine.graph) =>
      g.weights.map((w) => `${w.name} ${w.shape.join("x")} ${w.role}`).sort();
    expect(shapes(mine.graph)).toEqual(shapes(builtin.graph));

    await withCheckpointReader(join(dir, "model.safetensors"), async (reader) => {
      const prompt = [5, 9, 2, 77, 31, 4, 8];
      const a = (await GoldenModel.load(mine.graph, reader)).session().forward(prompt);
      const b = (await GoldenModel.load(builtin.graph, reader)).session().forward(prompt);
      for (let t = 0; t < prompt.length; t++)
        expect(Array.from(rowOf(a, t))).toEqual(Array.from(rowOf(b, t)));
    });
  });
});

describe("--plugin on the command line", () => {
  it("`pccxc dev features` shows the plugin's entry; without the plugin it fails with exit 3", async () => {
    const cfg = join(ROOT, "test/plugins/fixtures/ntk-config.json");
    const f = await runCli(
      ["dev", "features", cfg, "--plugin", "examples/plugins/ntk-rope.ts", "--json"],
      {},
      ROOT,
    );
    expect(f.code).toBe(0);
    const ledger = JSON.parse(f.stdout);
    expect(ledger.entries.some((e: { feature: string }) => e.feature === "ntk-alpha-rope")).toBe(true);
    const g = await runCli(["dev", "features", cfg], {}, ROOT);
    expect(g.code).toBe(3);
    expect(g.stderr).toContain("ntk_alpha");
  });

  it("a missing plugin file exits 4, a malformed one 2", async () => {
    const gpt2 = "examples/configs/openai-community__gpt2";
    const f = await runCli(["dev", "features", gpt2, "--plugin", "./missing.mjs"], {}, ROOT);
    expect(f.code).toBe(4);
    expect(f.stderr).toContain("error[plugins/not-found]");
    const g = await runCli(
      ["dev", "features", gpt2, "--plugin", "test/plugins/fixtures/bad-shape.mjs"],
      {},
      ROOT,
    );
    expect(g.code).toBe(2);
    expect(g.stderr).toContain("missing `detect`");
  });
});
