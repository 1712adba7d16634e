/**
 * Every family's ops lower on both shipped targets (decode and prefill), verified; the graph tests'
 * fixtures (head width 4) exercise the host fallbacks, the aligned graphs the NPU paths. An op that
 * cannot be lowered is a precise codegen/unsupported-op error.
 */
import { describe, expect, it } from "vitest";
import { codegen, verifyProgram } from "../../src/codegen/index.js";
import type { Program } from "../../src/codegen/program.js";
import type { ModelGraph } from "../../src/resolver/graph/index.js";
import { ALL_FIXTURES } from "../resolver/graph/fixtures.js";
import { llamaLike, mlaLike, moeLike } from "./graphs.js";
import { base, ext, plan } from "./helpers.js";

const CASES: Readonly<Record<string, () => ModelGraph>> = {
  llama: () => llamaLike(),
  gemma2: () =>
    llamaLike({
      gemmaNorms: true,
      softcap: 50,
      finalSoftcap: 30,
      window: (l) => (l === 0 ? 8 : undefined),
      tied: true,
      act: "gelu_tanh",
    }),
  gptOss: () => llamaLike({ sinks: true, bias: true, window: (l) => (l === 0 ? 8 : undefined) }),
  qwen3: () => llamaLike({ qkNorm: true }),
  deepseekMoe: () => moeLike(),
  gptOssMoe: () => moeLike({ stacked: true }),
  mla: () => mlaLike(),
  ...Object.fromEntries(
    Object.entries(ALL_FIXTURES)
      .filter(([k]) => k !== "mla")
      .map(([k, f]) => [`fixture ${k}`, f]),
  ),
};

const hostFns = (p: Program, seg: string) =>
  new Set(p.segments.find((s) => s.name === seg)!.steps.flatMap((s) => (s.kind === "host" ? [s.fn] : [])));

describe.each([
  ["kv260-v002", base],
  ["kv260-v002-ext", ext],
] as const)("families on %s", (_name, target) => {
  const t = target();
  it.each(Object.keys(CASES))("%s compiles decode and prefill and verifies", (name) => {
    const g = CASES[name]!();
    const r = codegen(g, plan(g, t, { context: name === "fixture gpt2" ? 16 : 64 }), t, { prefillChunk: 4 });
    expect(verifyProgram(r.program, t)).toEqual([]);
    const kinds = r.program.segments.map((s) => s.kind);
    expect(kinds).toEqual(["load", "decode", "prefill"]);
    for (const seg of r.program.segments)
      for (const s of seg.steps)
        if (s.kind === "npu" || s.kind === "host") expect(s.origin.label.length).toBeGreaterThan(0);
    // every op of the graph left steps with its id (nothing silently dropped), except aliases.
    const ops = new Set(r.program.segments.flatMap((s) => s.steps.map((x) => x.origin.op)));
    const silent = g.ops.filter((op) => !ops.has(op.id) && !["add", "slice", "moe_route"].includes(op.kind));
    expect(silent.map((o) => `${o.id} ${o.kind}`)).toEqual([]);
  });
});

describe("lowering choices", () => {
  it("attends on the NPU over int4 rings and on the host for other KV dtypes", () => {
    const g = llamaLike();
    const t = base();
    const npu = codegen(g, plan(g, t), t, { segments: ["decode"] }).program;
    expect(hostFns(npu, "decode").has("attention")).toBe(false);
    const host = codegen(g, plan(g, t, { kvDtype: "int8" }), t, { segments: ["decode"] }).program;
    expect(hostFns(host, "decode").has("attention")).toBe(true);
    expect(verifyProgram(host, t)).toEqual([]);
  });

  it("streams the chosen experts' weights through relocated offsets", () => {
    const g = moeLike();
    const t = base();
    const r = codegen(g, plan(g, t), t, { segments: ["decode"] });
    const rel = r.program.relocations.filter((x) =>
      x.expr.terms.some((v) => v.variable.startsWith("expert[0]")),
    );
    expect(rel.length).toBeGreaterThan(0);
    expect(new Set(rel.map((x) => x.field))).toEqual(new Set(["offset"]));
    expect(r.program.variables.find((v) => v.name === "expert[0][1]")?.setBy).toBe("host");
    // Every expert's tiles are in the image: 8 experts × gate/up/down.
    const experts = new Set(r.segments.filter((s) => /experts\.\d+\./.test(s.tensor)).map((s) => s.tensor));
    expect(experts.size).toBe(24);
    // A slot's gate and up tiles have the same shape but different places in the expert table.
    const dec = r.program.segments.find((s) => s.kind === "decode")!;
    const baseOf = (label: RegExp) =>
      dec.steps
        .map((s, i) => ({ s, i }))
        .filter(({ s }) => s.kind === "dma" && s.port === "hp2" && label.test(s.origin.label))
        .map(
          ({ i }) =>
            r.program.relocations.find((x) => x.segment === "decode" && x.step === i && x.field === "offset")!
              .expr.base,
        );
    const gate = baseOf(/^weights for expert slot 0 gate /);
    const up = baseOf(/^weights for expert slot 0 up /);
    expect(gate.length).toBeGreaterThan(0);
    expect(up).toHaveLength(gate.length);
    expect(gate.some((g, i) => g !== up[i])).toBe(true);
  });

  it("shares one KV ring between layers (KV sharing) and honours sliding windows", () => {
    const g = ALL_FIXTURES.gemmaN!();
    const t = base();
    const r = codegen(g, plan(g, t), t, { segments: ["decode"] });
    const writes = r.program.segments[1]!.steps.filter((s) => s.kind === "host" && s.fn === "kv_write");
    expect(writes.map((s) => (s.kind === "host" ? s.attrs.layer : -1))).toEqual([0, 1]);
    expect(r.program.ddr.filter((d) => d.kind === "kv").map((d) => d.name)).toEqual(["kv.L0", "kv.L1"]);
  });

  it("names the op, layer and reason of what it cannot lower", () => {
    const g = ALL_FIXTURES.mla!();
    const t = base();
    expect(() => codegen(g, plan(g, t), t)).toThrow(
      /cannot lower mla_attention op op\d+ \(layer 0.*not whole L2 words/,
    );
    try {
      codegen(g, plan(g, t), t);
    } catch (e) {
      expect((e as { code: string }).code).toBe("codegen/unsupported-op");
      expect((e as { exitCode: number }).exitCode).toBe(3);
    }
    const gpt2 = ALL_FIXTURES.gpt2!();
    expect(() => codegen(gpt2, plan(gpt2, t, { context: 64 }), t)).toThrow(
      /position table .* 16 rows, fewer than the context 64/,
    );
  });
});
