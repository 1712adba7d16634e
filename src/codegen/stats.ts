/**
 * Figures about a generated program: instruction counts by opcode and segment, host steps by
 * function, DMA bytes per port per token (at the first position and with every ring full),
 * L2 peak and fragmentation per segment, constant-cache use.
 */

import type { ConstStats } from "./alloc/const.js";
import type { L2Stats } from "./alloc/l2.js";
import { variableEffects } from "./host-ops/index.js";
import { evalReloc, type Program } from "./program.js";

export interface SegmentStats {
  readonly steps: number;
  readonly instructions: Readonly<Record<string, number>>;
  readonly hostSteps: Readonly<Record<string, number>>;
  readonly waits: number;
  readonly dmaCommands: number;
  /** DMA bytes per channel for the first token (pos 0) and with every ring full. */
  readonly dmaBytesFirst: Readonly<Record<string, number>>;
  readonly dmaBytesFull: Readonly<Record<string, number>>;
}

export interface CodegenStats {
  readonly segments: Readonly<Record<string, SegmentStats>>;
  readonly l2: readonly L2Stats[];
  readonly programL2Words: number;
  readonly constCache: readonly ConstStats[];
  readonly streamSegments: number;
  readonly weightBytes: Readonly<Record<string, number>>;
  readonly ddrBytes: number;
  readonly programBytes: number;
  readonly prefillChunk?: number;
  /** Choices that cost performance (host attention, prefill limits, duplicated tiles). */
  readonly notes: readonly string[];
  /** Wall time of each pass, milliseconds (not deterministic; excluded from the program). */
  readonly passMs: Readonly<Record<string, number>>;
}

/** DMA bytes per channel of one segment replay at position `pos` (variables from host effects). */
export function dmaBytesAt(p: Program, segment: string, pos: number): Record<string, number> {
  const seg = p.segments.find((s) => s.name === segment);
  const out: Record<string, number> = {};
  if (!seg) return out;
  const vars = new Map<string, number>([
    ["pos", pos],
    ["token", 0],
  ]);
  for (const v of p.variables) if (v.name.startsWith("token[")) vars.set(v.name, 0);
  const relocs = new Map<string, (typeof p.relocations)[number]>();
  for (const r of p.relocations) if (r.segment === segment) relocs.set(`${r.step}:${r.field}`, r);
  seg.steps.forEach((s, i) => {
    if (s.kind === "host")
      for (const [k, v] of variableEffects(s.fn, s.attrs, vars))
        vars.set(k, typeof v === "number" ? v : v.min);
    if (s.kind !== "dma") return;
    const r = relocs.get(`${i}:bytes`);
    const b = r ? evalReloc(r.expr, vars) : s.bytes;
    out[s.port] = (out[s.port] ?? 0) + b;
  });
  return out;
}

export function segmentStats(p: Program, fullPos: number): Record<string, SegmentStats> {
  const out: Record<string, SegmentStats> = {};
  for (const seg of p.segments) {
    const instructions: Record<string, number> = {};
    const hostSteps: Record<string, number> = {};
    let waits = 0;
    let dma = 0;
    for (const s of seg.steps) {
      if (s.kind === "npu") instructions[s.instr.opcode] = (instructions[s.instr.opcode] ?? 0) + 1;
      else if (s.kind === "host") hostSteps[s.fn] = (hostSteps[s.fn] ?? 0) + 1;
      else if (s.kind === "wait") waits++;
      else dma++;
    }
    out[seg.name] = {
      steps: seg.steps.length,
      instructions,
      hostSteps,
      waits,
      dmaCommands: dma,
      dmaBytesFirst: dmaBytesAt(p, seg.name, 0),
      dmaBytesFull: dmaBytesAt(p, seg.name, fullPos),
    };
  }
  return out;
}
