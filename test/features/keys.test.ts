import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  accountKeys,
  BUILTIN_FEATURES,
  configPaths,
  OUT_OF_SCOPE_KEYS,
  runFeatures,
  UNKNOWN_KEY_FEATURE,
  unclaimedKeys,
} from "../../src/features/index.js";
import { GPT2_SHAPE } from "../../src/parser/config/families/gpt2.js";
import { NON_SEMANTIC_KEYS, parseConfigText } from "../../src/parser/config/index.js";
import { TEXT_SPECS } from "../../src/parser/config/registry.js";
import { resolve } from "../../src/resolver/index.js";
import { BASE, configDirs, EXAMPLES, exampleJson, featuresOf, parsedFrom, SHARED } from "./helpers.js";

function checkEveryKey(dir: string, name: string) {
  const file = join(dir, name, "config.json");
  const parsed = parseConfigText(readFileSync(file, "utf8"), file);
  const { graph } = resolve(parsed);
  const { ledger } = runFeatures(graph, parsed, BASE);
  // Nothing silently ignored: every path is claimed by a feature or on a documented list.
  expect(unclaimedKeys(parsed, ledger)).toEqual([]);
  const byPath = new Map(ledger.keys.map((k) => [k.path, k]));
  for (const p of configPaths(parsed)) expect(byPath.has(p.path), p.path).toBe(true);
  // Consistent with the parser's own accounting.
  for (const p of parsed.consumedKeys) {
    const k = byPath.get(p);
    if (k) expect(["claimed", "out-of-scope"], p).toContain(k.status);
  }
  for (const p of parsed.nonSemanticKeys)
    expect(["non-semantic", "out-of-scope"], p).toContain(byPath.get(p)?.status);
  // Keys the parser does not know are recognised by name (with the reason they are inert).
  for (const p of parsed.unknownKeys) expect(byPath.get(p)?.status, p).toBe("claimed");
  expect(ledger.entries.filter((e) => e.feature === UNKNOWN_KEY_FEATURE)).toEqual([]);
}

const shared = configDirs(SHARED);
if (shared.length === 0) console.warn(`skipped: key accounting of the shared configs (${SHARED} not found)`);

describe.skipIf(shared.length === 0)("every key of every shared real config is accounted for", () => {
  it.each(shared)("%s", (name) => checkEveryKey(SHARED, name));
});

describe("every key of every shipped example config is accounted for", () => {
  it.each(configDirs(EXAMPLES))("%s", (name) => checkEveryKey(EXAMPLES, name));
});

describe("every key a supported config class defines is claimed by a feature plugin", () => {
  const claimed = (key: string) =>
    BUILTIN_FEATURES.some((p) => p.keys.some((k) => k.split(".")[0] === key || k === key));
  const shapes: [string, Record<string, unknown>][] = [
    ...[...TEXT_SPECS.values()].map((s) => [s.modelType, s.shape] as [string, Record<string, unknown>]),
    ["gpt2", GPT2_SHAPE as Record<string, unknown>],
  ];
  it.each(shapes)("%s", (_type, shape) => {
    const missing = Object.keys(shape).filter((k) => !NON_SEMANTIC_KEYS.has(k) && !claimed(k));
    expect(missing).toEqual([]);
  });
});

