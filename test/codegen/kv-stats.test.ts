/**
 * Per-token KV bytes in the stats say what the program really streams: for grouped-query attention
 * each KV head's K rows (with their scale beats) and V blocks move once per query head of its
 * group, for the visible rows of the ring the layer reads (its own, or the one it shares).
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codegen, kvBytesAt } from "../../src/codegen/index.js";
import { parseConfigText } from "../../src/parser/index.js";
import { resolve } from "../../src/resolver/index.js";
import { base, plan } from "./helpers.js";

const file = fileURLToPath(new URL("../../examples/tiny/gemma3n/config.json", import.meta.url));
if (!existsSync(file)) console.warn(`skipped: ${file} not found (per-token KV bytes)`);

describe.skipIf(!existsSync(file))("per-token KV bytes (tiny Gemma 3n: 4 query / 2 KV heads)", () => {
  const t = base();
  const g = resolve(parseConfigText(readFileSync(file, "utf8"), file)).graph;
  const r = codegen(g, plan(g, t), t, { segments: ["decode"] });
  const dec = r.program.segments.find((s) => s.kind === "decode")!;
  const beat = 16;
  // Ring geometry from the kv_write steps (docs/program.md §4.3).
  const rings = new Map<number, { capacity: number; kRow: number; vBlock: number }>();
  for (const s of dec.steps) {
    if (s.kind !== "host" || s.fn !== "kv_write") continue;
    const num = (k: string) => s.attrs[k] as number;
    const vBlock = (s.attrs.vParts as number[])
      .filter((n) => n > 0)
      .reduce((x, n) => x + n * beat + Math.ceil((n * 2) / beat) * beat, 0);
    const capacity = num("capacity");
    rings.set(num("layer"), { capacity, kRow: num("kScaleOffset") / capacity, vBlock });
  }
  const attention = g.ops.filter((o) => o.kind === "attention");

  /** Bytes if every KV head's tiles moved `perKvHead` times per token. */
  const expected = (pos: number, perQueryHead: boolean) =>
    attention.reduce((sum, op) => {
      const owner = op.kv.source === "shared" ? op.kv.layer : op.layer!;
      const c = rings.get(owner)!;
      const len = Math.min(pos + 1, c.capacity);
      const perHead = len * (c.kRow + beat) + Math.ceil(len / 32) * c.vBlock;
      return sum + perHead * (perQueryHead ? op.heads : op.kvHeads);
    }, 0);

  it("streams each KV head's tiles once per query head, and the stats say so", () => {
    expect(rings.size).toBe(5);
    expect(attention.every((o) => o.heads === 2 * o.kvHeads)).toBe(true);
    for (const pos of [0, 3, 4, 31, 40, 63]) {
      expect(kvBytesAt(r.program, "decode", pos)).toBe(expected(pos, true));
      expect(kvBytesAt(r.program, "decode", pos)).toBe(2 * expected(pos, false));
    }
    const st = r.stats.segments.decode!;
    expect(st.kvBytesFirst).toBe(expected(0, true));
    expect(st.kvBytesFull).toBe(expected(63, true));
    // The KV bytes are part of the weight-port bytes.
    const hp = Object.entries(st.dmaBytesFull)
      .filter(([k]) => k.startsWith("hp"))
      .reduce((x, [, v]) => x + v, 0);
    expect(st.kvBytesFull).toBeLessThan(hp);
    expect(r.stats.notes.join("\n")).toMatch(
      /grouped-query attention \(10 layer\(s\), 2 query heads per KV head\): each KV head's K and V tiles are streamed once per query head/,
    );
  });

  it("counts nothing for host attention (an int8 plan)", () => {
    const h = codegen(g, plan(g, t, { kvDtype: "int8" }), t, { segments: ["decode"] });
    expect(h.stats.segments.decode!.kvBytesFull).toBe(0);
    expect(h.stats.notes.some((n) => n.startsWith("grouped-query"))).toBe(false);
  });
});
