/**
 * The weight manifest (weights.json) in the driver: image-backed regions are loaded from their
 * manifest entries' file offsets (not their DDR offsets), the file's size and the regions'
 * checksums are checked at load (PCCX_ERR_IMAGE on a short or corrupt weights.bin), generation
 * refuses a manifest that does not fit the program, the pipeline's stubs stage passes the compile's
 * own manifest, and the same inputs give byte-identical files.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Program } from "../../src/codegen/program.js";
import { ExitCode, PccxError } from "../../src/diag/index.js";
import type { WeightManifest } from "../../src/layout/image/manifest.js";
import { generateDriver, STATUS_CODES, writeDriver } from "../../src/stubs/index.js";
import type { DriverOptions } from "../../src/stubs/types.js";
import {
  CosimExecutor,
  compileDriver,
  findToolchain,
  hasTool,
  runCosim,
  runDriverProcess,
} from "../../src/validate/cosim/index.js";
import { runCli, TINY_DIR } from "../pipeline/helpers.js";
import { fixture, KV260, VOCAB } from "./fixture.js";

const HAVE_GCC = hasTool("gcc");
if (!HAVE_GCC)
  console.warn(
    "test/stubs/manifest.test.ts: gcc is not installed (apt-get install gcc): driver loads skipped",
  );

type Manifest = NonNullable<DriverOptions["manifest"]>;

/**
 * The fixture's image rewritten as pccxc's image writer may lay it out: the image-backed regions in
 * reverse order after a 4 KiB header, so no region's file offset is its DDR offset.
 */
function relocated(program: Program, image: Uint8Array): { image: Uint8Array; manifest: Manifest } {
  const regions = program.ddr.filter(
    (r) => r.kind === "weights" || r.kind === "embedding" || r.kind === "table",
  );
  let at = 4096;
  const placed = [...regions].reverse().map((r) => {
    const fileOffset = at;
    at += Math.ceil(r.bytes / 64) * 64 + 64;
    return { name: r.name, fileOffset, bytes: Math.ceil(r.bytes / 64) * 64, ddr: r.offset, size: r.bytes };
  });
  const out = new Uint8Array(at);
  for (const p of placed) out.set(image.subarray(p.ddr, p.ddr + p.size), p.fileOffset);
  return {
    image: out,
    manifest: {
      regions: placed.map(({ name, fileOffset, bytes }) => ({ name, fileOffset, bytes })),
      image: { bytes: out.length },
    },
  };
}

function thrown(f: () => unknown): PccxError {
  try {
    f();
  } catch (e) {
    if (e instanceof PccxError) return e;
    throw e;
  }
  throw new Error("expected a PccxError");
}

/** k_regions rows of pccx_model.c: name → [ddr offset, bytes, file offset, has checksum]. */
function regionRows(modelC: string): Map<string, [number, number, number, number]> {
  const rows = new Map<string, [number, number, number, number]>();
  for (const m of modelC.matchAll(
    /\{"([^"]+)", (\d+)ull, (\d+)ull, (\d+)ull, \d+, [01], ([01]), 0x[0-9A-F]+ull\}/g,
  ))
    rows.set(m[1]!, [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])]);
  return rows;
}

/** The image size the program tables require (pccx_program_tables' image_bytes). */
function imageBytes(modelC: string): number {
  const m = /, (\d+)ull, \d+u,\n\};/.exec(modelC);
  if (!m) throw new Error("no image_bytes in pccx_model.c");
  return Number(m[1]);
}

const IMAGE_STATUS = STATUS_CODES.find((s) => s.name === "PCCX_ERR_IMAGE")!.value;

describe("the manifest in the C tables", () => {
  const f = fixture({ prefill: true });
  const r = relocated(f.program, f.image);
  const opts = { image: r.image, manifest: r.manifest, vocab: VOCAB };

  it("image regions carry their manifest file offsets and checksums; the image size is the manifest's", () => {
    const c = generateDriver(f.program, KV260, opts).files.get("pccx_model.c")!;
    const rows = regionRows(c);
    for (const m of r.manifest.regions) {
      const d = f.program.ddr.find((x) => x.name === m.name)!;
      expect(rows.get(m.name), m.name).toEqual([d.offset, d.bytes, m.fileOffset, 1]);
      expect(m.fileOffset).not.toBe(d.offset);
    }
    // regions without weights keep their DDR offset and get no checksum
    expect(rows.get("ring")?.[3]).toBe(0);
    expect(imageBytes(c)).toBe(r.image.length);
    // without the image, the manifest still gives the size (a driver for a large image checks it)
    const noImage = generateDriver(f.program, KV260, { manifest: r.manifest, vocab: VOCAB }).files;
    expect(imageBytes(noImage.get("pccx_model.c")!)).toBe(r.image.length);
  });

  it("the same program, image and manifest give byte-identical files; another file offset changes only pccx_model.c", () => {
    const a = generateDriver(f.program, KV260, opts).files;
    const again = fixture({ prefill: true });
    const b = generateDriver(again.program, KV260, {
      ...relocated(again.program, again.image),
      vocab: VOCAB,
    }).files;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k), k).toBe(v);
    const moved: Manifest = {
      ...r.manifest,
      regions: r.manifest.regions.map((m, i) => (i === 0 ? { ...m, fileOffset: m.fileOffset! + 64 } : m)),
    };
    const shifted = new Uint8Array(r.image.length);
    shifted.set(r.image);
    const c = generateDriver(f.program, KV260, { image: shifted, manifest: moved, vocab: VOCAB }).files;
    expect([...a.keys()].filter((k) => a.get(k) !== c.get(k))).toEqual(["pccx_model.c"]);
  });

  it("refuses a manifest that does not describe the program's image", () => {
    const missing: Manifest = { ...r.manifest, regions: r.manifest.regions.filter((m) => m.name !== "emb") };
    const e1 = thrown(() => generateDriver(f.program, KV260, { ...opts, manifest: missing }));
    expect(e1.code).toBe("stubs/manifest-region");
    expect(e1.exitCode).toBe(ExitCode.INVALID_INPUT);
    expect(e1.message).toContain(
      'DDR region "emb" (embedding) holds weights, but weights.json gives it no file offset',
    );
    const small: Manifest = {
      ...r.manifest,
      regions: r.manifest.regions.map((m) => (m.name === "w" ? { ...m, bytes: 64 } : m)),
    };
    expect(thrown(() => generateDriver(f.program, KV260, { ...opts, manifest: small })).code).toBe(
      "stubs/manifest-region",
    );
    const e3 = thrown(() => generateDriver(f.program, KV260, { ...opts, image: r.image.subarray(0, 100) }));
    expect(e3.code).toBe("stubs/image-size");
    expect(e3.message).toBe(`weights.bin has 100 bytes, weights.json says ${r.image.length}`);
  });
});

