/**
 * weights.json: the map of weights.bin (regions, every stream segment, every other tensor, each with
 * its file offset, bytes and sha256), the folds and transforms applied, the quantization error of
 * every INT4 tensor, and the warnings. Deterministic: no paths, times or thread counts. Its digest
 * is the sha256 of its canonical JSON without the digest field; since it holds the sha256 of every
 * byte range of the image (gaps are zeros), it identifies weights.bin.
 */
import type { Diagnostic } from "../../diag/index.js";
import { sha256Hex } from "../../util/hash.js";
import { canonicalJson } from "../../util/json.js";
import { type ErrorSummary, summaryToJson } from "../quant/index.js";
import type { PlacedTensor, StreamSegment, WeightPlan } from "../types.js";
import { tensorFileOffset } from "./pieces.js";

export const WEIGHTS_FORMAT = "pccxc-weights";
export const WEIGHTS_VERSION = 1;

export interface ManifestSegment extends StreamSegment {
  readonly region: string;
  readonly fileOffset: number;
  readonly sha256: string;
}

export interface ManifestTensor extends PlacedTensor {
  readonly fileOffset: number;
  readonly sha256: string;
}

export interface ManifestQuant {
  readonly id: string;
  readonly tensor: string;
  readonly role: string;
  /** Checkpoint storage the values were read from (BF16, F32, F8_E4M3 block-scaled, MXFP4). */
  readonly source: string;
  readonly group: number;
  readonly scaleDtype: string;
  readonly error: Record<string, number | string>;
}

export interface WeightManifest {
  readonly format: typeof WEIGHTS_FORMAT;
  readonly version: typeof WEIGHTS_VERSION;
  readonly target: string;
  readonly image: {
    readonly file: "weights.bin";
    readonly bytes: number;
    /** Bytes loaded into DDR (from offset 0 of the file to the same offsets of the DDR arena). */
    readonly ddrBytes: number;
    readonly offDdr?: { readonly fileOffset: number; readonly bytes: number };
    readonly alignment: number;
  };
  readonly summary: string;
  readonly regions: WeightPlan["regions"];
  readonly segments: readonly ManifestSegment[];
  readonly tensors: readonly ManifestTensor[];
  readonly folded: readonly {
    readonly tensor: string;
    readonly into: readonly string[];
    readonly offset: number;
  }[];
  readonly quantization: readonly ManifestQuant[];
  readonly unused: readonly string[];
  readonly warnings: readonly Diagnostic[];
  /** sha256 of the canonical JSON of this object without `digest`. */
  readonly digest: string;
}

export interface ManifestInputs {
  readonly plan: WeightPlan;
  readonly segmentSha: ReadonlyMap<string, string>;
  readonly tensorSha: ReadonlyMap<string, string>;
  readonly errors: ReadonlyMap<string, { readonly source: string; readonly summary: ErrorSummary }>;
  readonly unused: readonly string[];
  readonly warnings: readonly Diagnostic[];
}

export function buildManifest(i: ManifestInputs): WeightManifest {
  const wp = i.plan;
  const regions = new Map(wp.regions.map((r) => [r.name, r]));
  const segments = wp.segments.map((s) => {
    const region = `weights.${s.port}`;
    return {
      ...s,
      region,
      fileOffset: regions.get(region)!.fileOffset! + s.offset,
      sha256: i.segmentSha.get(`${s.port}@${s.offset}`)!,
    };
  });
  const tensors = wp.tensors.map((t) => ({
    ...t,
    fileOffset: tensorFileOffset(wp, t),
    sha256: i.tensorSha.get(t.id)!,
  }));
  const policies = new Map(wp.layout.tensors.map((p) => [p.id ?? p.tensor, p]));
  const quantization = [...i.errors]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([id, e]) => {
      const p = policies.get(id)!;
      return {
        id,
        tensor: p.tensor,
        role: p.role,
        source: e.source,
        group: p.group,
        scaleDtype: p.scaleDtype,
        error: summaryToJson(e.summary),
      };
    });
  const folded = wp.layout.tensors
    .filter((p) => p.placement === "folded")
    .map((p) => ({ tensor: p.tensor, into: p.foldedInto ?? [], offset: p.foldOffset ?? 0 }));
  const body = {
    format: WEIGHTS_FORMAT as typeof WEIGHTS_FORMAT,
    version: WEIGHTS_VERSION as typeof WEIGHTS_VERSION,
    target: wp.target,
    image: {
      file: "weights.bin" as const,
      bytes: wp.image.bytes,
      ddrBytes: wp.image.ddrBytes,
      ...(wp.image.offDdr ? { offDdr: wp.image.offDdr } : {}),
      alignment: wp.alignment,
    },
    summary: wp.summary,
    regions: wp.regions,
    segments,
    tensors,
    folded,
    quantization,
    unused: [...i.unused],
    warnings: [...i.warnings],
  };
  return { ...body, digest: sha256Hex(canonicalJson(body)) };
}
