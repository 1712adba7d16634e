/**
 * The what-if target kv260-v002-ext declares CVO extensions (SILU, MUL, ADD, TANH, MAX, SQUARE,
 * ROPE_ROTATE) and feeds the GEMV from all four HP ports: host steps for those ops disappear, the
 * SFU runs them, and every GEMV tile is split over four ports.
 */
import { describe, expect, it } from "vitest";
import { codegen, dmaBytesAt, verifyProgram } from "../../src/codegen/index.js";
import type { Program } from "../../src/codegen/program.js";
import { llamaLike } from "./graphs.js";
import { base, ext, plan } from "./helpers.js";

const count = (p: Program, seg: string) => {
  const steps = p.segments.find((s) => s.name === seg)!.steps;
  const host: Record<string, number> = {};
  const cvo: Record<string, number> = {};
  for (const s of steps) {
    if (s.kind === "host") host[s.fn] = (host[s.fn] ?? 0) + 1;
    if (s.kind === "npu" && s.instr.opcode === "CVO") {
      const f = String(s.instr.fields.cvo_func);
      cvo[f] = (cvo[f] ?? 0) + 1;
    }
  }
  return { host, cvo };
};

describe("kv260-v002-ext", () => {
  const g = llamaLike({ gemmaNorms: true, softcap: 50, finalSoftcap: 30, qkNorm: true });
  const tb = base();
  const te = ext();
  const pb = codegen(g, plan(g, tb), tb, { segments: ["decode"] });
  const pe = codegen(g, plan(g, te), te, { segments: ["decode"] });

  it("both programs verify", () => {
    expect(verifyProgram(pb.program, tb)).toEqual([]);
    expect(verifyProgram(pe.program, te)).toEqual([]);
  });

  it("replaces the host steps of the declared functions by SFU calls", () => {
    const b = count(pb.program, "decode");
    const e = count(pe.program, "decode");
    for (const fn of ["rope", "glu", "softcap", "rms_scale"]) {
      expect(b.host[fn] ?? 0).toBeGreaterThan(0);
      expect(e.host[fn] ?? 0).toBe(0);
    }
    expect(e.cvo.ROPE_ROTATE).toBeGreaterThan(0);
    expect(e.cvo.SILU).toBeGreaterThan(0);
    expect(e.cvo.MUL).toBeGreaterThan(0);
    expect(e.cvo.TANH).toBeGreaterThan(0);
    expect(e.cvo.SQUARE).toBeGreaterThan(0);
    // What the target still lacks stays on the host: KV quantisation and sampling.
    expect(Object.keys(e.host).sort()).toEqual(["argmax", "kv_write"]);
    const hostSteps = (p: Program) => Object.values(count(p, "decode").host).reduce((a, b) => a + b, 0);
    expect(hostSteps(pe.program)).toBeLessThan(hostSteps(pb.program) / 4);
  });

  it("streams every GEMV tile over the four HP ports", () => {
    const ports = (r: typeof pb) => new Set(r.segments.map((s) => s.port));
    expect(ports(pb)).toEqual(new Set(["hp2", "hp3"]));
    expect(ports(pe)).toEqual(new Set(["hp0", "hp1", "hp2", "hp3"]));
    const bytes = dmaBytesAt(pe.program, "decode", 0);
    const hp = ["hp0", "hp1", "hp2", "hp3"].map((p) => bytes[p] ?? 0);
    expect(Math.min(...hp)).toBeGreaterThan(0);
    // Four quarters of each tile carry about the bytes two halves did on the base target.
    const total = (b: Record<string, number>) =>
      ["hp0", "hp1", "hp2", "hp3"].reduce((s, p) => s + (b[p] ?? 0), 0);
    const tb0 = total(dmaBytesAt(pb.program, "decode", 0));
    expect(Math.abs(total(bytes) - tb0) / tb0).toBeLessThan(0.2);
  });

  it("records the extension function names in the program", () => {
    const names = new Set(
      pe.program.segments.flatMap((s) =>
        s.steps.flatMap((x) =>
          x.kind === "npu" && x.instr.opcode === "CVO" ? [String(x.instr.fields.cvo_func)] : [],
        ),
      ),
    );
    expect(
      [...names].some((n) => ["SILU", "MUL", "ADD", "TANH", "MAX", "SQUARE", "ROPE_ROTATE"].includes(n)),
    ).toBe(true);
    expect(pe.program.targetFingerprint).toBe(te.fingerprint);
    expect(pe.program.targetFingerprint).not.toBe(pb.program.targetFingerprint);
  });
});
