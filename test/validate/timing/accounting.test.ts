/**
 * Fair sharing, host step costs, relocations and the context sweep, the time split and per-layer
 * attribution, and determinism — including a property test over random hand-made programs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HostStep, Relocation, Step } from "../../../src/codegen/program.js";
import { canonicalJson } from "../../../src/util/json.js";
import {
  hostCost,
  isLmHead,
  runTiming,
  TIME_CATEGORIES,
  timingModel,
  Variables,
  waterFill,
} from "../../../src/validate/timing/index.js";
import {
  cvo,
  dma,
  host,
  KV260,
  memset,
  operand,
  program,
  streamedGemv,
  tileBytes,
  waitNpu,
} from "./helpers.js";

const M = timingModel(KV260);

describe("timing: fair share (water filling)", () => {
  it("gives equal shares, and what a capped stream leaves to the others", () => {
    expect(waterFill([10, 10], 12)).toEqual([6, 6]);
    expect(waterFill([2, 10, 10], 12)).toEqual([2, 5, 5]);
    expect(waterFill([10, 0, 10], 30)).toEqual([10, 0, 10]);
  });

  it("is max-min fair for any caps (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { maxLength: 8 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (caps, total) => {
          const a = waterFill(caps, total);
          const sum = a.reduce((s, x) => s + x, 0);
          expect(sum).toBeLessThanOrEqual(total + 1e-9);
          a.forEach((x, i) => {
            expect(x).toBeLessThanOrEqual(Math.max(0, caps[i]!) + 1e-12);
          });
          const capSum = caps.reduce((s, c) => s + Math.max(0, c), 0);
          // the bandwidth is used up, or every stream has its cap
          expect(Math.min(total, capSum) - sum).toBeLessThan(1e-9 * (1 + total));
          // a stream below its cap gets at least as much as any other stream
          a.forEach((x, i) => {
            if (x < caps[i]! - 1e-9) for (const y of a) expect(y).toBeLessThanOrEqual(x + 1e-9);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("timing: host step cost", () => {
  const vars = new Variables({ "kv_len[3]": 100 });
  const m = M.host;
  it("element-wise: call overhead + elements at the element-wise rate (outputs, not a whole ring)", () => {
    const kv = host(
      "kv_write",
      [operand("buf", 512), operand("buf", 512)],
      [operand("kv", 1 << 22), operand("kv", 1 << 22)],
      { layer: 0 },
    );
    expect(hostCost(M, kv, vars).cycles).toBeCloseTo(m.callOverhead + 1024 / m.elementwisePerCycle, 9);
  });
  it("transcendental functions at the transcendental rate; reductions over their inputs", () => {
    const act = host("activation", [operand("buf", 4096)], [operand("buf", 4096)], { fn: "silu" });
    expect(hostCost(M, act, vars).cycles).toBeCloseTo(m.callOverhead + 4096 / m.transcendentalPerCycle, 9);
    const am = host("argmax", [operand("buf", 32000)], [operand("buf", 1, "i32")]);
    expect(hostCost(M, am, vars).cycles).toBeCloseTo(m.callOverhead + 32000 / m.elementwisePerCycle, 9);
  });
  it("host attention reads the visible KV rows of its layer", () => {
    const att = host(
      "attention",
      [operand("buf", 64), operand("kv", 1 << 20), operand("kv", 1 << 20)],
      [operand("buf", 64)],
      {
        layer: 3,
        heads: 4,
        kvHeads: 1,
        headDim: 16,
        vHeadDim: 16,
      },
    );
    expect(hostCost(M, att, vars).elements).toBe(4 * 100 * 32);
  });
});

/** A decode program reading `kv_len[0]` rows of one K tile (head dim 256, group 32) per 2048-row chunk. */
function kvProgram(): ReturnType<typeof program> {
  const steps: Step[] = [];
  const relocations: Relocation[] = [];
  const kvWrite: HostStep = host(
    "kv_write",
    [operand("buf", 256), operand("buf", 256)],
    [operand("kv", 256), operand("kv", 256)],
    {
      layer: 0,
      row: 0,
      capacity: 8192,
      chunk: 2048,
      ports: 2,
    },
  );
  steps.push(kvWrite);
  const perRow = tileBytes(1, 256); // 128 bytes of codes + one scale beat
  for (let c = 0; c < 4; c++) {
    const at = steps.length;
    steps.push(memset(0, 0, 1, 0, 256, { layer: 0 }), memset(1, 1, 0, 32, 0, { layer: 0 }));
    steps.push(
      dma("hp2", "kv", 0, 0, { layer: 0 }),
      dma("hp3", "kv", 0, 0, { layer: 0 }),
      waitNpu({ layer: 0 }),
    );
    const rows = { base: -c * 2048, terms: [{ variable: "kv_len[0]", stride: 1 }], min: 0, max: 2048 };
    relocations.push({ segment: "decode", step: at, field: "b_value", expr: rows });
    for (const j of [2, 3]) {
      const half = {
        base: (-c * 2048 * perRow) / 2,
        terms: [{ variable: "kv_len[0]", stride: perRow / 2 }],
        min: 0,
        max: 1024 * perRow,
      };
      relocations.push({ segment: "decode", step: at + j, field: "bytes", expr: half });
    }
    steps.splice(at + 4, 0, {
      kind: "npu",
      instr: {
        opcode: "GEMV",
        fields: {
          dest_reg: 0,
          src_addr: 0,
          flags: { findemax: 1, accm: 0, w_scale: 1 },
          size_ptr_addr: 1,
          shape_ptr_addr: 0,
          parallel_lane: 0,
        },
      },
      origin: { label: `scores chunk ${c}`, layer: 0 },
    });
  }
  return program({
    decode: steps,
    relocations,
    variables: [
      { name: "pos", doc: "position", setBy: "driver" },
      { name: "kv_len[0]", doc: "rows", setBy: "host" },
    ],
  });
}

