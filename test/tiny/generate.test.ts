import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfigText, parseGenerationConfigText } from "../../src/parser/config/index.js";
import { openTensorIndex } from "../../src/parser/safetensors/index.js";
import { resolve, storedTensors } from "../../src/resolver/index.js";
import { generateTiny, Rng, TINY_FILES } from "../../src/tiny/index.js";
import { catchPccxAsync, EXAMPLES, ROOT } from "../features/helpers.js";
import { runCli } from "../helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "pccxc-tiny-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const LLAMA = join(EXAMPLES, "meta-llama__Llama-3.2-1B/config.json");
const GEMMA2 = join(EXAMPLES, "google__gemma-2-2b-it");
const bytes = (dir: string) => TINY_FILES.map((f) => readFileSync(join(dir, f)));

describe("generateTiny", () => {
  it("is deterministic: the same arguments give byte-identical files; the seed changes only the weights", async () => {
    await generateTiny(LLAMA, join(tmp, "a"), { seed: 7 });
    await generateTiny(LLAMA, join(tmp, "b"), { seed: 7 });
    await generateTiny(LLAMA, join(tmp, "c"), { seed: 8 });
    const [a, b, c] = [bytes(join(tmp, "a")), bytes(join(tmp, "b")), bytes(join(tmp, "c"))];
    for (let i = 0; i < 3; i++) expect(a[i]!.equals(b[i]!), TINY_FILES[i]).toBe(true);
    expect(a[0]!.equals(c[0]!)).toBe(true); // config.json
    expect(a[2]!.equals(c[2]!)).toBe(false); // model.safetensors
  });

  it("writes every tensor of the tiny graph with its real name, shape and dtype", async () => {
    const dir = join(tmp, "g2");
    const m = await generateTiny(GEMMA2, dir);
    const parsed = parseConfigText(readFileSync(join(dir, "config.json"), "utf8"), "config.json");
    const { graph } = resolve(parsed);
    const file = join(dir, "model.safetensors");
    const idx = await openTensorIndex({ kind: "single", file, shards: [file] });
    try {
      const want = storedTensors(graph)
        .map((w) => `${w.name} ${w.dtype} ${w.shape.join("x")}`)
        .sort();
      const got = [...idx.entries()].map((e) => `${e.name} ${e.dtype} ${e.shape.join("x")}`).sort();
      expect(got).toEqual(want);
      expect(got).toContain("model.layers.0.self_attn.q_proj.weight BF16 64x64");
      expect(idx.metadata.get(file)).toEqual({
        format: "pt",
        generator: "pccxc dev tiny",
        seed: "0",
        source: "google__gemma-2-2b-it",
      });
      // Realistic scales: Gemma's (1+w) norms sit around 0, projections have std ≈ 1/√fan_in.
      const norm = await idx.readRows("model.layers.0.input_layernorm.weight", 0, 1);
      expect(Math.abs(mean(norm))).toBeLessThan(0.03);
      const q = await idx.readRows("model.layers.0.mlp.down_proj.weight", 0, 64);
      expect(std(q)).toBeGreaterThan(0.8 / Math.sqrt(128));
      expect(std(q)).toBeLessThan(1.2 / Math.sqrt(128));
    } finally {
      await idx.close();
    }
    expect(m.sizes["model.safetensors"]).toBe(readFileSync(file).length);
    const gen = parseGenerationConfigText(
      readFileSync(join(dir, "generation_config.json"), "utf8"),
      "g.json",
    );
    expect(gen.eos_token_id.every((t) => t < 256)).toBe(true);
    expect(gen.eos_token_id).toEqual(parsed.specialTokens.eos_token_id);
  });

  it("Llama norms sit around 1", async () => {
    const dir = join(tmp, "a");
    const file = join(dir, "model.safetensors");
    const idx = await openTensorIndex({ kind: "single", file, shards: [file] });
    try {
      expect(mean(await idx.readRows("model.norm.weight", 0, 1))).toBeCloseTo(1, 1);
    } finally {
      await idx.close();
    }
  });

  it("carries a source generation_config.json over with the token ids remapped", async () => {
    const src = join(tmp, "withgen");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "config.json"), readFileSync(LLAMA));
    writeFileSync(
      join(src, "generation_config.json"),
      JSON.stringify({
        bos_token_id: 128000,
        eos_token_id: [128001, 128008],
        do_sample: true,
        temperature: 0.6,
        top_p: 0.9,
      }),
    );
    await generateTiny(src, join(tmp, "withgen-out"));
    const gen = JSON.parse(readFileSync(join(tmp, "withgen-out/generation_config.json"), "utf8"));
    expect(gen).toEqual({
      bos_token_id: 255,
      eos_token_id: [254, 253],
      do_sample: true,
      temperature: 0.6,
      top_p: 0.9,
    });
  });

  it("refuses to overwrite without --force (exit 1), a missing source (exit 4), bad options (exit 1)", async () => {
    const dir = join(tmp, "a");
    const err = await catchPccxAsync(() => generateTiny(LLAMA, dir, { seed: 7 }));
    expect(err.code).toBe("tiny/exists");
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(`${dir} already holds config.json, generation_config.json, model.safetensors`);
    expect((await catchPccxAsync(() => generateTiny(join(tmp, "nowhere"), join(tmp, "x")))).exitCode).toBe(4);
    expect((await catchPccxAsync(() => generateTiny(LLAMA, join(tmp, "x"), { seed: -1 }))).code).toBe(
      "tiny/bad-option",
    );
    expect(existsSync(join(tmp, "x", "config.json"))).toBe(false);
  });
});

describe("the seeded random source", () => {
  it("gives the same numbers for the same seed and label, and roughly N(0, 1)", () => {
    const a = Rng.derive(3, "w");
    const b = Rng.derive(3, "w");
    const xs = Array.from({ length: 20000 }, () => a.normal());
    expect(Array.from({ length: 20000 }, () => b.normal())).toEqual(xs);
    expect(Math.abs(mean(xs))).toBeLessThan(0.03);
    expect(std(xs)).toBeCloseTo(1, 1);
    expect(Rng.derive(3, "v").uniform()).not.toBe(Rng.derive(3, "w").uniform());
  });
});

describe("pccxc dev tiny", () => {
  it("writes the model and prints a JSON summary", async () => {
    const dir = join(tmp, "cli");
    const src = "examples/configs/Qwen__Qwen3-0.6B";
    const first = await runCli(
      ["dev", "tiny", src, "-o", dir, "--layers", "3", "--vocab", "128", "--json"],
      {},
      ROOT,
    );
    expect(first.code).toBe(0);
    const s = JSON.parse(first.stdout);
    expect(s).toMatchObject({ family: "qwen3", layers: 3, hidden: 64, heads: 4, kvHeads: 2, vocab: 128 });
    expect(first.stderr).toContain("qwen3: 3 layers, hidden 64");
    expect((await runCli(["dev", "tiny", src, "-o", dir], {}, ROOT)).code).toBe(1);
    expect((await runCli(["dev", "tiny", src, "-o", dir, "--layers", "x"], {}, ROOT)).code).toBe(1);
  });
});

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}
function std(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - m) ** 2;
  return Math.sqrt(s / a.length);
}
