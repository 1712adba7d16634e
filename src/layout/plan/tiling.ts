/**
 * A reference tiling of a plan's streamed matrices: one order-0 tile per block of at most
 * `rows` × `cols` (default 512 × the target's largest K), spread round-robin over the GEMV ports, in
 * plan order (every expert of a stacked tensor in turn). Not codegen's schedule: it exists so that
 * tests, benches and tools can build a WeightPlan and an image before codegen runs, with the same
 * transforms codegen must attach (transpose for [in, out] storage, scale_cols for folded norms).
 */
import type { DmaPort } from "../../codegen/program.js";
import type { LayoutPlan, StreamSegment, WeightTransform } from "../types.js";
import { tileBytes } from "./sizes.js";

export interface SimpleTilingOptions {
  readonly rows?: number;
  readonly cols?: number;
  /** Ports to spread the tiles over (default: the plan's GEMV ports). */
  readonly ports?: readonly string[];
  /** Consumer segment name recorded on every tile (default "decode"). */
  readonly segment?: string;
}

export function simpleTiling(plan: LayoutPlan, o: SimpleTilingOptions = {}): StreamSegment[] {
  const m = plan.machine!;
  const ports = o.ports ?? m.gemvPorts;
  const tileRows = o.rows ?? 512;
  const tileCols = o.cols ?? m.maxK;
  const folds = plan.tensors.filter((p) => p.placement === "folded");
  const used = new Map<string, number>(ports.map((p) => [p, 0]));
  const out: StreamSegment[] = [];
  let next = 0;
  for (const p of plan.tensors) {
    if (p.placement !== "stream") continue;
    const transforms: WeightTransform[] = [
      ...(p.transposed ? [{ kind: "transpose" as const }] : []),
      ...folds
        .filter((f) => f.foldedInto?.includes(p.tensor))
        .map((f) => ({ kind: "scale_cols" as const, by: f.tensor, offset: f.foldOffset ?? 0 })),
    ];
    const rows = p.rows ?? 1;
    const cols = p.cols ?? 1;
    for (let e = 0; e < (p.experts ?? 1); e++) {
      for (let r = 0; r < rows; r += tileRows) {
        for (let c = 0; c < cols; c += tileCols) {
          const port = ports[next++ % ports.length]!;
          const shape = { rows: Math.min(tileRows, rows - r), cols: Math.min(tileCols, cols - c) };
          const bytes = tileBytes({ ...shape, order: 0, group: p.group, scaleDtype: p.scaleDtype });
          const offset = used.get(port)!;
          used.set(port, offset + bytes);
          out.push({
            id: `${p.id ?? p.tensor}${p.experts !== undefined ? `#${e}` : ""}[${r}:${c}]`,
            port: port as DmaPort,
            offset,
            bytes,
            tensor: p.tensor,
            ...(p.experts !== undefined ? { expert: e } : {}),
            rows: { start: r, count: shape.rows },
            cols: { start: c, count: shape.cols },
            order: 0,
            group: p.group,
            scaleDtype: p.scaleDtype,
            transforms,
            consumer: { segment: o.segment ?? "decode", step: out.length },
          });
        }
      }
    }
  }
  return out;
}