describe("timing: relocations and the context sweep", () => {
  it("the KV bytes and the attention time grow with the context", () => {
    const out = runTiming(kvProgram(), KV260, { context: 1024, sweep: [1024, 4096, 8192, 100_000] });
    const sweep = out.result.sweep!;
    expect(sweep.map((p) => p.context)).toEqual([1024, 4096, 8192]); // beyond the ring capacity: dropped
    const perRow = tileBytes(1, 256);
    for (const p of sweep) {
      expect(p.kvBytes).toBe(p.context * perRow);
      expect(p.bytes).toBe(p.kvBytes);
    }
    expect(sweep[0]!.tokensPerSecond).toBeGreaterThan(sweep[1]!.tokensPerSecond);
    expect(sweep[1]!.tokensPerSecond).toBeGreaterThan(sweep[2]!.tokensPerSecond);
    const run = out.result.runs[0]!;
    expect(run.variables.pos).toBe(1023);
    expect(run.split.kv).toBeGreaterThan(0);
    expect(run.split.weights).toBe(0);
  });
});

describe("timing: where the time went", () => {
  const steps: Step[] = [
    ...streamedGemv(2048, 2048, ["hp2", "hp3"], { layer: 0, label: "q_proj" }),
    cvo("EXP", 2048, { layer: 0 }),
    waitNpu({ layer: 0 }),
    host("scale", [operand("buf", 20_000)], [operand("buf", 20_000)], { factor: 2 }, { layer: 0 }),
    waitNpu({ layer: 0 }),
    ...streamedGemv(1024, 2048, ["hp2", "hp3"], { layer: 1, label: "down_proj" }),
    waitNpu({ layer: 1 }),
    ...streamedGemv(2048, 2048, ["hp2", "hp3"], {
      label: "logits_raw n 0+2048",
      tensors: ["model.embed_tokens.weight"],
    }),
    waitNpu(),
  ];
  const out = runTiming(program({ load: [memset(1, 1, 0, 0, 0)], decode: steps }), KV260, { timeline: true });
  const run = out.result.runs[1]!;

  it("the split and the layers sum to the run's cycles", () => {
    const sum = TIME_CATEGORIES.reduce((a, c) => a + run.split[c], 0);
    expect(sum).toBeCloseTo(run.cycles, 4);
    expect(run.layers.reduce((a, l) => a + l.cycles, 0)).toBeCloseTo(run.cycles, 4);
    for (const l of run.layers)
      expect(Object.values(l.breakdown).reduce((a, b) => a + b, 0)).toBeCloseTo(l.cycles, 4);
  });

  it("names the layers and the LM head, and finds what bound each", () => {
    expect(run.layers.map((l) => l.layer)).toEqual([0, 1, "lm_head"]);
    const rows = out.runs[1]!.layerRows;
    expect(rows.map((r) => r.bound)).toEqual(["weights", "weights", "weights"]);
    expect(run.split.lm_head).toBeGreaterThan(0);
    expect(run.split.host).toBeCloseTo(M.host.callOverhead + 20_000 / M.host.elementwisePerCycle, 0);
    expect(run.layers[2]!.split.lm_head).toBe(run.split.lm_head);
    expect(run.layers[0]!.macs).toBe(2048 * 2048);
    expect(run.layers[0]!.bytes).toBe(2 * tileBytes(1024, 2048));
    expect(isLmHead({ label: "q_proj", tensors: ["model.layers.0.self_attn.q_proj.weight"] })).toBe(false);
    expect(isLmHead({ label: "x", tensors: ["lm_head.weight"] })).toBe(true);
  });

  it("the roofline ratio is the bandwidth bound over the simulated time", () => {
    const bytes = 2 * tileBytes(1024, 2048) + 2 * tileBytes(512, 2048) + 2 * tileBytes(1024, 2048);
    expect(run.roofline.bytes).toBe(bytes);
    expect(run.roofline.boundCycles).toBeCloseTo(bytes / 2 / M.channels.get("hp2")!.bytesPerCycle, 6);
    expect(run.roofline.ratio).toBeCloseTo(run.roofline.boundCycles / run.cycles, 12);
    expect(run.roofline.ratio).toBeLessThan(1);
  });

  it("is deterministic: same program, same figures and the same timeline", () => {
    const again = runTiming(program({ load: [memset(1, 1, 0, 0, 0)], decode: steps }), KV260, {
      timeline: true,
    });
    expect(canonicalJson(again.result)).toBe(canonicalJson(out.result));
    expect(canonicalJson(again.runs[1]!.timeline)).toBe(canonicalJson(out.runs[1]!.timeline));
  });
});

