import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatStepRef,
  parseStepRef,
  renderTraceIndexJson,
  type StepRef,
  traceIndex,
} from "../../../src/codegen/artifacts/index.js";
import type { Program } from "../../../src/codegen/program.js";
import { EMB, FIXTURE, L0K, L0Q } from "./fixture.js";
import { programArb } from "./helpers.js";

const refs = (...xs: string[]) => xs.map((x) => parseStepRef(x)!);

describe("traceIndex", () => {
  const idx = traceIndex(FIXTURE);

  it("goes forward from an HF tensor to every step that touches it", () => {
    expect(idx.byTensor.get(L0Q)).toEqual(
      refs("prefill:0", "prefill:1", "prefill:2", "decode:4", "decode:5", "decode:6"),
    );
    expect(idx.byTensor.get(EMB)).toEqual(refs("decode:0", "decode:1", "decode:2"));
    expect(idx.byTensor.get(L0K)).toEqual(refs("decode:3", "decode:14"));
    expect(idx.byTensor.has("model.norm.weight")).toBe(false);
  });

  it("goes forward from a graph op and from a layer", () => {
    expect(idx.byOp.get("layers.0.self_attn.softmax")).toEqual(refs("decode:7", "decode:8"));
    expect([...idx.byLayer.keys()]).toEqual([0]);
    expect(idx.byLayer.get(0)).toHaveLength(15);
  });

  it("goes back from a step to its graph op, layer and HF tensors", () => {
    expect(idx.origin({ segment: "decode", step: 5 })).toEqual({
      op: "layers.0.self_attn.q_proj",
      layer: 0,
      label: "q_proj rows 0-63 k 0-63",
      tensors: [L0Q],
    });
    expect(idx.step({ segment: "decode", step: 5 })?.kind).toBe("npu");
    expect(idx.origin({ segment: "decode", step: 99 })).toBeUndefined();
    expect(idx.origin({ segment: "nope", step: 0 })).toBeUndefined();
  });

  it("is exact in both directions on generated programs", () => {
    fc.assert(
      fc.property(programArb, (p: Program) => {
        const t = traceIndex(p);
        const all: StepRef[] = p.segments.flatMap((s) =>
          s.steps.map((_, j) => ({ segment: s.name, step: j })),
        );
        for (const ref of all) {
          const o = t.origin(ref)!;
          // back: a step's tensors and op list it forward
          for (const tensor of o.tensors ?? []) expect(t.byTensor.get(tensor)).toContainEqual(ref);
          if (o.op !== undefined) expect(t.byOp.get(o.op)).toContainEqual(ref);
          if (o.layer !== undefined) expect(t.byLayer.get(o.layer)).toContainEqual(ref);
        }
        // forward: every listed step names the tensor, and no step is listed twice
        for (const [tensor, list] of t.byTensor) {
          for (const ref of list) expect(t.origin(ref)!.tensors).toContain(tensor);
          expect(new Set(list.map(formatStepRef)).size).toBe(list.length);
        }
        for (const [op, list] of t.byOp) for (const ref of list) expect(t.origin(ref)!.op).toBe(op);
      }),
      { numRuns: 100 },
    );
  });
});

describe("trace-index.json", () => {
  const text = renderTraceIndexJson(FIXTURE);
  const doc = JSON.parse(text);

  it("maps tensors, ops and layers to step references", () => {
    expect(doc.kind).toBe("pccxc_trace_index");
    expect(doc.tensors[L0K]).toEqual({
      ops: ["layers.0.self_attn.scores"],
      steps: ["decode:3", "decode:14"],
    });
    expect(doc.ops["layers.0.self_attn.q_proj"].tensors).toEqual([L0Q]);
    expect(doc.layers["0"].ops).toContain("layers.0.mlp.act_fn");
  });

  it("leads back from every step to its origin (op, layer, label, tensors)", () => {
    for (const seg of FIXTURE.segments) {
      seg.steps.forEach((s, j) => {
        const o = doc.origins[doc.steps[seg.name][j]];
        expect({ ...o }).toEqual(JSON.parse(JSON.stringify(s.origin)));
      });
    }
    // and forward again: every step reference in the file resolves to a step naming that tensor
    for (const [tensor, entry] of Object.entries<{ steps: string[] }>(doc.tensors)) {
      for (const r of entry.steps) {
        const ref = parseStepRef(r)!;
        expect(doc.origins[doc.steps[ref.segment][ref.step]].tensors).toContain(tensor);
      }
    }
  });

  it("is deterministic", () => {
    expect(renderTraceIndexJson(structuredClone(FIXTURE))).toBe(text);
  });
});
