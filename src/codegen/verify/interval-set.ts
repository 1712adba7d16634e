/** Disjoint half-open integer ranges, sorted and merged on insert (the DDR bytes a segment wrote). */
export class IntervalSet {
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];

  /** Index of the first range whose end is ≥ x. */
  private find(x: number): number {
    let a = 0;
    let b = this.hi.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (this.hi[m]! < x) a = m + 1;
      else b = m;
    }
    return a;
  }

  add(lo: number, hi: number): void {
    if (hi <= lo) return;
    const i = this.find(lo);
    let j = i;
    while (j < this.lo.length && this.lo[j]! <= hi) {
      lo = Math.min(lo, this.lo[j]!);
      hi = Math.max(hi, this.hi[j]!);
      j++;
    }
    this.lo.splice(i, j - i, lo);
    this.hi.splice(i, j - i, hi);
  }

  covers(lo: number, hi: number): boolean {
    if (hi <= lo) return true;
    const i = this.find(lo);
    return i < this.lo.length && this.lo[i]! <= lo && this.hi[i]! >= hi;
  }
}
