/**
 * The driver generator's types: what it produces (a bundle of files), its options, and the HAL
 * implementations it can emit.
 */

/** HAL implementations: Linux user space (UIO + DMA heap), Xilinx standalone, simulation. */
export type HalKind = "uio" | "baremetal" | "sim";

export const HAL_KINDS: readonly HalKind[] = ["uio", "baremetal", "sim"];

/** Relative path → file text, in a fixed order (the order files are written and listed). */
export interface DriverBundle {
  readonly files: ReadonlyMap<string, string>;
}

/** Per-layer KV geometry when the program's variables do not carry it (as the simulator takes it). */
export interface KvGeometry {
  readonly window?: number;
  readonly slots?: number;
  readonly sink?: number;
}

/** What the driver needs from weights.json: where regions and host-read tensors are in weights.bin. */
export interface ImageManifest {
  readonly regions: readonly { readonly name: string; readonly fileOffset?: number }[];
  readonly image?: { readonly offDdr?: { readonly fileOffset: number; readonly bytes: number } };
}

export interface DriverOptions {
  /** weights.json: region file offsets (default: the DDR offset) and the off-DDR part host functions read. */
  readonly manifest?: ImageManifest;
  /** weights.bin: when given, the manifest records per-region checksums and the image size. */
  readonly image?: Uint8Array;
  /** Logits read for sampling (default: the whole logits region). Also the token-id limit. */
  readonly vocab?: number;
  /** Largest number of positions (prompt + generated); 0 or absent: not checked. */
  readonly context?: number;
  /** DDR region holding the logits (default: the program's region of kind logits). */
  readonly logitsRegion?: string;
  readonly layers?: Readonly<Record<number, KvGeometry>>;
}
