/**
 * Fair sharing of one bandwidth among streams with individual caps (max-min fairness, "water
 * filling"): every stream gets the same share unless its own cap is lower, and what a capped stream
 * leaves is shared by the others. This is how the DDR controller's bandwidth is split between the
 * DataMover streams that are active at the same time.
 */

/**
 * Writes into `out` the allocation of `total` among `caps` (bytes per cycle each stream could
 * take). Deterministic: ties keep input order. Caps ≤ 0 get 0. `order` is scratch space of the
 * same length (no allocation: this runs at every event of the simulation).
 */
export function waterFillInto(
  caps: ArrayLike<number>,
  total: number,
  out: Float64Array,
  order: Int32Array,
): void {
  const n = caps.length;
  let k = 0;
  for (let i = 0; i < n; i++) {
    out[i] = 0;
    const c = caps[i]!;
    if (!(c > 0)) continue;
    // insertion sort by cap, stable
    let j = k;
    while (j > 0 && caps[order[j - 1]!]! > c) {
      order[j] = order[j - 1]!;
      j--;
    }
    order[j] = i;
    k++;
  }
  let left = Math.max(0, total);
  for (let j = 0; j < k; j++) {
    const i = order[j]!;
    const give = Math.min(caps[i]!, left / (k - j));
    out[i] = give;
    left -= give;
  }
}

/** The allocation of `total` among `caps` (see waterFillInto). */
export function waterFill(caps: readonly number[], total: number): number[] {
  const out = new Float64Array(caps.length);
  waterFillInto(caps, total, out, new Int32Array(caps.length));
  return Array.from(out);
}