describe("timing: invariants on random programs (property)", () => {
  const stepArb = fc.oneof(
    fc.record({
      kind: fc.constant("gemv"),
      n: fc.integer({ min: 1, max: 2048 }),
      k: fc.integer({ min: 1, max: 2048 }),
    }),
    fc.record({
      kind: fc.constant("cvo"),
      len: fc.integer({ min: 1, max: 5000 }),
      async: fc.constantFrom(0 as const, 1 as const),
    }),
    fc.record({ kind: fc.constant("host"), n: fc.integer({ min: 1, max: 50_000 }) }),
    fc.record({ kind: fc.constant("wait") }),
  );
  it("splits sum to the cycles, bytes are conserved, the run is never faster than its bandwidth bound", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 12 }), (list) => {
        const steps: Step[] = [];
        let bytes = 0;
        for (const s of list) {
          if (s.kind === "gemv") {
            steps.push(...streamedGemv(s.n, s.k, ["hp2", "hp3"]));
            bytes +=
              tileBytes(Math.ceil(s.n / 2), s.k) +
              (s.n > Math.ceil(s.n / 2) ? tileBytes(s.n - Math.ceil(s.n / 2), s.k) : 0);
          } else if (s.kind === "cvo") steps.push(cvo("EXP", s.len, { async: s.async }));
          else if (s.kind === "host")
            steps.push(host("scale", [operand("buf", s.n)], [operand("buf", s.n)], { factor: 1 }));
          else steps.push(waitNpu());
        }
        steps.push(waitNpu());
        const p = program({ load: [memset(1, 1, 0, 0, 0)], decode: steps });
        const a = runTiming(p, KV260).result.runs[1]!;
        const sum = TIME_CATEGORIES.reduce((x, c) => x + a.split[c], 0);
        expect(Math.abs(sum - a.cycles)).toBeLessThan(1e-6 * a.cycles + 1e-6);
        expect(a.roofline.bytes).toBe(bytes);
        expect(a.ports.hp2!.bytes + a.ports.hp3!.bytes).toBe(bytes);
        expect(a.cycles).toBeGreaterThanOrEqual(a.roofline.boundCycles - 1e-6);
        expect(canonicalJson(runTiming(p, KV260).result.runs[1])).toBe(canonicalJson(a));
      }),
      { numRuns: 40 },
    );
  });
});
