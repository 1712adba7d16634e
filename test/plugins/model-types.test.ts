/**
 * Architecture plugins that add a model type (examples/plugins/my-llama.mjs): the parser reads it
 * like its base family under the plugin's key names, the plugin's schema and checks report at JSON
 * paths, the loader rejects bad declarations, and the commands plan and compile it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runFeatures, unclaimedKeys } from "../../src/features/index.js";
import { type PluginModelType, parseConfigText } from "../../src/parser/config/index.js";
import { openModel } from "../../src/parser/index.js";
import { loadPlugins } from "../../src/plugins/index.js";
import { resolve } from "../../src/resolver/index.js";
import { loadTarget } from "../../src/target/index.js";
import { generateTiny } from "../../src/tiny/index.js";
import { runCli } from "../helpers/cli.js";
import { rejected, thrown } from "../helpers/errors.js";
import { REPO_ROOT } from "../helpers/paths.js";

const PLUGIN = "examples/plugins/my-llama.mjs";
const CONFIG = join(REPO_ROOT, "examples/plugins/my-llama/config.json");
const configText = readFileSync(CONFIG, "utf8");
const tmp = mkdtempSync(join(tmpdir(), "pccxc-model-types-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function myLlama() {
  return loadPlugins([PLUGIN], REPO_ROOT);
}

function edited(edit: (raw: Record<string, unknown>) => void): string {
  const raw = JSON.parse(configText) as Record<string, unknown>;
  edit(raw);
  return JSON.stringify(raw, null, 2);
}

describe("a model type added by an architecture plugin: parsing", () => {
  it("without the plugin: config/unsupported-model-type (exit 3) listing the supported types and suggesting --plugin", () => {
    const e = thrown(() => parseConfigText(configText, "config.json"));
    expect(e.code).toBe("config/unsupported-model-type");
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain(
      'model_type "my_llama" is not supported (nearest: "llama"); supported: deepseek_v2,',
    );
    expect(e.message).toContain(" llama, mistral,");
    expect(e.fix).toContain('load an architecture plugin that declares model_type "my_llama" with --plugin');
    expect(e.at).toEqual({ file: "config.json", jsonPath: "$.model_type" });
  });

  it("with it: read like llama under the plugin's key names, every key accounted for", async () => {
    const { modelTypes, sources } = await myLlama();
    expect(sources[0]?.modelTypes).toEqual(["my_llama"]);
    const p = parseConfigText(configText, "config.json", { modelTypes });
    expect(p.modelType).toBe("my_llama");
    expect(p.text.model_type).toBe("my_llama");
    expect(p.text.family).toBe("my_llama");
    expect(p.text.norm_eps).toBe(1e-5);
    expect(p.text.rope.full_attention?.rope_theta).toBe(500000);
    expect(p.text.rope.full_attention?.rope_type).toBe("llama3");
    expect(p.text.num_hidden_layers).toBe(16);
    expect(p.consumedKeys).toContain("$.norm_epsilon");
    expect(p.consumedKeys).toContain("$.rotary_base");
    expect(p.consumedKeys).not.toContain("$.rms_norm_eps");
    expect(p.unknownKeys).toEqual([]);
    expect(p.fieldSources.norm_eps).toEqual(["$.norm_epsilon"]);
    expect(p.keyAliases).toEqual({ "$.norm_epsilon": "rms_norm_eps", "$.rotary_base": "rope_theta" });
    // the same as the llama config it was made from, but for the names
    const llama = parseConfigText(
      readFileSync(join(REPO_ROOT, "examples/configs/meta-llama__Llama-3.2-1B/config.json"), "utf8"),
      "config.json",
    );
    expect({ ...p.text, model_type: "llama", family: "llama" }).toEqual(llama.text);
  });

  it("openModel and the tiny generator know the model types passed in their options, and only those", async () => {
    const { modelTypes, architectures } = await myLlama();
    const src = await openModel(CONFIG, { weightsPolicy: "none", parse: { modelTypes } });
    expect(src.config.text.family).toBe("my_llama");
    expect(src.config.keyAliases).toEqual({
      "$.norm_epsilon": "rms_norm_eps",
      "$.rotary_base": "rope_theta",
    });
    const bare = await rejected(openModel(CONFIG, { weightsPolicy: "none" }));
    expect(bare.code).toBe("config/unsupported-model-type");

    const m = await generateTiny(CONFIG, join(tmp, "tiny-direct"), { modelTypes, architectures });
    expect(m.parsed.text.family).toBe("my_llama");
    expect(m.graph.meta.modelType).toBe("my_llama");
    // the source is refused without them (before anything is written)
    const e = await rejected(generateTiny(CONFIG, join(tmp, "tiny-bare"), { architectures }));
    expect(e.code).toBe("config/unsupported-model-type");
    expect(existsSync(join(tmp, "tiny-bare", "config.json"))).toBe(false);
  });

  it("the plugin's schema, the base family's types under the file's names, its check: config/invalid at the path", async () => {
    const { modelTypes } = await myLlama();
    const parse = (text: string) => thrown(() => parseConfigText(text, "c.json", { modelTypes }));
    const noBase = parse(
      edited((r) => {
        delete r.rotary_base;
      }),
    );
    expect(noBase.code).toBe("config/invalid");
    expect(noBase.exitCode).toBe(2);
    expect(noBase.message).toBe(
      "c.json at $.rotary_base: a my_llama config must give rotary_base, got nothing",
    );
    const badEps = parse(
      edited((r) => {
        r.norm_epsilon = "tiny";
      }),
    );
    expect(badEps.at?.jsonPath).toBe("$.norm_epsilon");
    expect(badEps.message).toContain("expected a positive number");
    const both = parse(
      edited((r) => {
        r.rms_norm_eps = 1e-5;
      }),
    );
    expect(both.at?.jsonPath).toBe("$.rms_norm_eps");
    expect(both.message).toContain('a my_llama config spells this key "norm_epsilon"');
    const gelu = parse(
      edited((r) => {
        r.hidden_act = "gelu";
      }),
    );
    expect(gelu.at?.jsonPath).toBe("$.hidden_act");
    expect(gelu.message).toBe('c.json at $.hidden_act: my_llama uses SiLU, got "gelu"');
    expect(gelu.fix).toBe('set "hidden_act": "silu"');
    const missing = parse(
      edited((r) => {
        delete r.norm_epsilon;
        delete r.hidden_size;
      }),
    );
    expect(missing.message).toContain('missing required key "hidden_size"');
  });

  it("a zod schema works as the plugin's schema (issues at their JSON paths)", () => {
    const t: PluginModelType = {
      modelType: "zod_llama",
      base: "llama",
      schema: z.looseObject({ vocab_size: z.number().int().max(1000, { error: "at most 1000 tokens" }) }),
    };
    const text = edited((r) => {
      r.model_type = "zod_llama";
      r.rms_norm_eps = r.norm_epsilon;
      r.rope_theta = r.rotary_base;
      delete r.norm_epsilon;
      delete r.rotary_base;
    });
    const e = thrown(() => parseConfigText(text, "z.json", { modelTypes: [t] }));
    expect(e.message).toBe("z.json at $.vocab_size: at most 1000 tokens, got 128256");
    const ok = parseConfigText(text.replace('"vocab_size": 128256', '"vocab_size": 512'), "z.json", {
      modelTypes: [t],
    });
    expect(ok.text.vocab_size).toBe(512);
    expect(ok.keyAliases).toBeUndefined();
  });

  it("resolves with the plugin's architecture (graph meta names the plugin and the model type)", async () => {
    const { modelTypes, architectures } = await myLlama();
    const parsed = parseConfigText(configText, "config.json", { modelTypes });
    const { graph, plugin } = resolve(parsed, { plugins: architectures });
    expect(plugin).toBe("my-llama");
    expect(graph.meta.modelType).toBe("my_llama");
    expect(graph.meta.numLayers).toBe(16);
    // without the architecture plugin nothing builds the family
    expect(thrown(() => resolve(parsed)).code).toBe("resolver/unsupported-architecture");
    // every key is accounted for, the renamed ones under the keys they stand for
    const { ledger, diagnostics } = runFeatures(graph, parsed, loadTarget("kv260-v002"));
    expect(unclaimedKeys(parsed, ledger)).toEqual([]);
    expect(diagnostics.map((d) => d.code)).not.toContain("features/unclaimed-key");
  });

  it("the renamed keys are claimed under the keys they stand for (no features/unclaimed-key)", async () => {
    const r = await runCli(["dev", "features", CONFIG, "--plugin", PLUGIN, "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("features/unclaimed-key");
    const keys = new Map(
      (JSON.parse(r.stdout).keys as { path: string; status: string; features: string[] }[]).map((k) => [
        k.path,
        k,
      ]),
    );
    expect(keys.get("$.norm_epsilon")).toEqual({
      path: "$.norm_epsilon",
      status: "claimed",
      features: ["norm"],
    });
    expect(keys.get("$.rotary_base")).toMatchObject({ status: "claimed", features: ["rope"] });
    expect([...keys.values()].filter((k) => k.status === "unclaimed" || k.status === "unknown")).toEqual([]);
  });
});

describe("a model type added by an architecture plugin: loading", () => {
  function write(name: string, arch: string): string {
    const p = join(tmp, name);
    writeFileSync(p, `export default { architectures: [${arch}] };`);
    return p;
  }
  const arch = (id: string, families: string, modelTypes: string) =>
    `{ id: "${id}", families: ${families}, summary: "s", reads: [], build() {}, modelTypes: ${modelTypes} }`;

  it("rejects bad declarations, each problem named (plugins/bad-shape, exit 2)", async () => {
    const f = write(
      "bad-types.mjs",
      arch(
        "bad",
        '["x_llama", "llama"]',
        `[{ modelType: "llama", base: "llama" }, { modelType: "x_llama", base: "nope" },
          { modelType: "y_llama", base: "llama" }, { modelType: "x_llama", base: "llama", keys: { eps: "no_such_key" } },
          { modelType: "x_llama", base: "llama", schema: {}, check: 3 }]`,
      ),
    );
    const e = await rejected(loadPlugins([f], tmp));
    expect(e.code).toBe("plugins/bad-shape");
    expect(e.exitCode).toBe(2);
    const all = [e.message, ...e.notes];
    expect(all[0]).toContain('architectures[0] ("bad") modelTypes[0]: model_type "llama" is built in');
    expect(all).toContain(
      'architectures[0] ("bad") modelTypes[1] needs `base`: one of llama, mistral, mixtral, qwen2, qwen3, qwen3_moe, phi3, gemma2, gemma3_text, gemma3n_text, gemma4_text, deepseek_v2, deepseek_v3, gpt_oss',
    );
    expect(all).toContain(
      'architectures[0] ("bad") modelTypes[2]: "y_llama" is not in `families` (add it: this plugin builds it)',
    );
    expect(all).toContain(
      'architectures[0] ("bad") modelTypes[3]: keys.eps → "no_such_key" is not a key llama reads',
    );
    expect(all).toContain(
      'architectures[0] ("bad") modelTypes[4]: `schema` must have a safeParse method (a zod schema)',
    );
    expect(all).toContain('architectures[0] ("bad") modelTypes[4]: `check` must be a function');
  });

  it("two modules declaring the same model type: plugins/duplicate-id", async () => {
    const decl = '[{ modelType: "twin_llama", base: "llama" }]';
    const a = write("twin-a.mjs", arch("twin-a", '["twin_llama"]', decl));
    const b = write("twin-b.mjs", arch("twin-b", '["twin_llama"]', decl));
    const e = await rejected(loadPlugins([a, b], tmp));
    expect(e.code).toBe("plugins/duplicate-id");
    expect(e.message).toBe(`model_type "twin_llama" is defined by both ${a} and ${b}`);
  });
});

describe("a model type added by an architecture plugin: the commands", () => {
  it("inspect --config-only and compile --stop-after layout of the real-size config", async () => {
    const without = await runCli(["inspect", CONFIG, "--config-only"]);
    expect(without.code).toBe(3);
    expect(without.stderr).toContain("error[config/unsupported-model-type]");
    expect(without.stderr).toContain("--plugin");

    const ins = await runCli(["inspect", CONFIG, "--config-only", "--plugin", PLUGIN, "--json"]);
    expect(ins.code).toBe(0);
    const j = JSON.parse(ins.stdout);
    expect(j.model.modelType).toBe("my_llama");
    expect(j.model.family).toBe("my_llama");

    const out = join(tmp, "layout-out");
    const r = await runCli([
      "compile",
      CONFIG,
      "-o",
      out,
      "--stop-after",
      "layout",
      "--plugin",
      PLUGIN,
      "-q",
    ]);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    const dump = JSON.parse(readFileSync(join(out, "dump/resolve.json"), "utf8"));
    expect(JSON.stringify(dump)).toContain('"my-llama"');
    const layout = JSON.parse(readFileSync(join(out, "dump/layout.json"), "utf8"));
    expect(layout.context).toBe(8192);
  });

  it("dev tiny makes a tiny my_llama checkpoint; plan and compile it (validated against golden)", async () => {
    const tiny = join(tmp, "tiny-my-llama");
    mkdirSync(tiny, { recursive: true });
    const g = await runCli(["dev", "tiny", CONFIG, "-o", tiny, "--plugin", PLUGIN, "-q"]);
    expect(g.stderr).toBe("");
    expect(g.code).toBe(0);
    const cfg = JSON.parse(readFileSync(join(tiny, "config.json"), "utf8"));
    expect(cfg).toMatchObject({
      model_type: "my_llama",
      norm_epsilon: 1e-5,
      rotary_base: 500000,
      hidden_size: 64,
    });
    expect(cfg.rms_norm_eps).toBeUndefined();

    const plan = await runCli(["plan", tiny, "--plugin", PLUGIN, "--json", "--contexts", "1024"]);
    expect(plan.code).toBe(0);
    const pj = JSON.parse(plan.stdout);
    expect(pj.architecture.plugin).toBe("my-llama");
    expect(pj.targets[0].verdict).toBe("fits");

    const out = join(tmp, "tiny-out");
    const c = await runCli(["compile", tiny, "-o", out, "--plugin", PLUGIN, "--json", "--tokens", "4"]);
    expect(c.code).toBe(0);
    const summary = JSON.parse(c.stdout);
    expect(summary.validation.verdict).toBe("passed");
    expect(existsSync(join(out, "weights.bin"))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.inputs.map((i: { role: string }) => i.role)).toContain("plugin");
  }, 60_000);
});
