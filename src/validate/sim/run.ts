/**
 * `runFunctional`: executes a program's command stream with the target's numeric model over a
 * sequence of segment runs (load, prefill chunks, decode steps), and returns the faults, the DDR
 * reads asked for after each run, and execution counters.
 */
import type { DdrRegion, Program } from "../../codegen/program.js";
import type { WeightManifest } from "../../layout/image/manifest.js";
import type { Target } from "../../target/index.js";
import { FunctionalMachine } from "./machine.js";
import type { FunctionalInputs, FunctionalResult, SimOptions, WeightImage } from "./types.js";

export function runFunctional(
  program: Program,
  image: WeightImage,
  target: Target,
  inputs: FunctionalInputs,
  options: SimOptions = {},
): FunctionalResult {
  const m = new FunctionalMachine(program, image, target, options);
  const outputs: Float32Array[][] = [];
  for (const r of inputs.runs) {
    if (m.log.full) break;
    m.runSegment(r.segment, r.variables);
    outputs.push((inputs.reads ?? []).map((spec) => m.read(spec)));
  }
  return m.result(outputs);
}

/** weights.bin as one byte array: an image-backed region holds bytes [offset, offset + bytes). */
export function imageFromBytes(bin: Uint8Array): WeightImage {
  return {
    region: (r: DdrRegion) =>
      r.offset < bin.length ? bin.subarray(r.offset, Math.min(bin.length, r.offset + r.bytes)) : undefined,
  };
}

/** An image given region by region (tests, tools). */
export function imageFromRegions(regions: Readonly<Record<string, Uint8Array>>): WeightImage {
  return { region: (r: DdrRegion) => regions[r.name] };
}

/** No image: every region starts at zero. */
export const EMPTY_IMAGE: WeightImage = { region: () => undefined };

/**
 * weights.bin with its manifest (weights.json): regions at the manifest's file offsets (else the
 * program region's offset), and the off-DDR part of the file as region `offddr`.
 */
export function imageFromManifest(bin: Uint8Array, manifest: WeightManifest): WeightImage {
  const fileOffset = new Map(manifest.regions.map((r) => [r.name, r.fileOffset]));
  const off = manifest.image.offDdr;
  return {
    ...(off ? { offDdr: bin.subarray(off.fileOffset, off.fileOffset + off.bytes) } : {}),
    region(r) {
      const at = fileOffset.get(r.name) ?? r.offset;
      return at < bin.length ? bin.subarray(at, Math.min(bin.length, at + r.bytes)) : undefined;
    },
  };
}

export { decodeManifestTensor } from "./dequant.js";
