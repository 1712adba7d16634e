/**
 * verifyProgram proves generated programs clean and catches every fault class it is meant to:
 * each test injects one fault into a clean program and expects its diagnostic code.
 */
import { describe, expect, it } from "vitest";
import { variablesRead, variablesSet } from "../../src/codegen/host-ops/index.js";
import { codegen, verifyProgram } from "../../src/codegen/index.js";
import type { NpuStep, Program } from "../../src/codegen/program.js";
import { llamaLike } from "./graphs.js";
import { base, plan } from "./helpers.js";

const t = base();
const g = llamaLike();
const clean = codegen(g, plan(g, t), t, { segments: ["decode"] }).program;

type Mutable = {
  segments: { name: string; steps: Record<string, unknown>[] }[];
  relocations: Record<string, unknown>[];
};

/** A deep copy of the clean program, changed by `f` on the decode steps. */
function mutate(f: (steps: Record<string, unknown>[], p: Mutable) => void): Program {
  const p = JSON.parse(JSON.stringify(clean)) as Mutable;
  const dec = p.segments.find((s) => s.name === "decode")!;
  f(dec.steps, p);
  return p as unknown as Program;
}

const codes = (p: Program) => [...new Set(verifyProgram(p, t).map((d) => d.code))];
const isNpu = (s: Record<string, unknown>, op: string) =>
  s.kind === "npu" && (s.instr as NpuStep["instr"]).opcode === op;
const fieldsOf = (s: Record<string, unknown>) => (s.instr as { fields: Record<string, unknown> }).fields;
const firstIndex = (steps: Record<string, unknown>[], pred: (s: Record<string, unknown>) => boolean) =>
  steps.findIndex(pred);

