/**
 * Human formatting of sizes for messages and the one-line summary: binary units (KiB, MiB, GiB)
 * with three significant digits, so 2,610,000,000 bytes print as "2.43 GiB".
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const neg = n < 0;
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 ? 0 : v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${neg ? "-" : ""}${v.toFixed(digits)} ${UNITS[u]}`;
}

export function formatPercent(x: number): string {
  return `${(100 * x).toFixed(x < 0.1 ? 1 : 0)} %`;
}

/** Integer with thousands separators (fixed locale, deterministic). */
export function formatInt(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The Edge-TPU-style summary line. */
export function summaryLine(onChip: number, perToken: number, offDdr: number): string {
  return (
    `On-chip ${formatBytes(onChip)}, streamed from DDR ${formatBytes(perToken)}/token, ` +
    `off-DDR ${formatBytes(offDdr)}`
  );
}
