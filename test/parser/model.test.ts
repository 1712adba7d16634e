import { existsSync } from "node:fs";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openModel } from "../../src/parser/model.js";
import { encodeBf16, encodeF32, writeSafetensors } from "../../src/parser/safetensors/writer.js";
import { useTempDirs } from "./safetensors/fixtures.js";
import { noNetwork, SHA_A, writeCachedRepo } from "./source/fake-hub.js";

const SHARED = fileURLToPath(new URL("../../../shared/configs", import.meta.url));
const haveShared = existsSync(SHARED);
if (!haveShared) console.warn(`skipped: openModel tests on real configs (${SHARED} does not exist)`);

const tempDir = useTempDirs();

async function qwenDir(withWeights: boolean): Promise<string> {
  const dir = await tempDir();
  await copyFile(join(SHARED, "Qwen__Qwen3-0.6B", "config.json"), join(dir, "config.json"));
  await writeFile(
    join(dir, "generation_config.json"),
    JSON.stringify({ eos_token_id: [151645, 151643], do_sample: true }),
  );
  if (withWeights) {
    await writeSafetensors(join(dir, "model.safetensors"), [
      {
        name: "model.embed_tokens.weight",
        dtype: "BF16",
        shape: [8, 4],
        data: encodeBf16(new Float32Array(32).fill(0.5)),
      },
      { name: "model.norm.weight", dtype: "F32", shape: [4], data: encodeF32([1, 1, 1, 1]) },
    ]);
  }
  return dir;
}

describe.skipIf(!haveShared)("openModel", () => {
  it("opens a local directory: config, generation config, tensors, files", async () => {
    const dir = await qwenDir(true);
    const m = await openModel(dir, { hub: noNetwork });
    expect(m.origin).toEqual({ kind: "dir", dir });
    expect(m.config.modelType).toBe("qwen3");
    expect(m.config.text.hidden_size).toBe(1024);
    expect(m.generation?.eos_token_id).toEqual([151645, 151643]);
    expect(m.tensors?.names()).toEqual(["model.embed_tokens.weight", "model.norm.weight"]);
    expect([...(await m.tensors!.readRows("model.embed_tokens.weight", 7, 1))]).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(Object.keys(m.files)).toEqual(["config.json", "generation_config.json", "model.safetensors"]);
    expect(m.noWeights).toBeUndefined();
    await m.close();
  });

  it("opens a config alone and says why there are no tensors", async () => {
    const dir = await qwenDir(false);
    const m = await openModel(join(dir, "config.json"));
    expect(m.tensors).toBeUndefined();
    expect(m.noWeights).toContain("no model.safetensors.index.json or model.safetensors");
    await expect(openModel(dir, { weightsPolicy: "required" })).rejects.toMatchObject({
      code: "weights/not-found",
    });
  });

  it("passes the FP8 block size from quantization_config to the tensor index", async () => {
    const dir = await tempDir();
    await copyFile(join(SHARED, "deepseek-ai__DeepSeek-V3", "config.json"), join(dir, "config.json"));
    await writeSafetensors(join(dir, "model.safetensors"), [
      { name: "w", dtype: "F8_E4M3", shape: [130, 2], data: new Uint8Array(260).fill(0x38) }, // 1.0
      { name: "w_scale_inv", dtype: "F32", shape: [2, 1], data: encodeF32([2, 3]) },
    ]);
    const m = await openModel(dir);
    expect(m.tensors?.weightBlockSize).toEqual([128, 128]);
    expect([...(await m.tensors!.readRowsDequant("w", 127, 2))]).toEqual([2, 2, 3, 3]);
    await m.close();
  });

  it("opens a repo id from the hub cache offline and reports shard warnings", async () => {
    const cache = await tempDir();
    const src = await tempDir();
    const shard = join(src, "s.safetensors");
    await writeSafetensors(shard, [
      { name: "model.norm.weight", dtype: "F32", shape: [2], data: encodeF32([1, 2]) },
      { name: "stray", dtype: "F32", shape: [1], data: encodeF32([0]) },
    ]);
    await writeCachedRepo(cache, "Qwen/Qwen3-0.6B", SHA_A, {
      "config.json": await readFile(join(SHARED, "Qwen__Qwen3-0.6B", "config.json"), "utf8"),
      "model.safetensors.index.json": JSON.stringify({
        weight_map: { "model.norm.weight": "model-1.safetensors" },
      }),
      "model-1.safetensors": await readFile(shard),
    });
    const m = await openModel("Qwen/Qwen3-0.6B", {
      offline: true,
      env: { HF_HUB_CACHE: cache },
      hub: noNetwork,
    });
    expect(m.origin).toMatchObject({
      kind: "hf-cache",
      repo: "Qwen/Qwen3-0.6B",
      revision: "main",
      sha: SHA_A,
    });
    expect(m.weights?.kind).toBe("index");
    expect(m.tensors?.size).toBe(2);
    expect(m.diagnostics.map((d) => d.code)).toEqual(["weights/unmapped-tensor"]);
    await m.close();
  });
});
