/**
 * The KV rings in the DDR map are the program's rings: codegen hands its `kv.L<n>` regions to
 * finalizeLayout, whose map (and fit verdict) then counts exactly the bytes the program addresses —
 * for a GQA model with sliding-window and shared-KV layers (tiny Gemma 3n), with the NPU's int4
 * tiles and with the host attention's bf16 rings (an int8 plan), where the plan's estimate is short.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codegen } from "../../src/codegen/index.js";
import type { Program } from "../../src/codegen/program.js";
import { finalizeLayout } from "../../src/layout/index.js";
import { parseConfigText } from "../../src/parser/index.js";
import { resolve } from "../../src/resolver/index.js";
import { base, plan } from "./helpers.js";

const file = fileURLToPath(new URL("../../examples/tiny/gemma3n/config.json", import.meta.url));
if (!existsSync(file)) console.warn(`skipped: ${file} not found (KV rings in the DDR map)`);

const ringsOf = (p: Program) =>
  Object.fromEntries(p.ddr.filter((r) => r.kind === "kv").map((r) => [r.name, r.bytes]));

describe.skipIf(!existsSync(file))("KV rings in the DDR map (tiny Gemma 3n: GQA, sliding, shared KV)", () => {
  const t = base();
  const g = resolve(parseConfigText(readFileSync(file, "utf8"), file)).graph;

  it.each(["int4", "int8"] as const)(
    "%s plan: the map's KV bytes are the program's ring bytes",
    (kvDtype) => {
      const lp = plan(g, t, { kvDtype });
      const cg = codegen(g, lp, t, { segments: ["decode"] });
      const rings = ringsOf(cg.program);
      // Layers 0-4 own a cache (four sliding rings of the 4-token window, one full ring); 5-9 share.
      expect(Object.keys(rings).sort()).toEqual(["kv.L0", "kv.L1", "kv.L2", "kv.L3", "kv.L4"]);
      expect(lp.kv.shared?.length).toBe(5);
      const wp = finalizeLayout(lp, cg.segments, cg.regions);
      const kvRegions = wp.regions.filter((r) => r.kind === "kv");
      expect(Object.fromEntries(kvRegions.map((r) => [r.name, r.used]))).toEqual(rings);
      const total = Object.values(rings).reduce((a, b) => a + b, 0);
      // The map rounds every region up to its alignment; usage counts the aligned bytes.
      const aligned = Object.values(rings).reduce(
        (a, b) => a + Math.ceil(b / wp.alignment) * wp.alignment,
        0,
      );
      expect(kvRegions.map((r) => r.bytes)).toEqual(
        kvRegions.map((r) => Math.ceil(r.used / wp.alignment) * wp.alignment),
      );
      expect(wp.usage.kvBytes).toBe(aligned);
      // Every ring is in the map once (no plan-sized copy next to the program's).
      expect(wp.regions.filter((r) => r.name.startsWith("kv.")).length).toBe(5);
      if (kvDtype === "int4") {
        // The NPU format is the plan's: the layout sized the same tiles.
        expect(total).toBe(lp.kv.totalBytes);
      } else {
        // int8 runs attention on the host over bf16 rings: twice the plan's int8 bytes, give or take
        // the int8 scales and beat padding; the map must count the bf16 bytes, not the estimate.
        expect(cg.stats.notes.some((n) => /attention runs on the host/.test(n))).toBe(true);
        expect(total).toBeGreaterThan(1.5 * lp.kv.totalBytes);
      }
    },
  );

  it("the fit verdict counts the program's rings", () => {
    const lp = plan(g, t, { kvDtype: "int8" });
    const cg = codegen(g, lp, t, { segments: ["decode"] });
    const wp = finalizeLayout(lp, cg.segments, cg.regions);
    const kv = wp.fit.consumers.find((c) => c.name === "KV cache");
    const a = wp.alignment;
    expect(kv?.bytes).toBe(Object.values(ringsOf(cg.program)).reduce((s, b) => s + Math.ceil(b / a) * a, 0));
  });
});
