/**
 * A seeded random source that gives the same numbers on every platform and Node version: mulberry32
 * (32-bit integer arithmetic only) for uniforms, and the Irwin–Hall sum of 12 uniforms for normals —
 * no Math.log/Math.cos, whose last bits are not specified by ECMAScript. The approximate normal is
 * bounded to ±6σ, which is all a synthetic checkpoint needs.
 */
import { mulberry32 } from "../util/random.js";

export class Rng {
  private readonly next: () => number;

  constructor(seed: number) {
    // Spread small seeds (0, 1, 2 …) over the state space.
    this.next = mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ 0x85ebca6b) >>> 0);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next();
  }

  /** Approximately N(mean, std²): Irwin–Hall with 12 terms (variance exactly 1). */
  normal(mean = 0, std = 1): number {
    let s = 0;
    for (let i = 0; i < 12; i++) s += this.uniform();
    return mean + std * (s - 6);
  }

  /** An independent stream derived from this seed and a label (e.g. a tensor name). */
  static derive(seed: number, label: string): Rng {
    let h = 0x811c9dc5 ^ (seed >>> 0);
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
    return new Rng(h);
  }
}
