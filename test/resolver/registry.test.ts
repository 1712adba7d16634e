/**
 * The registry: explicit built-in list, --plugin plugins in front (override), lookup by family and
 * model_type, shape checks of loaded plugins, and the unsupported-architecture explanation
 * (nearest families by edit distance plus a family hint, exit 3).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExitCode } from "../../src/diag/index.js";
import {
  type ArchitecturePlugin,
  architectureStem,
  BUILTIN_PLUGINS,
  checkPlugin,
  editDistance,
  explainUnsupported,
  findPlugin,
  llamaPlugin,
  lookupArchitecture,
  nearestFamilies,
  pluginList,
} from "../../src/resolver/index.js";
import { thrown } from "../helpers/errors.js";

describe("built-in registry", () => {
  it("lists each plugin once, with distinct ids and families", () => {
    const ids = BUILTIN_PLUGINS.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const fams = BUILTIN_PLUGINS.flatMap((p) => [...p.families]);
    expect(new Set(fams).size).toBe(fams.length);
    for (const f of ["llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen3_moe", "phi3", "gpt2"]) {
      expect(findPlugin({ family: f, modelType: f })?.id).toBe(f);
    }
  });
  it("every plugin declares the TextConfig fields it reads and a summary", () => {
    for (const p of BUILTIN_PLUGINS) {
      expect(p.reads.length).toBeGreaterThan(3);
      expect(p.summary.length).toBeGreaterThan(10);
    }
  });
});

describe("plugin override order", () => {
  const custom: ArchitecturePlugin = { ...llamaPlugin, id: "my-llama" };
  it("puts --plugin plugins in front so they win for their family", () => {
    const list = pluginList([custom]);
    expect(list[0]).toBe(custom);
    expect(list.slice(1)).toEqual(BUILTIN_PLUGINS);
    expect(lookupArchitecture({ family: "llama", modelType: "llama" }, list).id).toBe("my-llama");
    expect(lookupArchitecture({ family: "qwen3", modelType: "qwen3" }, list).id).toBe("qwen3");
  });
  it("finds a plugin for a model_type outside the parser's families by its id", () => {
    const olmo: ArchitecturePlugin = { ...llamaPlugin, id: "olmo2", families: [] };
    expect(lookupArchitecture({ modelType: "olmo2" }, pluginList([olmo])).id).toBe("olmo2");
  });
  it("rejects a malformed loaded plugin with exit 2 and what is wrong", () => {
    const e = thrown(() => checkPlugin({ id: "x", families: "llama", build: 3 }, "./my-plugin.js"));
    expect(e.code).toBe("resolver/bad-plugin");
    expect(e.exitCode).toBe(ExitCode.INVALID_INPUT);
    expect(e.message).toContain("./my-plugin.js");
    expect(e.notes.join("\n")).toMatch(/families.*\n.*summary.*\n.*reads.*\n.*build/s);
    expect(() => pluginList([null as unknown as ArchitecturePlugin])).toThrow(/plugin #1/);
  });
});

describe("unsupported architectures", () => {
  it("olmo2: names it, the nearest families with a hint, and the plugin docs; exit 3", () => {
    const e = thrown(() =>
      lookupArchitecture({ modelType: "olmo2", architectures: ["Olmo2ForCausalLM"], file: "c.json" }),
    );
    expect(e.code).toBe("resolver/unsupported-architecture");
    expect(e.exitCode).toBe(ExitCode.UNSUPPORTED);
    expect(e.message).toMatch(/^olmo2 \(Olmo2ForCausalLM\) is not supported; nearest: llama, qwen3, /);
    expect(e.message).toContain("q/k RMSNorm");
    expect(e.message).toContain("write an architecture plugin (docs/plugins.md)");
    expect(e.at).toEqual({ file: "c.json", jsonPath: "$.model_type" });
    expect(e.fix).toContain("--plugin");
  });
  it("without a hint, ranks families by edit distance of model_type and architecture stems", () => {
    expect(nearestFamilies({ modelType: "qwen4" }).families.slice(0, 2)).toEqual(["qwen2", "qwen3"]);
    expect(nearestFamilies({ modelType: "zzz", architectures: ["MixtralXForCausalLM"] }).families[0]).toBe(
      "mixtral",
    );
    const d = explainUnsupported({ modelType: "qwen4" });
    expect(d.message).toContain("(closest names)");
    expect(d.message).not.toMatch(/^.*not supported\.?$/);
  });
  it("a family without a plugin in the list fails the same way", () => {
    const e = thrown(() => lookupArchitecture({ family: "qwen3", modelType: "qwen3" }, [llamaPlugin]));
    expect(e.exitCode).toBe(ExitCode.UNSUPPORTED);
    expect(e.message).toMatch(/^qwen3 is not supported; nearest: llama/);
  });
  it("architectureStem strips the task suffix", () => {
    expect(architectureStem("Olmo2ForCausalLM")).toBe("olmo2");
    expect(architectureStem("GPT2LMHeadModel")).toBe("gpt2");
    expect(architectureStem("Gemma3ForConditionalGeneration")).toBe("gemma3");
  });
});

describe("editDistance", () => {
  it("matches hand-computed values", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("olmo2", "llama")).toBe(4);
    expect(editDistance("", "abc")).toBe(3);
  });
  it("is a metric: symmetric, zero only on equal strings, triangle inequality", () => {
    const s = fc.string({ maxLength: 8 });
    fc.assert(
      fc.property(s, s, s, (a, b, c) => {
        const ab = editDistance(a, b);
        expect(ab).toBe(editDistance(b, a));
        expect(ab === 0).toBe(a === b);
        expect(editDistance(a, c)).toBeLessThanOrEqual(ab + editDistance(b, c));
        expect(ab).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
      { numRuns: 200 },
    );
  });
});
