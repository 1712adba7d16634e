/**
 * The llama-style decode program, step by step: GEMV tiling, norms, RoPE, attention over the KV
 * ring with relocations, the MLP with host SiLU·mul, residuals with accm, the LM head, argmax.
 */
import { describe, expect, it } from "vitest";
import { codegen, stepsForTensor, verifyProgram } from "../../src/codegen/index.js";
import type { NpuStep, Program, Step } from "../../src/codegen/program.js";
import { canonicalJson } from "../../src/util/json.js";
import { llamaLike } from "./graphs.js";
import { base, plan } from "./helpers.js";

const npu = (s: Step): s is NpuStep => s.kind === "npu";
const fields = (s: NpuStep) => s.instr.fields as Record<string, number | string | Record<string, number>>;
const decodeOf = (p: Program) => p.segments.find((s) => s.kind === "decode")!;
const byLabel = (p: Program, re: RegExp) => decodeOf(p).steps.filter((s) => re.test(s.origin.label));

describe("llama decode on kv260-v002", () => {
  // Large enough to split N and K: H 2560 > 2048 (K chunks), inter 4352 (three N tiles), vocab 5000.
  const g = llamaLike({ H: 2560, heads: 4, kvHeads: 2, hd: 64, inter: 4352, vocab: 5000, layers: 1 });
  const t = base();
  const r = codegen(g, plan(g, t, { context: 4200 }), t, { segments: ["decode"] });
  const p = r.program;
  const dec = decodeOf(p);

  it("verifies clean at every sampled position", () => {
    expect(verifyProgram(p, t)).toEqual([]);
  });

  it("tiles a projection: N over calls of at most 2048 rows, K in 2048 chunks merged with accm", () => {
    const up = byLabel(p, /^L0\.up n /).filter(npu);
    expect(up.map((s) => s.origin.label)).toEqual([
      "L0.up n 0+2048 k 0+2048",
      "L0.up n 0+2048 k 2048+512",
      "L0.up n 2048+2048 k 0+2048",
      "L0.up n 2048+2048 k 2048+512",
      "L0.up n 4096+256 k 0+2048",
      "L0.up n 4096+256 k 2048+512",
    ]);
    expect(up.map((s) => (fields(s).flags as Record<string, number>).accm)).toEqual([0, 1, 0, 1, 0, 1]);
    // The second N tile writes 2048/8 = 256 words after the first.
    expect((fields(up[2]!).dest_reg as number) - (fields(up[0]!).dest_reg as number)).toBe(256);
    // Each GEMV consumes one sub-tile per GEMV port (hp2, hp3), DMA'd before it.
    const seg = r.segments.filter((s) => s.tensor === "model.layers.0.mlp.up_proj.weight");
    expect(seg).toHaveLength(12);
    expect(new Set(seg.map((s) => s.port))).toEqual(new Set(["hp2", "hp3"]));
    expect(seg.find((s) => s.port === "hp2" && s.cols.start === 0 && s.rows.start === 0)?.rows.count).toBe(
      1024,
    );
  });

  it("folds the RMSNorm weight into the projections and scales by the host statistic on the SFU", () => {
    const q = r.segments.find((s) => s.tensor === "model.layers.0.self_attn.q_proj.weight")!;
    expect(q.transforms).toContainEqual({
      kind: "scale_cols",
      by: "model.layers.0.input_layernorm.weight",
      offset: 0,
    });
    const i = dec.steps.findIndex((s) => s.kind === "host" && s.fn === "rms_scale");
    const scale = dec.steps.slice(i).find((s) => npu(s) && s.instr.opcode === "CVO") as NpuStep;
    expect(fields(scale).cvo_func).toBe("SCALE");
    expect(fields(scale).length).toBe(2560);
  });

  it("runs RoPE and the KV write on the host, K/V rows relocated by the host-set variables", () => {
    const host = dec.steps.filter((s) => s.kind === "host").map((s) => (s.kind === "host" ? s.fn : ""));
    expect(host).toEqual(expect.arrayContaining(["rope", "kv_write", "glu", "argmax"]));
    const kw = dec.steps.find((s) => s.kind === "host" && s.fn === "kv_write");
    expect(kw?.kind === "host" && kw.attrs.format).toBe("int4_tiles");
    const relocs = p.relocations.filter((x) => x.segment === "decode");
    const vars = new Set(relocs.flatMap((x) => x.expr.terms.map((t) => t.variable)));
    // 5000 × 2560 embedding: the layout stores it as INT4 rows, so the host reads the token's row.
    expect(
      dec.steps.some((s) => s.kind === "host" && s.fn === "gather_rows" && s.attrs.tokens === "token"),
    ).toBe(true);
    expect(vars).toEqual(
      new Set([
        "kv_len[0]",
        "kv_blocks[0]",
        "kv_rows[0][0][0]",
        "kv_rows[0][0][1]",
        "kv_rows[0][1][0]",
        "kv_rows[0][1][1]",
        "kv_rows[0][2][0]",
        "kv_rows[0][2][1]",
      ]),
    );
    expect(p.variables.find((v) => v.name === "kv_len[0]")?.setBy).toBe("host");
    expect(p.variables.find((v) => v.name === "token")?.setBy).toBe("driver");
  });

  it("computes softmax with findemax, EXP(sub_emax), REDUCE_SUM into the word before the scores, SCALE(recip)", () => {
    const qk = byLabel(p, /^scores row 0 head 0 chunk/).filter(npu);
    expect(qk).toHaveLength(3); // 4200 slots in 2048-slot chunks
    for (const s of qk) expect((fields(s).flags as Record<string, number>).findemax).toBe(1);
    const [exp, sum, norm] = ["softmax exp", "softmax sum", "softmax normalise"].map(
      (l) => dec.steps.find((s) => s.origin.label === `${l} row 0 head 0`) as NpuStep,
    );
    expect(fields(exp!).cvo_func).toBe("EXP");
    expect((fields(exp!).flags as Record<string, number>).sub_emax).toBe(1);
    expect(fields(sum!).cvo_func).toBe("REDUCE_SUM");
    expect(fields(norm!).cvo_func).toBe("SCALE");
    expect((fields(norm!).flags as Record<string, number>).recip_scale).toBe(1);
    expect(fields(sum!).dst_addr).toBe((fields(exp!).src_addr as number) - 1);
    expect(fields(norm!).src_addr).toBe(fields(sum!).dst_addr);
    expect(fields(qk[0]!).dest_reg).toBe(fields(exp!).src_addr);
    // The lengths follow kv_len.
    const expIdx = dec.steps.indexOf(exp!);
    const rel = p.relocations.find((x) => x.segment === "decode" && x.step === expIdx);
    expect(rel?.field).toBe("length");
    expect(rel?.expr.terms).toEqual([{ variable: "kv_len[0]", stride: 1 }]);
  });

  it("streams the V tile K-block-major with bytes relocated by kv_blocks", () => {
    const pv = byLabel(p, /^context row 0 head 0 chunk 0$/).filter(npu)[0]!;
    const pvIdx = dec.steps.indexOf(pv);
    const dmas = dec.steps
      .map((s, i) => ({ s, i }))
      .filter(
        ({ s, i }) =>
          s.kind === "dma" &&
          i < pvIdx &&
          s.region === "kv.L0" &&
          s.origin.label.includes("context row 0 head 0 chunk 0"),
      );
    expect(dmas).toHaveLength(2);
    for (const { i } of dmas) {
      const rel = p.relocations.find((x) => x.segment === "decode" && x.step === i && x.field === "bytes")!;
      expect(rel.expr.terms.map((t) => t.variable)).toEqual(["kv_blocks[0]"]);
      expect(rel.expr.max).toBeGreaterThan(0);
    }
  });

  it("adds the residuals by accumulating the o and down projections into the residual stream", () => {
    const o = byLabel(p, /^L0\.attn_out /).filter(npu);
    const down = byLabel(p, /^L0\.mlp_out /).filter(npu);
    for (const s of [...o, ...down]) expect((fields(s).flags as Record<string, number>).accm).toBe(1);
    expect(fields(o[0]!).dest_reg).toBe(fields(down[0]!).dest_reg);
    expect(dec.steps.some((s) => /^add /.test(s.origin.label))).toBe(false);
  });

  it("splits the LM head over the vocabulary and ends with the logits in DDR and a host argmax", () => {
    const head = byLabel(p, /^logits n /).filter(npu);
    expect(head.length).toBe(Math.ceil(5000 / 2048) * 2);
    const last = dec.steps.filter((s) => s.kind === "host").at(-1);
    expect(last?.kind === "host" && last.fn).toBe("argmax");
    expect(p.ddr.find((d) => d.name === "logits")?.bytes).toBe(Math.ceil(5000 / 8) * 16);
    expect(dec.steps.at(-1)).toMatchObject({ kind: "wait", on: { kind: "npu-idle" } });
  });

  it("traces steps back to tensors", () => {
    const steps = stepsForTensor(p, "model.layers.0.mlp.down_proj.weight");
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((s) => s.step.origin.layer === 0 && s.step.origin.op !== undefined)).toBe(true);
  });

  it("is deterministic", () => {
    const again = codegen(g, plan(g, t, { context: 4200 }), t, { segments: ["decode"] });
    expect(canonicalJson(again.program)).toBe(canonicalJson(p));
    expect(canonicalJson(again.segments)).toBe(canonicalJson(r.segments));
  });
});
