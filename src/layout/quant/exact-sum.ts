/**
 * An exact floating-point accumulator (Shewchuk's non-overlapping partials, as in Python's
 * math.fsum). Adding is exact, so the final, correctly rounded value does not depend on the order of
 * additions or on how partial sums were merged: statistics combined across row blocks and worker
 * threads come out bit-identical to a one-shot pass.
 */
export class ExactSum {
  private readonly partials: number[];

  constructor(partials: readonly number[] = []) {
    this.partials = [...partials];
  }

  add(value: number): void {
    const p = this.partials;
    let x = value;
    let i = 0;
    for (let j = 0; j < p.length; j++) {
      let y = p[j]!;
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    p.length = i;
    p.push(x);
  }

  merge(other: ExactSum): void {
    for (const v of other.partials) this.add(v);
  }

  /** The exact sum rounded once to the nearest float64 (ties to even). */
  value(): number {
    const p = this.partials;
    let n = p.length;
    if (n === 0) return 0;
    let hi = p[--n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n]!;
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // Half-way case: the rest of the partials decide the direction of the rounding.
    if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }

  /** The partials, for sending across threads; `new ExactSum(partials)` restores it. */
  toJSON(): number[] {
    return [...this.partials];
  }
}
