/**
 * verifyProgram(program, target) → Diagnostic[]: proves a program free of the faults the contract
 * forbids (docs/program.md §6, docs/codegen.md "The checker"). Static checks first (encoding, field
 * ranges, directions, regions, host functions, relocations); then every segment is replayed for
 * several assignments of the per-token variables (positions at the edges of each ring and chunk,
 * first and last token rows, the smallest and largest expert) through an abstract machine that
 * checks address ranges, constant entries written before use, RAW/WAR hazards on L2 and DDR without
 * a wait, weight streams (DMA bytes = tile bytes, issued before the consumer, nothing left over),
 * host↔L2 MEMCPY pairing, DataMover outstanding limits and tags, deadlock-free waits and e_max.
 */
import type { Diagnostic } from "../../diag/index.js";
import type { Target } from "../../target/index.js";
import { machineOf } from "../machine.js";
import type { Program } from "../program.js";
import { type SimContext, simulateSegment } from "./simulate.js";
import { staticChecks } from "./static.js";

export interface VerifyOptions {
  /** Positions to replay decode at (default: samplePositions). */
  readonly positions?: readonly number[];
  /**
   * Positions to replay prefill at (default: 0, the smallest ring's wrap, the last chunk): prefill
   * relocations follow the same formulas as decode's row by row, so fewer samples cover them.
   */
  readonly prefillPositions?: readonly number[];
}

/**
 * Positions worth checking: the first token, a row inside the second 32-slot block, every ring's wrap
 * (its capacity), the first row past an attention chunk, the last position.
 */
export function samplePositions(p: Program): number[] {
  const caps = new Set<number>();
  let chunk = 0;
  for (const s of p.segments)
    for (const st of s.steps)
      if (st.kind === "host" && (st.fn === "kv_write" || st.fn === "kv_view")) {
        const c = st.attrs.capacity;
        if (typeof c === "number") caps.add(c);
        if (typeof st.attrs.chunk === "number") chunk = st.attrs.chunk;
      }
  const ctx = p.context ?? Math.max(1, ...caps);
  const raw = [0, 33, ctx - 1, ...caps];
  if (chunk > 0) raw.push(chunk + 1);
  return [...new Set(raw.filter((x) => x >= 0 && x < ctx))].sort((a, b) => a - b);
}

/** The largest token id every token-relocated DMA accepts. */
function tokenMax(p: Program): number {
  let max = Number.POSITIVE_INFINITY;
  const bytes = new Map(p.ddr.map((r) => [r.name, r.bytes]));
  for (const r of p.relocations) {
    const t = r.expr.terms.find((x) => x.variable.startsWith("token"));
    if (!t || r.field !== "offset") continue;
    const seg = p.segments.find((s) => s.name === r.segment);
    const st = seg?.steps[r.step];
    if (st?.kind !== "dma") continue;
    const room = (bytes.get(st.region) ?? 0) - r.expr.base - st.bytes;
    max = Math.min(max, Math.floor(room / t.stride));
  }
  return Number.isFinite(max) ? Math.max(0, max) : 0;
}

export function verifyProgram(program: Program, target: Target, opts: VerifyOptions = {}): Diagnostic[] {
  const m = machineOf(target);
  const out: Diagnostic[] = [];
  if (program.targetFingerprint !== target.fingerprint)
    out.push({
      code: "verify/target",
      severity: "error",
      message: `program was generated for ${program.targetFingerprint}, not ${target.fingerprint}`,
    });
  out.push(...staticChecks(program, m));
  const space = target.derived.l2.address_space_words;
  const pinned = new Uint8Array(space);
  for (const a of program.allocations)
    if (a.space === "l2" && a.segment === undefined)
      pinned.fill(1, a.offset, Math.min(space, a.offset + a.size));
  const ctx: SimContext = {
    relocCache: new Map(),
    m,
    p: program,
    regions: new Map(program.ddr.map((r) => [r.name, { bytes: r.bytes }])),
    constAfterLoad: new Map(),
    l2AfterLoad: new Uint8Array(space),
    pinnedWords: pinned,
  };
  const load = program.segments.findIndex((s) => s.kind === "load");
  if (load >= 0) simulateSegment(ctx, load, new Map(), () => 0, out, "");
  const positions = opts.positions ?? samplePositions(program);
  const caps = positions.filter((x) => x > 33 && x < (program.context ?? Infinity) - 1);
  const prefillPositions = opts.prefillPositions ?? [
    0,
    ...(caps.length ? [Math.min(...caps)] : []),
    Number.MAX_SAFE_INTEGER,
  ];
  const tmax = tokenMax(program);
  program.segments.forEach((seg, si) => {
    if (seg.kind === "load") return;
    const rows = Math.max(1, program.variables.filter((v) => v.name.startsWith("token[")).length);
    const context = program.context ?? Number.POSITIVE_INFINITY;
    (seg.kind === "prefill" ? prefillPositions : positions).forEach((pos0, k) => {
      const pos =
        seg.kind === "prefill" ? Math.max(0, Math.min(pos0, context - rows, seg.maxPos ?? Infinity)) : pos0;
      const vars = new Map<string, number>([["pos", pos]]);
      const tok = k % 2 === 0 ? 0 : tmax;
      vars.set("token", tok);
      for (let t = 0; t < rows; t++) vars.set(`token[${t}]`, (tok + t) % (tmax + 1));
      const choice = (_: string, min: number, max: number) =>
        k % 3 === 0 ? min : k % 3 === 1 ? max : Math.floor((min + max) / 2);
      simulateSegment(ctx, si, vars, choice, out, ` [segment ${seg.name}, pos ${pos}, token ${tok}]`);
    });
  });
  return out;
}
