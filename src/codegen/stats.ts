/**
 * Figures about a generated program: instruction counts by opcode and segment, host steps by
 * function, DMA bytes per port per token (at the first position and with every ring full) and
 * those of them read from the KV rings,
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
  /** Of those, the bytes read from the KV rings (pos 0 / every ring full); see kvBytesAt. */
  readonly kvBytesFirst: number;
  readonly kvBytesFull: number;
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
  return dmaReplay(p, segment, pos).byChannel;
}

/**
 * Bytes the DMA steps of one segment replay at position `pos` read from the KV rings (regions of
 * kind kv): what attention really streams, counting a KV head's tiles once per query head that
 * reads them (docs/codegen.md "Attention"). Host attention reads the rings on the ARM cores: 0.
 */
export function kvBytesAt(p: Program, segment: string, pos: number): number {
  return dmaReplay(p, segment, pos).kv;
}

function dmaReplay(
  p: Program,
  segment: string,
  pos: number,
): { byChannel: Record<string, number>; kv: number } {
  const seg = p.segments.find((s) => s.name === segment);
  const out: Record<string, number> = {};
  let kv = 0;
  if (!seg) return { byChannel: out, kv };
  const kvRegions = new Set(p.ddr.filter((r) => r.kind === "kv").map((r) => r.name));
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
    if (kvRegions.has(s.region)) kv += b;
  });
  return { byChannel: out, kv };
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
    const first = dmaReplay(p, seg.name, 0);
    const full = dmaReplay(p, seg.name, fullPos);
    out[seg.name] = {
      steps: seg.steps.length,
      instructions,
      hostSteps,
      waits,
      dmaCommands: dma,
      dmaBytesFirst: first.byChannel,
      dmaBytesFull: full.byChannel,
      kvBytesFirst: first.kv,
      kvBytesFull: full.kv,
    };
  }
  return out;
}