describe("verifyProgram", () => {
  it("accepts the generated program", () => {
    expect(verifyProgram(clean, t)).toEqual([]);
  });

  it("catches a host step reading a readback that was not waited for", () => {
    const p = mutate((steps) => {
      const i = firstIndex(
        steps,
        (s) => s.kind === "wait" && (s.on as { kind: string; port?: string }).port === "acp_result",
      );
      steps.splice(i, 1);
    });
    expect(codes(p)).toContain("verify/ddr-hazard");
  });

  it("catches DMA bytes that do not match the tile the GEMV consumes", () => {
    const p = mutate((steps) => {
      const d = steps.find((s) => s.kind === "dma" && s.port === "hp2")!;
      d.bytes = (d.bytes as number) + 16;
    });
    expect(codes(p)).toContain("verify/stream");
  });

  it("catches a weight DMA issued after its consumer (underrun) and a leftover at the end", () => {
    const p = mutate((steps) => {
      const i = firstIndex(steps, (s) => s.kind === "dma" && s.port === "hp3");
      const [d] = steps.splice(i, 1);
      steps.splice(steps.length - 1, 0, d!);
    });
    const c = codes(p);
    expect(c).toContain("verify/stream");
  });

  it("catches a constant entry read before any MEMSET wrote it", () => {
    const p = mutate((steps) => {
      const s = steps.find((x) => isNpu(x, "GEMV"))!;
      fieldsOf(s).shape_ptr_addr = 63;
    });
    expect(codes(p)).toContain("verify/uninit-const");
  });

  it("catches an address outside the backed L2", () => {
    const p = mutate((steps) => {
      const s = steps.find((x) => isNpu(x, "CVO"))!;
      fieldsOf(s).dst_addr = t.file.l2.backed_words + 10;
    });
    expect(codes(p)).toContain("verify/l2-range");
  });

  it("catches a field that does not encode", () => {
    const p = mutate((steps) => {
      const s = steps.find((x) => isNpu(x, "CVO"))!;
      fieldsOf(s).length = 70000;
    });
    expect(codes(p)).toContain("verify/encode");
  });

  it("catches a host↔L2 MEMCPY without its DataMover command", () => {
    const p = mutate((steps) => {
      const i = firstIndex(steps, (s) => s.kind === "dma" && s.port === "acp_fmap");
      steps.splice(i, 1);
    });
    expect(codes(p)).toContain("verify/pairing");
  });

  it("catches an async instruction whose result is read without a wait", () => {
    const p = mutate((steps) => {
      const i = firstIndex(steps, (s) => isNpu(s, "CVO") && fieldsOf(s).cvo_func === "SCALE");
      fieldsOf(steps[i]!).async = 1;
    });
    expect(codes(p)).toContain("verify/raw-hazard");
  });

  it("catches a wait that would deadlock (weights not consumed by any issued instruction)", () => {
    // Tiles larger than the 64 KiB port FIFO: the command cannot complete before its GEMV runs.
    const big = llamaLike({ H: 2048, inter: 2048, layers: 1, vocab: 64 });
    const prog = JSON.parse(
      JSON.stringify(codegen(big, plan(big, t), t, { segments: ["decode"], verify: false }).program),
    ) as Mutable;
    expect(verifyProgram(prog as unknown as Program, t)).toEqual([]);
    const steps = prog.segments.find((s) => s.name === "decode")!.steps;
    const i = firstIndex(steps, (s) => s.kind === "dma" && s.port === "hp2" && (s.bytes as number) > 65536);
    steps.splice(i + 1, 0, {
      kind: "wait",
      on: { kind: "dma", port: "hp2", tag: steps[i]!.tag },
      origin: { label: "early wait" },
    });
    expect(codes(prog as unknown as Program)).toContain("verify/deadlock");
  });

  it("catches too many outstanding commands on a channel and a reused tag", () => {
    const p = mutate((steps) => {
      for (let k = steps.length - 1; k >= 0; k--) {
        const s = steps[k]!;
        if (
          s.kind === "wait" &&
          (s.on as { port?: string }).port === "hp2" &&
          /free/.test((s.origin as { label: string }).label)
        )
          steps.splice(k, 1);
      }
    });
    const c = codes(p);
    expect(c).toContain("verify/outstanding");
    expect(c).toContain("verify/tag");
  });

  it("catches a softmax EXP without a findemax GEMV before it", () => {
    const p = mutate((steps) => {
      for (const s of steps) if (isNpu(s, "GEMV")) (fieldsOf(s).flags as Record<string, number>).findemax = 0;
    });
    expect(codes(p)).toContain("verify/emax");
  });

  it("catches unknown host functions, bad attributes and undeclared relocation variables", () => {
    const p = mutate((steps, prog) => {
      const h = steps.find((s) => s.kind === "host" && s.fn === "glu")!;
      h.fn = "frobnicate";
      const k = steps.find((s) => s.kind === "host" && s.fn === "kv_write")!;
      (k.attrs as Record<string, unknown>).capacity = "many";
      (prog.relocations[0]!.expr as { terms: { variable: string }[] }).terms[0]!.variable = "nope";
    });
    const c = codes(p);
    expect(c).toContain("verify/host");
    expect(c).toContain("verify/reloc");
  });

  it("declares every variable a relocation or host step uses, pos included", () => {
    const declared = new Set(clean.variables.map((v) => v.name));
    expect(declared.has("pos")).toBe(true);
    expect(clean.variables.find((v) => v.name === "pos")!.setBy).toBe("driver");
    const dec = clean.segments.find((x) => x.name === "decode")!;
    // llama on kv260-v002: RoPE and kv_write run on the host and read pos
    expect(dec.steps.some((x) => x.kind === "host" && x.fn === "kv_write")).toBe(true);
    for (const r of clean.relocations)
      for (const term of r.expr.terms) expect(declared).toContain(term.variable);
    for (const st of dec.steps)
      if (st.kind === "host")
        for (const v of [...variablesRead(st.fn, st.attrs), ...variablesSet(st.fn, st.attrs)])
          expect(declared).toContain(v);
  });

  it("rejects a host step that reads or sets an undeclared variable", () => {
    const without = (name: string) => {
      const p = JSON.parse(JSON.stringify(clean)) as Program & { variables: { name: string }[] };
      p.variables = p.variables.filter((v) => v.name !== name);
      return verifyProgram(p, t).filter((d) => d.code === "verify/variable");
    };
    const pos = without("pos");
    expect(pos.length).toBeGreaterThan(0);
    expect(pos.map((d) => d.message)).toContain(
      'host step "kv_write L0 row 0" (layer 0) reads variable pos, which program.variables does not declare',
    );
    expect(pos[0]!.at?.jsonPath).toMatch(/^segments\[1\]\.steps\[\d+\]$/);
    const slot = without("kv_slot[1]");
    expect(slot.map((d) => d.message).join("\n")).toMatch(/sets variable kv_slot\[1\]/);
    // the clean program has no such diagnostic
    expect(verifyProgram(clean, t).some((d) => d.code === "verify/variable")).toBe(false);
  });

  it("catches a segment that ends with a transfer in flight", () => {
    const p = mutate((steps) => {
      for (let k = steps.length - 1; k >= 0; k--) {
        const s = steps[k]!;
        if (s.kind === "wait" && /drain acp_result/.test((s.origin as { label: string }).label))
          steps.splice(k, 1);
      }
      const last = steps.findLastIndex((s: Record<string, unknown>) => s.kind === "host");
      steps.splice(last + 1, 0, {
        kind: "dma",
        port: "acp_result",
        region: "host",
        offset: 0,
        bytes: 16,
        tag: 15,
        origin: { label: "stray" },
      });
    });
    expect(codes(p)).toContain("verify/unfinished");
  });

  it("locates diagnostics at the step", () => {
    const p = mutate((steps) => {
      const s = steps.find((x) => isNpu(x, "CVO"))!;
      fieldsOf(s).length = 70000;
    });
    const d = verifyProgram(p, t).find((x) => x.code === "verify/encode")!;
    expect(d.at?.jsonPath).toMatch(/^segments\[1\]\.steps\[\d+\]$/);
    expect(d.message).toMatch(/length/);
  });

  it("checks the target fingerprint", () => {
    const other = { ...clean, targetFingerprint: "other@0000" } as Program;
    expect(codes(other)).toContain("verify/target");
  });
});
