/**
 * How pccxc sees a tensor as rows: the last dimension is a row, everything before it counts rows
 * ([N, K] is N rows of K; [E, N, K] is E·N rows of K; a vector or a scalar is one row).
 */
import { invalidInput } from "../../diag/index.js";

export interface RowGeometry {
  readonly rows: number;
  readonly cols: number;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

export function rowGeometry(e: { readonly shape: readonly number[] }): RowGeometry {
  const cols = e.shape.length === 0 ? 1 : e.shape[e.shape.length - 1]!;
  return { rows: cols === 0 ? numel(e.shape.slice(0, -1)) : numel(e.shape) / cols, cols };
}

export function checkRowRange(name: string, g: RowGeometry, rowStart: number, rowCount: number): void {
  const ok =
    Number.isSafeInteger(rowStart) &&
    Number.isSafeInteger(rowCount) &&
    rowStart >= 0 &&
    rowCount >= 0 &&
    rowStart + rowCount <= g.rows;
  if (!ok) {
    throw invalidInput(
      "safetensors/read-range",
      `rows ${rowStart}..${rowStart + rowCount} are outside tensor "${name}" (${g.rows} rows of ${g.cols})`,
    );
  }
}
