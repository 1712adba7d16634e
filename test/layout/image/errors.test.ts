import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ExitCode, PccxError } from "../../../src/diag/index.js";
import { validateCheckpoint } from "../../../src/layout/image/validate.js";
import { writeWeightImage } from "../../../src/layout/image/writer.js";
import { finalizeLayout } from "../../../src/layout/plan/finalize.js";
import { planLayout } from "../../../src/layout/plan/plan.js";
import { simpleTiling } from "../../../src/layout/plan/tiling.js";
import { loadTarget } from "../../../src/target/index.js";
import { llamaGraph } from "../plan/graphs.js";
import { type CheckpointOptions, tempDir, writeCheckpoint } from "./checkpoint.js";

const target = loadTarget("kv260-v002");
const graph = llamaGraph({ hidden: 96, inter: 128, layers: 1, heads: 4, kvHeads: 2, headDim: 24, vocab: 64 });
const plan = planLayout(graph, target);
const segments = simpleTiling(plan, { rows: 64, cols: 48 });
const wp = finalizeLayout(plan, segments);

async function attempt(
  o: CheckpointOptions,
  threads = 0,
): Promise<{ error?: PccxError; files: string[]; warnings?: readonly unknown[] }> {
  const ck = await writeCheckpoint(graph, o);
  const out = tempDir();
  try {
    const r = await writeWeightImage(wp, segments, ck.index, out.dir, { threads, jobElements: 1000 });
    return { files: readdirSync(out.dir).sort(), warnings: r.warnings };
  } catch (e) {
    if (!(e instanceof PccxError)) throw e;
    return { error: e, files: readdirSync(out.dir) };
  } finally {
    await ck.cleanup();
    out.cleanup();
  }
}

describe("checkpoint errors", () => {
  it("names the tensor and the first non-finite element in row-major order (exit 2)", async () => {
    for (const threads of [0, 2]) {
      const r = await attempt(
        {
          poke: [
            {
              tensor: "model.layers.0.self_attn.q_proj.weight",
              row: 70,
              col: 5,
              value: Number.POSITIVE_INFINITY,
            },
            { tensor: "model.layers.0.self_attn.q_proj.weight", row: 10, col: 60, value: Number.NaN },
          ],
        },
        threads,
      );
      expect(r.error?.code).toBe("layout/nonfinite");
      expect(r.error?.exitCode).toBe(ExitCode.INVALID_INPUT);
      expect(r.error?.message).toContain("model.layers.0.self_attn.q_proj.weight");
      expect(r.error?.message).toContain("NaN at row 10, column 60");
      expect(r.files).toEqual([]); // no weights.bin, no temp file left behind
    }
  });

  it("rejects NaN in a vector (a norm weight) too", async () => {
    const r = await attempt({ poke: [{ tensor: "model.norm.weight", row: 0, col: 7, value: Number.NaN }] });
    expect(r.error?.code).toBe("layout/nonfinite");
    expect(r.error?.message).toContain("model.norm.weight has NaN at row 0, column 7");
  });

  it("lists every missing tensor (exit 2)", async () => {
    const drop = new Set(["model.layers.0.mlp.up_proj.weight", "model.norm.weight"]);
    const r = await attempt({ drop });
    expect(r.error?.code).toBe("layout/missing-tensor");
    expect(r.error?.exitCode).toBe(2);
    expect(r.error?.message).toContain("2 tensor(s)");
    for (const n of drop) expect(r.error?.message).toContain(n);
    expect(r.files).toEqual([]);
  });

  it("names the tensor, the expected and the found shape on a mismatch (exit 2)", async () => {
    const r = await attempt({ reshape: new Map([["model.layers.0.self_attn.k_proj.weight", [48, 97]]]) });
    expect(r.error?.code).toBe("layout/shape-mismatch");
    expect(r.error?.exitCode).toBe(2);
    expect(r.error?.message).toBe(
      "tensor model.layers.0.self_attn.k_proj.weight: the config implies [48, 96] but the checkpoint has [48, 97] (BF16)",
    );
  });

  it("rejects a weight stored in a dtype pccxc does not read (exit 3) and a bad FP8 scale grid (exit 2)", async () => {
    const r = await attempt({ int32: new Set(["model.layers.0.mlp.gate_proj.weight"]) });
    expect([r.error?.code, r.error?.exitCode]).toEqual(["layout/source-dtype", ExitCode.UNSUPPORTED]);
    expect(r.error?.message).toContain("model.layers.0.mlp.gate_proj.weight is stored as I32");
    const f = await attempt({ fp8: new Set(["model.layers.0.mlp.down_proj.weight"]), badFp8Scale: true });
    expect([f.error?.code, f.error?.exitCode]).toEqual(["layout/fp8-scale-shape", ExitCode.INVALID_INPUT]);
    expect(f.error?.message).toContain("needs float [1, 1]");
  });

  it("warns about checkpoint tensors the graph does not use, and still writes the image", async () => {
    const extra = [
      { name: "model.layers.0.self_attn.rotary_emb.inv_freq", shape: [12] },
      { name: "vision_tower.patch.weight", shape: [4, 4] },
    ];
    const r = await attempt({ extra });
    expect(r.error).toBeUndefined();
    expect(r.files).toEqual(["weights.bin", "weights.json"]);
    const w = r.warnings as { code: string; message: string }[];
    const unused = w.find((d) => d.code === "layout/unused-tensor")!;
    expect(unused.message).toContain("2 checkpoint tensor(s)");
    for (const e of extra) expect(unused.message).toContain(e.name);
  });

  it("validateCheckpoint reports the same problems as diagnostics", async () => {
    const ck = await writeCheckpoint(graph, {
      drop: new Set(["lm_head.weight"]),
      reshape: new Map([["model.layers.0.mlp.down_proj.weight", [96, 64]]]),
      extra: [{ name: "extra.weight", shape: [2] }],
    });
    try {
      const d = validateCheckpoint(graph, ck.index);
      expect(d.map((x) => `${x.severity}:${x.code}`)).toEqual([
        "error:layout/missing-tensor",
        "error:layout/shape-mismatch",
        "warning:layout/unused-tensor",
      ]);
      expect(d[0]!.message).toContain("lm_head.weight");
      expect(d[1]!.message).toContain("[96, 128] but the checkpoint has [96, 64]");
    } finally {
      await ck.cleanup();
    }
  });

  it("rejects segments that differ from the finalized plan (a codegen bug, exit 70)", async () => {
    const ck = await writeCheckpoint(graph);
    const out = tempDir();
    try {
      const changed = segments.map((s, i) => (i === 0 ? { ...s, id: "other" } : s));
      await expect(writeWeightImage(wp, changed, ck.index, out.dir, { threads: 0 })).rejects.toMatchObject({
        code: "layout/segments-changed",
        exitCode: 70,
      });
    } finally {
      await ck.cleanup();
      out.cleanup();
    }
  });
});
