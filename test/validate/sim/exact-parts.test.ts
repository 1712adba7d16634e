/**
 * `exactParts`: hardware mode with chosen parts of the numeric model exact (error attribution).
 * Each part switches off exactly its approximation and nothing else; exact mode is unchanged.
 */
import { describe, expect, it } from "vitest";
import { loadTarget } from "../../../src/target/index.js";
import { bf16Round, numericModel } from "../../../src/validate/sim/index.js";

const target = loadTarget("kv260-v002");
// 1.001 is not a BF16 value; 0.3 and 0.003 in one block lose the small one's low bits in INT8.
const x = Float32Array.of(0.3, 0.003, 1.001);
const quantized = (m: ReturnType<typeof numericModel>) => {
  const out = new Float64Array(3);
  m.quantizeRow(x, 0, 3, out);
  return [...out];
};

describe("hardware mode with exact parts", () => {
  it("none: BF16 in L2, INT8 activations, the SFU's formulas", () => {
    const m = numericModel(target, "hardware");
    expect(m.store(1.001)).toBe(bf16Round(1.001));
    expect(quantized(m)).not.toEqual([...x]);
    expect(m.exactSfu).toBe(false);
  });

  it("each part removes only its own approximation", () => {
    const a = numericModel(target, "hardware", ["activations"]);
    expect(quantized(a)).toEqual([...x]);
    expect(a.store(1.001)).toBe(bf16Round(1.001));
    expect(a.exactSfu).toBe(false);

    const l2 = numericModel(target, "hardware", ["l2"]);
    expect(l2.store(1.001)).toBe(Math.fround(1.001));
    expect(quantized(l2)).toEqual(quantized(numericModel(target, "hardware")));
    const bits = new Uint32Array(Float32Array.of(1.001).buffer);
    const before = bits[0];
    l2.storeRange(bits, 0, 1);
    expect(bits[0]).toBe(before);

    const sfu = numericModel(target, "hardware", ["sfu"]);
    expect(sfu.exactSfu).toBe(true);
    expect(sfu.store(1.001)).toBe(bf16Round(1.001));
  });

  it("exact mode is exact whatever the parts", () => {
    const e = numericModel(target, "exact");
    expect(e.store(1.001)).toBe(Math.fround(1.001));
    expect(quantized(e)).toEqual([...x]);
    expect(e.exactSfu).toBe(true);
  });
});
