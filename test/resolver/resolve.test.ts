/**
 * resolve(): plugin choice, the checkpoint dtype, verification after every build (a broken plugin is
 * an internal bug, exit 70, naming the plugin), crashes wrapped, user errors passed through, and
 * byte-identical output for the same input.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ExitCode, unsupported } from "../../src/diag/index.js";
import { parseConfigObject, parseConfigText } from "../../src/parser/config/index.js";
import {
  type ArchitecturePlugin,
  findPlugin,
  graphToJson,
  type ModelGraph,
  resolve,
  verifyGraph,
} from "../../src/resolver/index.js";
import { canonicalJson } from "../../src/util/json.js";
import { thrown } from "../helpers/errors.js";

const canonicalJsonOf = (g: ModelGraph) => canonicalJson(graphToJson(g));

const EXAMPLES = fileURLToPath(new URL("../../examples/configs", import.meta.url));
const llamaPath = `${EXAMPLES}/meta-llama__Llama-3.2-1B/config.json`;
const llama = () => parseConfigText(readFileSync(llamaPath, "utf8"), llamaPath);
const raw = () => JSON.parse(readFileSync(llamaPath, "utf8")) as Record<string, unknown>;

describe("resolve", () => {
  it("builds a verified graph with the plugin id in its meta and no error diagnostics", () => {
    const r = resolve(llama());
    expect(r.plugin).toBe("llama");
    expect(r.graph.meta.plugin).toBe("llama");
    expect(r.graph.logits).toBe("logits");
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });
  it("is deterministic: the same config gives byte-identical graph JSON", () => {
    expect(canonicalJsonOf(resolve(llama()).graph)).toBe(canonicalJsonOf(resolve(llama()).graph));
  });
  it("declares weights in the config's torch_dtype (float16 here), BF16 for bfloat16", () => {
    const f16 = resolve(parseConfigObject({ ...raw(), torch_dtype: "float16" }, "c.json")).graph;
    expect(new Set(f16.weights.map((w) => w.dtype))).toEqual(new Set(["F16"]));
    expect(new Set(resolve(llama()).graph.weights.map((w) => w.dtype))).toEqual(new Set(["BF16"]));
  });
  it("uses the family default and says so when the config names no dtype", () => {
    const { torch_dtype: _, ...noDtype } = raw();
    const r = resolve(parseConfigObject(noDtype, "c.json"));
    expect(r.graph.weights[0]?.dtype).toBe("BF16");
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([["resolver/dtype-default", "info"]]);
  });
});

describe("resolve with a broken plugin", () => {
  const base = { families: ["llama"], summary: "test plugin", reads: [] } as const;
  it("an invalid graph is an internal bug (exit 70) naming the plugin and the problems", () => {
    const broken: ArchitecturePlugin = {
      ...base,
      id: "broken",
      build(cfg, b) {
        b.weight({ name: "x.weight", shape: [4], dtype: "BF16", role: "norm" });
        const e = b.weight({
          name: "emb",
          shape: [cfg.vocab_size, cfg.hidden_size],
          dtype: "BF16",
          role: "embedding",
        });
        b.embedding(b.tokens, e, undefined, { name: "h" });
      },
    };
    const e = thrown(() => resolve(llama(), { plugins: [broken] }));
    expect(e.code).toBe("resolver/invalid-graph");
    expect(e.exitCode).toBe(ExitCode.INTERNAL);
    expect(e.message).toContain("the broken architecture plugin built an invalid graph");
    expect(e.notes.join("\n")).toContain("graph/unused-weight");
    expect(e.notes.join("\n")).toContain("graph/logits");
  });
  it("a crash (TypeError) becomes resolver/plugin-crashed, exit 70, naming the plugin", () => {
    const crash: ArchitecturePlugin = {
      ...base,
      id: "crashy",
      build() {
        throw new TypeError("cannot read properties of undefined");
      },
    };
    const e = thrown(() => resolve(llama(), { plugins: [crash] }));
    expect([e.code, e.exitCode]).toEqual(["resolver/plugin-crashed", ExitCode.INTERNAL]);
    expect(e.message).toContain("crashy");
  });
  it("a builder bug inside the plugin keeps its code and gets the plugin name", () => {
    const bad: ArchitecturePlugin = {
      ...base,
      id: "widths",
      build(_cfg, b) {
        const e = b.weight({ name: "emb", shape: [8, 4], dtype: "BF16", role: "embedding" });
        const h = b.embedding(b.tokens, e);
        b.linear(h, b.weight({ name: "w", shape: [3, 5], dtype: "BF16", role: "other" }));
      },
    };
    const e = thrown(() => resolve(llama(), { plugins: [bad] }));
    expect(e.exitCode).toBe(ExitCode.INTERNAL);
    expect(e.code).toMatch(/^graph\//);
    expect(e.message).toMatch(/^the widths architecture plugin failed on .*config\.json: /);
  });
  it("a user-facing error from a plugin (exit 3) passes through unchanged", () => {
    const picky: ArchitecturePlugin = {
      ...base,
      id: "picky",
      build() {
        throw unsupported("resolver/unsupported-value", "no");
      },
    };
    const e = thrown(() => resolve(llama(), { plugins: [picky] }));
    expect([e.code, e.exitCode, e.message]).toEqual([
      "resolver/unsupported-value",
      ExitCode.UNSUPPORTED,
      "no",
    ]);
  });
});

describe("every shipped example config", () => {
  const folders = readdirSync(EXAMPLES).filter((d) => existsSync(`${EXAMPLES}/${d}/config.json`));
  it("covers one config per family", () => {
    expect(folders.length).toBeGreaterThanOrEqual(16);
  });
  for (const d of folders) {
    it(`${d} resolves with the plugin of its family and verifies`, () => {
      const path = `${EXAMPLES}/${d}/config.json`;
      const parsed = parseConfigText(readFileSync(path, "utf8"), path);
      const r = resolve(parsed);
      expect(r.graph.meta.plugin).toBe(r.plugin);
      expect(findPlugin({ family: parsed.text.family, modelType: parsed.text.model_type })?.id).toBe(
        r.plugin,
      );
      expect(verifyGraph(r.graph).filter((x) => x.severity === "error")).toEqual([]);
      expect(r.graph.meta.numLayers).toBe(parsed.text.num_hidden_layers);
    });
  }
});
