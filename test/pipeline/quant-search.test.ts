/**
 * `--quant-search` on compile: the MSE-optimal clipping search reaches the weight image (every
 * tensor's RMSE no worse than without it, at least one better), the manifest records the setting,
 * the functional validation still passes, and the default run notes the choice once.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { TINY_DIR, tempDir } from "./helpers.js";

interface Quant {
  tensor: string;
  error: { rmse: number };
}

describe("pccxc compile --quant-search", () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    t = await tempDir("pccxc-quant-search-");
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it("lowers the quantization error of the image and records the setting", async () => {
    const plainDir = join(t.dir, "plain");
    const searchDir = join(t.dir, "search");
    const model = join(TINY_DIR, "llama");
    const plain = await runCli(["compile", model, "-o", plainDir, "--offline", "--tokens", "2"]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toContain("clipping search: off (default:");
    const search = await runCli([
      "compile",
      model,
      "-o",
      searchDir,
      "--offline",
      "--tokens",
      "2",
      "--quant-search",
      "-q",
    ]);
    expect(search.code, search.stderr).toBe(0);
    const read = async (dir: string) =>
      (JSON.parse(await readFile(join(dir, "weights.json"), "utf8")) as { quantization: Quant[] })
        .quantization;
    const [a, b] = [await read(plainDir), await read(searchDir)];
    expect(b.map((q) => q.tensor)).toEqual(a.map((q) => q.tensor));
    for (let i = 0; i < a.length; i++) expect(b[i]!.error.rmse).toBeLessThanOrEqual(a[i]!.error.rmse);
    expect(b.some((q, i) => q.error.rmse < a[i]!.error.rmse)).toBe(true);
    const manifest = async (dir: string) =>
      (
        JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as {
          settings: { quantSearch: boolean };
        }
      ).settings.quantSearch;
    expect([await manifest(plainDir), await manifest(searchDir)]).toEqual([false, true]);
  });
});
