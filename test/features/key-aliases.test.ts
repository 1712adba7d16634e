/**
 * Key accounting under a plugin model type that spells keys its own way (ParsedConfig.keyAliases):
 * a renamed key is claimed, looked up and reported under the Hugging Face key it stands for.
 */
import { describe, expect, it } from "vitest";
import { accountKeys, BUILTIN_FEATURES, runFeatures, unclaimedKeys } from "../../src/features/index.js";
import { pathsOfKeys, rawValue } from "../../src/features/keys.js";
import {
  type Family,
  type ParsedConfig,
  type PluginModelType,
  parseConfigObject,
} from "../../src/parser/config/index.js";
import { type ArchitecturePlugin, mistralPlugin, resolve } from "../../src/resolver/index.js";
import { BASE, exampleJson, parsedFrom } from "./helpers.js";

/** File spelling → the Mistral key it stands for. */
const RENAMES: Record<string, string> = {
  norm_epsilon: "rms_norm_eps",
  rotary_base: "rope_theta",
  attn_window: "sliding_window",
};
const FAMILY = "renamed_mistral";
const TYPE: PluginModelType = { modelType: FAMILY, base: "mistral", keys: RENAMES };
const ARCH: ArchitecturePlugin = {
  ...mistralPlugin,
  id: "renamed-mistral",
  families: [FAMILY as Family],
};

const MODEL = "mistralai__Mistral-7B-v0.1";
const toFile = Object.fromEntries(Object.entries(RENAMES).map(([f, k]) => [k, f]));

function renamedConfig(): ParsedConfig {
  const raw = exampleJson(MODEL);
  const out = Object.fromEntries(Object.entries(raw).map(([k, v]) => [toFile[k] ?? k, v]));
  return parseConfigObject({ ...out, model_type: FAMILY }, "config.json", { modelTypes: [TYPE] });
}

const ledgerOf = (parsed: ParsedConfig) => {
  const { graph } = resolve(parsed, { plugins: [ARCH] });
  return runFeatures(graph, parsed, BASE);
};

/** A JSON path of the original config under the renamed file's spelling. */
const renamePath = (p: string) => {
  const key = p.slice(2);
  return toFile[key] !== undefined ? `$.${toFile[key]}` : p;
};

describe("renamed keys of a plugin model type", () => {
  const original = parsedFrom(exampleJson(MODEL));
  const renamed = renamedConfig();

  it("the parser records the renames present", () => {
    expect(renamed.keyAliases).toEqual({
      "$.attn_window": "sliding_window",
      "$.norm_epsilon": "rms_norm_eps",
      "$.rotary_base": "rope_theta",
    });
  });

  it("are claimed by the features that claim the key they stand for", () => {
    const before = new Map(accountKeys(original, BUILTIN_FEATURES).map((k) => [k.path, k]));
    const after = new Map(accountKeys(renamed, BUILTIN_FEATURES).map((k) => [k.path, k]));
    for (const [file, key] of Object.entries(RENAMES)) {
      const want = before.get(`$.${key}`);
      expect(want?.status, key).toBe("claimed");
      expect(after.get(`$.${file}`), file).toEqual({ ...want, path: `$.${file}` });
      expect(after.has(`$.${key}`)).toBe(false);
    }
    // every other key has the same status in both
    for (const [path, k] of before)
      expect(after.get(renamePath(path)), path).toEqual({ ...k, path: renamePath(path) });
    expect(after.size).toBe(before.size);
  });

  it("leave nothing unclaimed and raise no warning", () => {
    const r = ledgerOf(renamed);
    expect(unclaimedKeys(renamed, r.ledger)).toEqual([]);
    expect(r.diagnostics.filter((d) => d.code.startsWith("features/"))).toEqual([]);
    expect(r.ledger.keys.filter((k) => k.status === "unclaimed" || k.status === "unknown")).toEqual([]);
  });

  it("would be unclaimed without the aliases (the accounting reads keyAliases)", () => {
    const { keyAliases: _, ...bare } = renamed;
    const keys = new Map(accountKeys(bare, BUILTIN_FEATURES).map((k) => [k.path, k.status]));
    for (const file of Object.keys(RENAMES)) expect(keys.get(`$.${file}`), file).toBe("unclaimed");
  });

  it("are found by their Hugging Face names (ctx.pathsOf, raw values)", () => {
    expect(pathsOfKeys(renamed, ["sliding_window", "rms_norm_eps", "hidden_size"])).toEqual([
      "$.attn_window",
      "$.hidden_size",
      "$.norm_epsilon",
    ]);
    expect(rawValue(renamed, "rope_theta")).toBe(10000);
    expect(rawValue(renamed, "sliding_window")).toBe(4096);
    // the file's spelling is not a Hugging Face key
    expect(rawValue(renamed, "rotary_base")).toBeUndefined();
    expect(pathsOfKeys(renamed, ["rotary_base"])).toEqual([]);
  });

  it("give the ledger entries of the original config, with the file's paths", () => {
    const a = ledgerOf(original).ledger.entries;
    const b = ledgerOf(renamed).ledger.entries;
    expect(b).toEqual(a.map((e) => ({ ...e, paths: e.paths.map(renamePath) })));
    // the sliding-window entry points at the renamed key
    expect(b.some((e) => e.paths.includes("$.attn_window"))).toBe(true);
  });
});
