/**
 * DeepSeek V2/V3 in the program codegen emits (issue #7): the routing host step carries the HF
 * MoEGate semantics of the config (scores, correction bias for selection, group-limited top-k,
 * normalisation, routed scale) once per token row, and the MLA latent ring is stored as INT4 tiles
 * whatever KV dtype the plan asks for — which is why DeepSeek's hardware-mode floor is an INT4-KV
 * floor under both `--kv-dtype` settings (the measured cause of its drift, docs/simulator.md).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codegen } from "../../src/codegen/index.js";
import type { HostStep, Program } from "../../src/codegen/program.js";
import { BUILTIN_FEATURES, prepareConfig, runFeatures } from "../../src/features/index.js";
import { parseConfigText } from "../../src/parser/index.js";
import { type ModelGraph, resolve } from "../../src/resolver/index.js";
import { base, plan } from "./helpers.js";

const TINY = fileURLToPath(new URL("../../examples/tiny/", import.meta.url));

function graphOf(model: string): ModelGraph {
  const file = `${TINY}${model}/config.json`;
  const parsed = prepareConfig(parseConfigText(readFileSync(file, "utf8"), file), BUILTIN_FEATURES);
  return runFeatures(resolve(parsed, {}).graph, parsed, base(), BUILTIN_FEATURES).graph;
}

function compile(model: string, kvDtype: "int4" | "int8"): { g: ModelGraph; program: Program } {
  const g = graphOf(model);
  const { program } = codegen(g, plan(g, base(), { kvDtype }), base(), { segments: ["decode", "prefill"] });
  return { g, program };
}

const hostSteps = (p: Program, segment: string, fn: string): HostStep[] =>
  p.segments
    .find((s) => s.name === segment)!
    .steps.filter((s): s is HostStep => s.kind === "host" && s.fn === fn);

/** What HF's MoEGate does for each tiny config (examples/tiny/<model>/config.json). */
const EXPECTED = {
  // softmax, greedy top-2 of 4, norm_topk_prob false → × routed_scaling_factor (1)
  deepseek_v2: {
    numExperts: 4,
    topK: 2,
    scoring: "softmax",
    normalize: false,
    routedScale: 1,
    groups: undefined,
    hasBias: false,
  },
  // sigmoid, noaux_tc: bias for selection, 4 groups scored by their top-2 sum, best 2 kept,
  // top-2 of 8, renormalised, then × 2.5
  deepseek_v3: {
    numExperts: 8,
    topK: 2,
    scoring: "sigmoid",
    normalize: true,
    routedScale: 2.5,
    groups: [4, 2, 1],
    hasBias: true,
  },
} as const;

describe("DeepSeek routing in the program (tiny configs)", () => {
  for (const [model, want] of Object.entries(EXPECTED)) {
    it(`${model}: one moe_route per token row with the MoEGate semantics of its config`, () => {
      const { g, program } = compile(model, "int4");
      const moeLayers = g.ops.filter((o) => o.kind === "moe_route").map((o) => o.layer);
      expect(moeLayers).toEqual([1]); // first_k_dense_replace = 1, two layers
      const decode = hostSteps(program, "decode", "moe_route");
      expect(decode).toHaveLength(1);
      const prefill = hostSteps(program, "prefill", "moe_route");
      const chunk = program.variables.filter((v) => /^token\[\d+\]$/.test(v.name)).length;
      expect(chunk).toBeGreaterThan(1);
      expect(prefill.map((s) => s.attrs["row"])).toEqual(Array.from({ length: chunk }, (_, t) => t));
      for (const s of [...decode, ...prefill]) {
        const { groups, ...rest } = want;
        expect(s.attrs).toMatchObject({ layer: 1, ...rest, hasExpertScale: false });
        expect(s.attrs["groups"]).toEqual(groups);
        // logits (the router GEMV's E outputs) and, for V3, the E-wide correction bias
        expect(s.inputs).toHaveLength(want.hasBias ? 2 : 1);
        expect(s.inputs[0]!.elements).toBeGreaterThanOrEqual(want.numExperts);
        if (want.hasBias) expect(s.inputs[1]).toMatchObject({ elements: want.numExperts, dtype: "bf16" });
        // the k weights go back to L2 one per word; the experts are chosen through variables
        expect(s.outputs).toHaveLength(1);
        expect(s.outputs[0]!.blocks).toEqual([1, 1]);
      }
    });
  }

  for (const kvDtype of ["int4", "int8"] as const) {
    it(`the MLA latent ring is INT4 tiles with a ${kvDtype} plan (so the INT4 KV error applies to both)`, () => {
      for (const model of Object.keys(EXPECTED)) {
        const { program } = compile(model, kvDtype);
        const writes = hostSteps(program, "decode", "kv_write");
        expect(writes.map((s) => s.attrs["layer"])).toEqual([0, 1]);
        for (const s of writes) {
          // one KV head: K = [latent 32 | k_pe 8], V = the latent
          expect(s.attrs).toMatchObject({ format: "int4_tiles", kvHeads: 1, headDim: 40, vHeadDim: 32 });
        }
        expect(
          program.segments.some((seg) => seg.steps.some((st) => st.kind === "host" && st.fn === "attention")),
        ).toBe(false);
      }
    });
  }
});
