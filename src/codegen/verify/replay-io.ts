/**
 * DataMover commands, waits and host steps in a segment replay (docs/program.md §6): region bounds
 * and command sizes, outstanding limits and tags per channel, waits that could deadlock, host
 * reads of scratch bytes nothing wrote, DDR hazards between host steps and in-flight transfers,
 * and the variables host steps set.
 */
import { variableEffects } from "../host-ops/index.js";
import { evalReloc, type HostOperand, type Step } from "../program.js";
import { type Dma, operandBytes, type Range, type SegmentReplay } from "./replay-state.js";
import { label } from "./static.js";

type DmaStep = Extract<Step, { kind: "dma" }>;
type HostStep = Extract<Step, { kind: "host" }>;
type WaitStep = Extract<Step, { kind: "wait" }>;

export function dmaStep(r: SegmentReplay, s: DmaStep, i: number): void {
  const m = r.m;
  const off = r.value(s, i, "offset", s.offset);
  const bytes = r.value(s, i, "bytes", s.bytes);
  const noop = bytes === 0;
  const reg = r.ctx.regions.get(s.region);
  if (bytes < 0 || off < 0 || (reg && off + bytes > reg.bytes))
    r.err(
      "verify/region",
      `${label(s)} moves ${s.region}[${off}..${off + bytes}), outside the region (${reg?.bytes ?? 0} bytes)`,
      i,
    );
  if (bytes > m.maxDmaBytes)
    r.err(
      "verify/dma-size",
      `${label(s)} moves ${bytes} bytes, more than one command carries (${m.maxDmaBytes})`,
      i,
    );
  const list = r.channels.get(s.port) ?? [];
  r.channels.set(s.port, list);
  let real = 0;
  let tagUsed = false;
  for (const d of list) {
    if (!d.noop) real++;
    if (d.tag === s.tag) tagUsed = true;
  }
  if (!noop && real >= m.maxOutstanding)
    r.err(
      "verify/outstanding",
      `${label(s)} is the ${real + 1}th outstanding command on ${s.port} (limit ${m.maxOutstanding})`,
      i,
    );
  if (tagUsed) r.err("verify/tag", `${label(s)} reuses tag ${s.tag} of an outstanding ${s.port} command`, i);
  if (s.port === "acp_fmap" && s.region === "host") {
    if (!r.hostInit.covers(r.ddrKey(s.region, off), r.ddrKey(s.region, off + bytes)))
      r.err("verify/uninit-ddr", `${label(s)} sends host buffer bytes nothing wrote in this segment`, i);
  }
  const end = (r.issued.get(s.port) ?? 0) + bytes;
  r.issued.set(s.port, end);
  const d: Dma = {
    step: i,
    port: s.port,
    tag: s.tag,
    region: s.region,
    lo: off,
    hi: off + bytes,
    streamEnd: end,
    noop,
  };
  list.push(d);
  if (s.port.startsWith("hp") && !noop) {
    const q = r.streamQueue.get(s.port) ?? [];
    q.push({ step: i, bytes, dma: d });
    r.streamQueue.set(s.port, q);
  }
}

export function waitStep(r: SegmentReplay, s: WaitStep, i: number): void {
  if (s.on.kind === "npu-idle") {
    r.asyncPending.length = 0;
    return;
  }
  if (s.on.kind !== "dma") return;
  const on = s.on;
  const list = r.channels.get(on.port) ?? [];
  let idx = -1;
  for (let k = list.length - 1; k >= 0; k--)
    if (list[k]!.tag === on.tag) {
      idx = k;
      break;
    }
  if (idx < 0) {
    r.err(
      "verify/tag",
      `${label(s)} waits for tag ${on.tag} on ${on.port}, but no such command is outstanding`,
      i,
    );
    return;
  }
  const d = list[idx]!;
  const fifo = r.m.portFifoBytes[on.port] ?? 0;
  if (on.port.startsWith("hp") && (r.consumed.get(on.port) ?? 0) < d.streamEnd - fifo)
    r.err(
      "verify/deadlock",
      `${label(s)} waits for ${on.port} command (step ${d.step}) whose bytes no issued instruction has consumed yet`,
      i,
    );
  r.completeThrough(on.port, idx);
}

/** The host step with its relocated operand fields evaluated. */
function relocatedHost(r: SegmentReplay, s: HostStep, i: number): HostStep {
  if (!r.relocs[i]) return s;
  const fix = (ops: readonly HostOperand[], side: string) =>
    ops.map((o, k) => {
      const off = r.relocOf(i, `${side}[${k}].offset`);
      const el = r.relocOf(i, `${side}[${k}].elements`);
      return {
        ...o,
        ...(off ? { offset: evalReloc(off, r.vars) } : {}),
        ...(el ? { elements: evalReloc(el, r.vars) } : {}),
      };
    });
  return { ...s, inputs: fix(s.inputs, "inputs"), outputs: fix(s.outputs, "outputs") };
}

/** Whether one of `ops` overlaps the DDR key range `dr` (stops at the first hit). */
function anyHit(r: SegmentReplay, ops: readonly HostOperand[], dr: Range): boolean {
  for (const o of ops) {
    const lo = r.ddrKey(o.region, o.offset);
    const hi = r.ddrKey(o.region, o.offset + operandBytes(r.m, o));
    if (lo < dr[1] && dr[0] < hi) return true;
  }
  return false;
}

export function hostStep(r: SegmentReplay, s0: HostStep, i: number): void {
  const m = r.m;
  const s = relocatedHost(r, s0, i);
  for (const ops of [s.inputs, s.outputs])
    for (const o of ops) {
      const reg = r.ctx.regions.get(o.region);
      if (reg && o.offset + operandBytes(m, o) > reg.bytes)
        r.err(
          "verify/region",
          `${label(s)} operand ${o.region}[${o.offset}..+${operandBytes(m, o)}) exceeds the region (${reg.bytes} bytes)`,
          i,
        );
    }
  for (const o of s.inputs) {
    const lo = r.ddrKey(o.region, o.offset);
    const hi = r.ddrKey(o.region, o.offset + operandBytes(m, o));
    if (o.region === "host" && !r.hostInit.covers(lo, hi))
      r.err("verify/uninit-ddr", `${label(s)} reads host buffer bytes nothing wrote in this segment`, i);
  }
  for (const [port, list] of r.channels)
    for (const d of list) {
      const dr: Range = [r.ddrKey(d.region, d.lo), r.ddrKey(d.region, d.hi)];
      if (port === "acp_result" && (anyHit(r, s.inputs, dr) || anyHit(r, s.outputs, dr)))
        r.err(
          "verify/ddr-hazard",
          `${label(s)} uses DDR the ${port} command of step ${d.step} is still writing`,
          i,
        );
      if (port !== "acp_result" && anyHit(r, s.outputs, dr))
        r.err(
          "verify/ddr-hazard",
          `${label(s)} overwrites DDR the ${port} command of step ${d.step} is still reading`,
          i,
        );
    }
  // Outputs extend to whole L2 words (the host zero-fills the padding: host-ops rules).
  for (const o of s.outputs) {
    const end = o.offset + operandBytes(m, o);
    r.hostInit.add(
      r.ddrKey(o.region, o.offset),
      r.ddrKey(o.region, Math.ceil(end / m.wordBytes) * m.wordBytes),
    );
  }
  for (const [name, v] of variableEffects(s.fn, s.attrs, r.vars))
    r.vars.set(name, typeof v === "number" ? v : r.hostChoice(name, v.min, v.max));
}
