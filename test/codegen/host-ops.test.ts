import { describe, expect, it } from "vitest";
import { variablesRead, variablesSet } from "../../src/codegen/host-ops/index.js";
import {
  HOST_FUNCTIONS,
  hostFunction,
  hostStepProblems,
  setsVariable,
  variableEffects,
} from "../../src/codegen/index.js";

describe("host function list", () => {
  it("names each function once, with operands, attributes, a formula and a cost class", () => {
    const names = HOST_FUNCTIONS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(names);
    for (const f of HOST_FUNCTIONS) {
      expect(f.formula.length).toBeGreaterThan(5);
      expect(f.summary.length).toBeGreaterThan(5);
      expect(["copy", "elementwise", "transcendental", "reduction"]).toContain(f.cost);
      const attrs = f.attrs.map((a) => a.name);
      expect(new Set(attrs).size).toBe(attrs.length);
    }
    for (const needed of [
      "kv_write",
      "moe_route",
      "argmax",
      "glu",
      "rope",
      "rms_norm",
      "softcap",
      "attention",
    ])
      expect(hostFunction(needed)).toBeDefined();
  });

  it("gives kv_write's variables from pos, the row and the ring", () => {
    const attrs = { layer: 3, row: 1, capacity: 100, chunk: 64, ports: 2 };
    const v = variableEffects("kv_write", attrs, new Map([["pos", 70]]));
    expect(v.get("kv_slot[3]")).toBe(71);
    expect(v.get("kv_len[3]")).toBe(72);
    expect(v.get("kv_blocks[3]")).toBe(3);
    // chunk 0 full (64 rows, 32 per port), chunk 1 holds 8 rows: 4 + 4.
    expect([
      v.get("kv_rows[3][0][0]"),
      v.get("kv_rows[3][0][1]"),
      v.get("kv_rows[3][1][0]"),
      v.get("kv_rows[3][1][1]"),
    ]).toEqual([32, 32, 4, 4]);
    const full = variableEffects("kv_write", attrs, new Map([["pos", 500]]));
    expect(full.get("kv_len[3]")).toBe(100);
    expect(full.get("kv_slot[3]")).toBe(501 % 100);
    expect(setsVariable("kv_write", attrs, "kv_rows[3][1][0]")).toBe(true);
    expect(setsVariable("kv_write", attrs, "kv_len[4]")).toBe(false);
  });

  it("marks router choices as data dependent within the expert range", () => {
    const v = variableEffects("moe_route", { layer: 2, topK: 2, numExperts: 8 }, new Map());
    expect(v.get("expert[2][1]")).toEqual({ min: 0, max: 7 });
    expect(setsVariable("moe_route", { layer: 2, topK: 2 }, "expert[2][2]")).toBe(false);
  });

  it("checks a host step's operands and attributes against the list", () => {
    const origin = { label: "x" };
    const op = { region: "host", offset: 0, elements: 4, dtype: "bf16" as const };
    expect(
      hostStepProblems({
        kind: "host",
        fn: "softcap",
        inputs: [op],
        outputs: [op],
        attrs: { cap: 30 },
        origin,
      }),
    ).toEqual([]);
    expect(
      hostStepProblems({ kind: "host", fn: "softcap", inputs: [], outputs: [op], attrs: {}, origin }),
    ).toEqual(["softcap needs at least 1 inputs, got 0", "softcap attribute cap is missing"]);
    expect(
      hostStepProblems({ kind: "host", fn: "nope", inputs: [], outputs: [], attrs: {}, origin }),
    ).toEqual(["unknown host function nope"]);
  });
});

describe("variables a host step uses", () => {
  it("resolves the list's reads with the step's attributes", () => {
    expect(variablesRead("kv_write", { layer: 3, row: 0 })).toEqual(["pos"]);
    expect(variablesRead("rope", { heads: 2 })).toEqual(["pos"]);
    expect(variablesRead("attention", { layer: 5, heads: 8 })).toEqual(["kv_len[5]"]);
    expect(variablesRead("gather_rows", { tokens: "token[0],token[1]" })).toEqual(["token[0]", "token[1]"]);
    expect(variablesRead("gather_rows", { tokens: "token" })).toEqual(["token"]);
    expect(variablesRead("add", {})).toEqual([]);
    expect(variablesRead("nope", {})).toEqual([]);
  });

  it("names what kv_write, kv_view and moe_route set", () => {
    expect(variablesSet("kv_write", { layer: 1, capacity: 8, chunk: 4, ports: 2 }).sort()).toEqual([
      "kv_blocks[1]",
      "kv_len[1]",
      "kv_rows[1][0][0]",
      "kv_rows[1][0][1]",
      "kv_rows[1][1][0]",
      "kv_rows[1][1][1]",
      "kv_slot[1]",
    ]);
    expect(variablesSet("kv_view", { layer: 2, capacity: 8 }).sort()).toEqual(["kv_blocks[2]", "kv_len[2]"]);
    expect(variablesSet("moe_route", { layer: 0, topK: 2, numExperts: 4 })).toEqual([
      "expert[0][0]",
      "expert[0][1]",
    ]);
    expect(variablesSet("add", {})).toEqual([]);
  });
});
