/**
 * The DDR map and weight manifest of the C tables (k_regions): where each image-backed region's
 * bytes are in weights.bin (its weights.json entry, else its DDR offset), its FNV-1a 64 checksum
 * when the image is given, and the size weights.bin must have (docs/driver.md, "The weight manifest").
 */
import { DDR_KINDS } from "../codegen/artifacts/enums.js";
import type { DdrRegion, Program } from "../codegen/program.js";
import { invalidInput } from "../diag/index.js";
import { fnv1a64Fast } from "./fnv.js";
import type { CRegion } from "./tables.js";
import type { DriverOptions, ImageManifest } from "./types.js";

/** pccx_region_kind codes, in enum order: the same codes program.bin stores. */
export const REGION_KINDS: readonly DdrRegion["kind"][] = DDR_KINDS;
/** Regions whose initial bytes come from weights.bin (the simulator's image regions). */
const IMAGE_KINDS = new Set<DdrRegion["kind"]>(["weights", "embedding", "table"]);

/** Where an image-backed region's bytes are in weights.bin: its manifest entry, else its DDR offset. */
function fileOffsetOf(r: DdrRegion, manifest: ImageManifest | undefined): number {
  if (!manifest) return r.offset;
  const m = manifest.regions.find((x) => x.name === r.name);
  if (m?.fileOffset === undefined) {
    throw invalidInput(
      "stubs/manifest-region",
      `DDR region "${r.name}" (${r.kind}) holds weights, but weights.json gives it no file offset`,
      { fix: "give the weights.json written with this program's weights.bin (pccxc compile writes both)" },
    );
  }
  if (m.bytes !== undefined && m.bytes < r.bytes) {
    throw invalidInput(
      "stubs/manifest-region",
      `DDR region "${r.name}" has ${r.bytes} bytes in the program, weights.json reserves ${m.bytes}`,
      { fix: "give the weights.json written with this program's weights.bin (pccxc compile writes both)" },
    );
  }
  return m.fileOffset;
}

export function regionsOf(p: Program, opts: DriverOptions): CRegion[] {
  const image = opts.image;
  return p.ddr.map((r) => {
    const isImage = IMAGE_KINDS.has(r.kind);
    const at = isImage ? fileOffsetOf(r, opts.manifest) : r.offset;
    let hash: bigint | undefined;
    if (isImage && image) {
      const bytes = new Uint8Array(r.bytes);
      if (at < image.length) bytes.set(image.subarray(at, Math.min(image.length, at + r.bytes)));
      hash = fnv1a64Fast(bytes);
    }
    const kind = REGION_KINDS.indexOf(r.kind);
    return {
      name: r.name,
      offset: r.offset,
      bytes: r.bytes,
      fileOffset: at,
      kind,
      image: isImage,
      ...(hash !== undefined ? { hash } : {}),
    };
  });
}

/**
 * The weight image size the driver requires: the manifest's file size (the off-DDR part that host
 * functions read included), else the end of the last image-backed region present in the given
 * image; 0 (unchecked) when neither is known. A given image must be the manifest's file.
 */
export function imageBytesOf(regions: readonly CRegion[], opts: DriverOptions): number {
  const declared = opts.manifest?.image?.bytes;
  if (declared !== undefined) {
    if (opts.image && opts.image.length !== declared) {
      throw invalidInput(
        "stubs/image-size",
        `weights.bin has ${opts.image.length} bytes, weights.json says ${declared}`,
        { fix: "give the weights.bin and weights.json written together by pccxc compile" },
      );
    }
    return declared;
  }
  if (!opts.image) return 0;
  const imageEnd = Math.max(0, ...regions.filter((r) => r.image).map((r) => r.fileOffset + r.bytes));
  return Math.min(opts.image.length, imageEnd);
}