describe("key statuses", () => {
  it("classifies claimed, non-semantic, out-of-scope and unknown keys", () => {
    const raw = exampleJson("google__gemma-3-4b-it");
    raw.text_config.my_new_knob = 3;
    raw.rope_wobble = { a: 1 };
    const parsed = parsedFrom(raw);
    const keys = new Map(accountKeys(parsed, BUILTIN_FEATURES).map((k) => [k.path, k]));
    expect(keys.get("$.text_config.hidden_size")).toEqual({
      path: "$.text_config.hidden_size",
      status: "claimed",
      features: ["dimensions"],
    });
    expect(keys.get("$.text_config.rope_scaling.factor")?.features).toEqual(["rope"]);
    expect(keys.get("$.vision_config")?.status).toBe("out-of-scope");
    expect(keys.has("$.vision_config.hidden_size")).toBe(false); // towers are not itemised
    expect(keys.get("$.image_token_index")?.status).toBe("out-of-scope");
    expect(keys.get("$.torch_dtype")?.status).toBe("non-semantic");
    expect(keys.get("$.text_config.my_new_knob")?.status).toBe("unknown");
    expect(keys.get("$.rope_wobble")?.status).toBe("unknown");
    expect(keys.get("$.rope_wobble.a")?.status).toBe("unknown");
    expect([...OUT_OF_SCOPE_KEYS]).toContain("mm_tokens_per_image");
  });

  it("an unknown key is an ignored ledger entry, a warning, and unclaimed", () => {
    const raw = exampleJson("meta-llama__Llama-3.2-1B");
    raw.attention_temperature = 0.7;
    const parsed = parsedFrom(raw, "my-config.json");
    const r = featuresOf(parsed);
    const e = r.ledger.entries.find((x) => x.feature === UNKNOWN_KEY_FEATURE);
    expect(e).toMatchObject({
      key: "attention_temperature",
      paths: ["$.attention_temperature"],
      value: 0.7,
      verdict: { kind: "ignored" },
      ops: [],
    });
    expect((e!.verdict as { reason: string }).reason).toMatch(/^unknown key/);
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({
        code: "features/unknown-key",
        severity: "warning",
        at: { file: "my-config.json", jsonPath: "$.attention_temperature" },
      }),
    );
    expect(unclaimedKeys(parsed, r.ledger)).toEqual(["$.attention_temperature"]);
    expect(r.ledger.summary.ignored).toBe(1);
  });

  it("an unknown key inside a claimed dict stays unknown (a dict claim is not a licence for typos)", () => {
    const raw = exampleJson("meta-llama__Llama-3.2-1B");
    raw.rope_scaling.low_freq_factr = 1;
    const parsed = parsedFrom(raw);
    const k = featuresOf(parsed).ledger.keys.find((x) => x.path === "$.rope_scaling.low_freq_factr");
    expect(k?.status).toBe("unknown");
  });

  it("a parser-consumed key no plugin claims is reported unclaimed", () => {
    const parsed = parsedFrom(exampleJson("mistralai__Mistral-7B-v0.1"));
    const keys = accountKeys(
      parsed,
      BUILTIN_FEATURES.filter((p) => p.id !== "sliding-window"),
    );
    expect(keys.find((k) => k.path === "$.sliding_window")?.status).toBe("unclaimed");
  });

  it("claim patterns match nested keys exactly, with * for a layer type", () => {
    const raw = exampleJson("google__gemma-4-E2B-it");
    raw.text_config.rope_parameters.full_attention.zeta = 2;
    const parsed = parsedFrom(raw);
    const probe = {
      id: "probe",
      summary: "",
      keys: ["rope_parameters.*.zeta"],
      detect: () => false,
      apply: (g: never) => ({ graph: g, entries: [] }),
    };
    const k = accountKeys(parsed, [...BUILTIN_FEATURES, probe]).find(
      (x) => x.path === "$.text_config.rope_parameters.full_attention.zeta",
    );
    expect(k).toMatchObject({ status: "claimed", features: ["probe"] });
  });
});

describe("the documented lists", () => {
  it("non-semantic keys come from the parser's list; towers are out of scope", () => {
    const parsed = parsedFrom(exampleJson("google__gemma-3n-E2B-it"));
    const keys = accountKeys(parsed, BUILTIN_FEATURES);
    const out = keys.filter((k) => k.status === "out-of-scope").map((k) => k.path);
    expect(out).toContain("$.audio_config");
    expect(out).toContain("$.vision_config");
    expect(out).toContain("$.audio_token_id");
    for (const k of keys.filter((x) => x.status === "non-semantic")) {
      const last = k.path.split(".").pop()!;
      expect(NON_SEMANTIC_KEYS.has(last) || parsed.nonSemanticKeys.includes(k.path), k.path).toBe(true);
    }
  });

  it("finds the shared folder relative to the repository", () => {
    expect(existsSync(EXAMPLES)).toBe(true);
  });
});
