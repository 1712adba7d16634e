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

/**
 * What the driver needs from weights.json: where each image-backed region is in weights.bin (and how
 * many bytes the manifest gives it), the whole file's size and its off-DDR part.
 */
export interface ImageManifest {
  readonly regions: readonly {
    readonly name: string;
    readonly fileOffset?: number;
    /** Bytes the image reserves for the region (at least the program's region bytes). */
    readonly bytes?: number;
  }[];
  readonly image?: {
    /** weights.bin's size: the driver refuses a shorter file (PCCX_ERR_IMAGE). */
    readonly bytes?: number;
    readonly offDdr?: { readonly fileOffset: number; readonly bytes: number };
  };
}

export interface DriverOptions {
  /**
   * weights.json: every image-backed region is loaded from its manifest entry's file offset (a region
   * the manifest lacks is an error), the file's size is checked at load, and host functions read the
   * off-DDR part. Without it, regions are read at their DDR offsets (test programs whose image is the
   * DDR map itself).
   */
  readonly manifest?: ImageManifest;
  /** weights.bin: when given, the tables record per-region checksums (FNV-1a 64) and the image size. */
  readonly image?: Uint8Array;
  /** Logits read for sampling (default: the whole logits region). Also the token-id limit. */
  readonly vocab?: number;
  /** Largest number of positions (prompt + generated); 0 or absent: not checked. */
  readonly context?: number;
  /** DDR region holding the logits (default: the program's region of kind logits). */
  readonly logitsRegion?: string;
  readonly layers?: Readonly<Record<number, KvGeometry>>;
}
