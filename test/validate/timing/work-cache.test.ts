/**
 * The per-session Work cache (src/validate/timing/work-cache.ts): a hit only when what workOf reads
 * is the same, and runs of a session that reuse Works time exactly as runs of fresh sessions.
 */
import { describe, expect, it } from "vitest";
import type { NpuInstr } from "../../../src/codegen/program.js";
import { timingModel } from "../../../src/validate/timing/resources.js";
import { TimingSession } from "../../../src/validate/timing/run.js";
import { ConstCache, workOf } from "../../../src/validate/timing/work.js";
import { WorkCache } from "../../../src/validate/timing/work-cache.js";
import { KV260 } from "./helpers.js";
import { decodeProgram, frontEnd, LLAMA2_CONFIG } from "./pipeline.js";

const m = timingModel(KV260);
const GEMV: NpuInstr = {
  opcode: "GEMV",
  fields: { shape_ptr_addr: 3, size_ptr_addr: 4, src_addr: 0, dest_reg: 64, flags: { w_scale: 1 } },
};
const CVO: NpuInstr = { opcode: "CVO", fields: { cvo_func: "EXP", length: 64, src_addr: 0, dst_addr: 8 } };

function consts(n: number, k: number): ConstCache {
  const cc = new ConstCache();
  cc.write("fmap_shape", 3, [1, n, k]);
  cc.write("weight_shape", 4, [0, 32, 0]);
  return cc;
}

describe("WorkCache", () => {
  it("returns the earlier Work for equal inputs and a new, correct one when they differ", () => {
    const wc = new WorkCache(m, false);
    const a = wc.work(7, GEMV, GEMV.fields, consts(256, 512));
    // a relocated copy with the same values and new constant arrays with the same values: a hit
    expect(wc.work(7, GEMV, { ...GEMV.fields }, consts(256, 512))).toBe(a);
    // another shape: recomputed, as workOf computes it
    const b = wc.work(7, GEMV, GEMV.fields, consts(512, 512));
    expect(b).not.toBe(a);
    expect(b).toEqual(workOf(m, GEMV, GEMV.fields, consts(512, 512), false));
    expect(b.macs).toBe(512 * 512);
    // a relocated field with another value: recomputed
    const c1 = wc.work(9, CVO, CVO.fields, new ConstCache());
    const c2 = wc.work(9, CVO, { ...CVO.fields, length: 128 }, new ConstCache());
    expect(c2).not.toBe(c1);
    expect(c2).toEqual(workOf(m, CVO, { ...CVO.fields, length: 128 }, new ConstCache(), false));
    // an extra key is not the same fields either
    expect(wc.work(9, CVO, { ...CVO.fields, length: 128, async: 1 }, new ConstCache())).not.toBe(c2);
  });

  it("keeps the full description apart (a timeline run describes, a plain run does not)", () => {
    const plain = new WorkCache(m, false).work(0, GEMV, GEMV.fields, consts(256, 512));
    const described = new WorkCache(m, true).work(0, GEMV, GEMV.fields, consts(256, 512));
    expect(plain.what).toBe("GEMV");
    expect(described.what).toBe("GEMV 1×256×512");
  });

  it("a session's repeated runs time exactly as fresh sessions do", () => {
    const program = decodeProgram(frontEnd(LLAMA2_CONFIG, KV260), KV260, "llama-2-7b");
    const decode = program.segments.find((s) => s.kind === "decode")!.name;
    const load = program.segments.filter((s) => s.kind === "load").map((s) => s.name);
    const shared = new TimingSession(program, KV260);
    for (const seg of load) shared.run({ segment: seg, variables: {}, tokens: 0 });
    const afterLoad = shared.consts.clone();
    for (const pos of [1023, 4095, 1023, 31]) {
      shared.consts = afterLoad.clone();
      const got = shared.run(shared.decodeSpec(decode, pos)).timing;
      const fresh = new TimingSession(program, KV260);
      for (const seg of load) fresh.run({ segment: seg, variables: {}, tokens: 0 });
      const want = fresh.run(fresh.decodeSpec(decode, pos)).timing;
      expect(got).toEqual(want);
    }
  }, 60_000);
});
