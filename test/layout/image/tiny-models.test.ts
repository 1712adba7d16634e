import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { validateCheckpoint } from "../../../src/layout/image/validate.js";
import { writeWeightImage } from "../../../src/layout/image/writer.js";
import { finalizeLayout } from "../../../src/layout/plan/finalize.js";
import { foldableNorms } from "../../../src/layout/plan/fold.js";
import { planLayout } from "../../../src/layout/plan/plan.js";
import { simpleTiling } from "../../../src/layout/plan/tiling.js";
import { parseConfigText } from "../../../src/parser/config/index.js";
import { openTensorIndex } from "../../../src/parser/safetensors/index.js";
import { resolve } from "../../../src/resolver/index.js";
import { loadTarget } from "../../../src/target/index.js";
import { sha256Hex } from "../../../src/util/hash.js";
import { tempDir } from "./checkpoint.js";

const target = loadTarget("kv260-v002");
const tiny = fileURLToPath(new URL("../../../examples/tiny", import.meta.url));
const models = existsSync(tiny)
  ? readdirSync(tiny)
      .filter((d) => existsSync(join(tiny, d, "model.safetensors")))
      .sort()
  : [];

describe.skipIf(models.length === 0)("weight images of the committed tiny models (every family)", () => {
  if (models.length === 0) console.warn(`layout image test: no tiny models under ${tiny}; skipped`);
  for (const name of models) {
    it(name, async () => {
      const file = join(tiny, name, "config.json");
      const graph = resolve(parseConfigText(readFileSync(file, "utf8"), file)).graph;
      const weights = join(tiny, name, "model.safetensors");
      const index = await openTensorIndex({ kind: "single", file: weights, shards: [weights] });
      const out = tempDir();
      try {
        const diags = validateCheckpoint(graph, index);
        expect(diags.filter((d) => d.severity === "error")).toEqual([]);
        const plan = planLayout(graph, target, {
          folded: new Set(foldableNorms(graph).map((c) => c.norm)),
          int4EmbeddingMinElements: 1024,
        });
        const segments = simpleTiling(plan, { rows: 48, cols: 40 });
        const wp = finalizeLayout(plan, segments);
        expect(wp.warnings).toBeUndefined();
        const a = await writeWeightImage(wp, segments, index, join(out.dir, "a"), { threads: 0 });
        const b = await writeWeightImage(wp, segments, index, join(out.dir, "b"), {
          threads: 2,
          jobElements: 700,
        });
        expect(b.digest).toBe(a.digest);
        const image = readFileSync(join(out.dir, "a", "weights.bin"));
        expect(readFileSync(join(out.dir, "b", "weights.bin")).equals(image)).toBe(true);
        for (const s of a.manifest.segments) {
          expect(sha256Hex(image.subarray(s.fileOffset, s.fileOffset + s.bytes)), s.id).toBe(s.sha256);
        }
        const streamed = new Set(plan.tensors.filter((t) => t.placement === "stream").map((t) => t.id));
        expect(new Set(a.manifest.quantization.filter((q) => streamed.has(q.id)).map((q) => q.id))).toEqual(
          streamed,
        );
        for (const q of a.manifest.quantization) expect(Number(q.error["cosine"]), q.id).toBeGreaterThan(0.9);
      } finally {
        await index.close();
        out.cleanup();
      }
    });
  }
});
