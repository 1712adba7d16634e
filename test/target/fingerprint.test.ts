import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadTarget, targetFromJson, targetFromText } from "../../src/target/index.js";
import { BUILTINS, builtinJson, builtinText, type EditableJson, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** The same JSON value with every object's keys in a permuted order (from `seed`). */
function shuffleKeys(v: unknown, rnd: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, rnd));
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    return Object.fromEntries(keys.map((k) => [k, shuffleKeys((v as Record<string, unknown>)[k], rnd)]));
  }
  return v;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("target fingerprint", () => {
  const base = loadTarget("kv260-v002");

  it("has the form name@16 hex and is the prefix of the full sha256", () => {
    expect(base.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(base.fingerprint).toBe(`kv260-v002@${base.hash.slice(0, 16)}`);
  });

  it("is stable across key order and formatting (property)", () => {
    const json = builtinJson("kv260-v002");
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 4 }),
        (seed, indent) => {
          const text = JSON.stringify(shuffleKeys(json, lcg(seed)), null, indent);
          expect(targetFromText(text, "perm.json").hash).toBe(base.hash);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("is the same for a file loaded from another place with other whitespace", () => {
    const path = tmp.write(
      "copy.json",
      builtinText("kv260-v002").replaceAll("\n", "\r\n").replaceAll("  ", "\t"),
    );
    expect(loadTarget(path).hash).toBe(base.hash);
  });

  it("differs between the three targets", () => {
    const hashes = BUILTINS.map((n) => loadTarget(n).hash);
    expect(new Set(hashes).size).toBe(3);
  });

  it("ignores documentation: name, description, notes, sources, meaning, $schema", () => {
    const d = builtinJson("kv260-v002");
    d.name = "renamed";
    d.description = "another description";
    d.notes = ["a note"];
    d.sources["$.gemv.cores"] = "a corrected citation";
    d.isa.cvo_functions[0].meaning = "reworded";
    delete d.$schema;
    const t = targetFromJson(d);
    expect(t.hash).toBe(base.hash);
    expect(t.fingerprint).toBe(`renamed@${base.hash.slice(0, 16)}`);
  });

  it("ignores how a hex address is spelt and whether a default is written out", () => {
    const d = builtinJson("kv260-v002");
    d.mmio.npu_page = "0xa0000000";
    d.isa.cvo_functions[0].elements_per_clk = 1; // the default, written out (with its source)
    d.sources["$.isa.cvo_functions[0].elements_per_clk"] = "pccx-v002.md §2 SFU";
    d.memcpy.aux_addr_supported = true;
    expect(targetFromJson(d).hash).toBe(base.hash);
  });

  it("changes with any hardware value, including a formula", () => {
    const edits: Array<(d: EditableJson) => void> = [
      (d) => {
        d.gemv.pipeline_latency_clk = 9;
      },
      (d) => {
        d.ports[0].gemm_lane = "lower";
        d.ports[1].gemm_lane = "upper";
      },
      (d) => {
        d.isa.cvo_functions[2].formula = "0.5*x*(1+erf(x/sqrt(2)))";
      },
      (d) => {
        d.numeric.kv_cache.default = "int8";
      },
    ];
    const seen = new Set([base.hash]);
    for (const edit of edits) {
      const d = builtinJson("kv260-v002");
      edit(d);
      const h = targetFromJson(d).hash;
      expect(seen.has(h)).toBe(false);
      seen.add(h);
    }
  });

  it("is the same for a variant written with extends and written flat", () => {
    const ext = loadTarget("kv260-v002-ext");
    // every value written out, so every number (defaults included) needs its source in the file
    const sources: Record<string, string> = {};
    for (const [k, p] of ext.provenance) if (k.startsWith("$.") && p.source) sources[k] = p.source;
    const flat = { ...ext.file, extends: undefined, sources } as Record<string, unknown>;
    // the validated file has parsed hex addresses: write them back as hex strings
    const text = JSON.stringify(flat, (k, v) =>
      ["page", "npu_page", "instruction_offset", "status_offset", "register_offset"].includes(k) &&
      typeof v === "number"
        ? `0x${v.toString(16)}`
        : v,
    );
    const t = targetFromText(text, "flat.json");
    expect(t.file.extends).toBeUndefined();
    expect(t.hash).toBe(ext.hash);
  });
});
