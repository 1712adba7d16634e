/**
 * mulberry32: a small seeded PRNG giving the same uniform [0, 1) stream on every platform (32-bit
 * integer arithmetic only). The state is used as given, so seeds 0, 1, 2 … give correlated first
 * draws; tiny/rng.ts `Rng` spreads its seed first. Tests and benches use it for synthetic data.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