describe.skipIf(!HAVE_GCC)("the driver loads weights.bin by its manifest", () => {
  const f = fixture({ prefill: true });
  const r = relocated(f.program, f.image);
  let work = "";
  let bin = "";
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "pccx-manifest-"));
    const dir = join(work, "driver");
    await writeDriver(
      generateDriver(f.program, KV260, { image: r.image, manifest: r.manifest, vocab: VOCAB }),
      dir,
    );
    bin = join(work, "pccx_run_sim");
    compileDriver(findToolchain({}), dir, "sim", bin);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function load(image: Uint8Array, name: string, extra: readonly string[] = []) {
    const weights = join(work, name);
    await writeFile(weights, image);
    const x = new CosimExecutor(f.program, KV260);
    return runDriverProcess(
      [bin, "--weights", weights, "--tokens", "2", "--hal", "fds=3,3", ...extra, "3", "5"],
      x,
      KV260,
      60_000,
    );
  }

  it("co-simulates on the relocated image: the tokens equal the simulator's, which reads the same manifest", async () => {
    const report = await runCosim({
      program: f.program,
      target: KV260,
      image: r.image,
      manifest: r.manifest as unknown as WeightManifest,
      prompt: [3, 5, 7],
      tokens: 3,
      vocab: VOCAB,
    });
    expect(report.failures).toEqual([]);
    expect(report.driverTokens).toEqual([report.simulatorTokens]);
  });

  it("a short weights.bin fails the load with PCCX_ERR_IMAGE", async () => {
    const run = await load(r.image.subarray(0, r.image.length - 1), "short.bin");
    expect(run.code).toBe(10 + IMAGE_STATUS);
    expect(run.stderr).toContain("pccx_load failed: PCCX_ERR_IMAGE: the weight image does not match");
    expect(run.stderr).toContain(
      `the weight image has ${r.image.length - 1} bytes, the program needs ${r.image.length}`,
    );
  });

  it("a corrupt weights.bin fails the load with PCCX_ERR_IMAGE naming the region; --no-verify skips the checksums", async () => {
    const emb = r.manifest.regions.find((m) => m.name === "emb")!;
    const bad = new Uint8Array(r.image);
    bad[emb.fileOffset! + 5]! ^= 0x40;
    const run = await load(bad, "corrupt.bin");
    expect(run.code).toBe(10 + IMAGE_STATUS);
    expect(run.stderr).toContain("region emb: checksum differs from the manifest");
    const unchecked = await load(bad, "corrupt2.bin", ["--no-verify"]);
    expect(unchecked.stderr).toBe("");
    expect(unchecked.code).toBe(0);
  });

  it("the intact image loads", async () => {
    const run = await load(r.image, "ok.bin");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split(" ")).toHaveLength(2);
  });
});

const LLAMA = join(TINY_DIR, "llama");
if (!existsSync(LLAMA))
  console.warn("test/stubs/manifest.test.ts: examples/tiny/llama is missing: pipeline check skipped");

describe.skipIf(!existsSync(LLAMA))("the pipeline's stubs stage", () => {
  let out = "";
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it("generates the driver with the compile's weights.json: file offsets, checksums and size", async () => {
    out = await mkdtemp(join(tmpdir(), "pccx-manifest-llama-"));
    const dir = join(out, "o");
    const r = await runCli(["compile", LLAMA, "-o", dir, "--validate", "off", "-q", "--offline"]);
    expect(r.stderr).not.toContain("error[");
    expect(r.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, "weights.json"), "utf8")) as WeightManifest;
    const program = JSON.parse(await readFile(join(dir, "program.json"), "utf8")) as {
      ddr: { name: string; kind: string; offset: number }[];
    };
    const c = await readFile(join(dir, "driver", "pccx_model.c"), "utf8");
    const rows = regionRows(c);
    const image = program.ddr.filter((d) => ["weights", "embedding", "table"].includes(d.kind));
    expect(image.length).toBeGreaterThan(0);
    for (const d of image) {
      const m = manifest.regions.find((x) => x.name === d.name)!;
      expect(rows.get(d.name)?.[2], d.name).toBe(m.fileOffset);
      expect(rows.get(d.name)?.[3], d.name).toBe(1);
    }
    expect(imageBytes(c)).toBe(manifest.image.bytes);
  });
});
