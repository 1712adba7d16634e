/**
 * The functional machine: replays segments step by step over persistent state, patching
 * relocations with the variables of each run, and checks the end-of-segment contract (nothing
 * left on a port, no unpaired transfer, nothing in flight). Faults abort only the step that caused
 * them; the run continues until `maxFaults`.
 */
import type {
  DmaStep,
  HostStep,
  Program,
  Relocation,
  Segment,
  Step,
  WaitStep,
} from "../../codegen/program.js";
import { usageError } from "../../diag/index.js";
import type { Instr } from "../../isa/index.js";
import type { Target } from "../../target/index.js";
import { ELEM_BYTES, type ElemType } from "./ddr.js";
import { asFault, type FaultAt, FaultLog, fault } from "./faults.js";
import { Hazards } from "./hazards.js";
import { execHost } from "./host.js";
import { execNpu, instrOf } from "./npu.js";
import { SimState, type StepCtx } from "./state.js";
import type { Command } from "./streams.js";
import type { FunctionalResult, RegionRead, SimOptions, WeightImage } from "./types.js";

const relocIndex = new WeakMap<Program, ReadonlyMap<string, ReadonlyMap<number, readonly Relocation[]>>>();

function relocationsOf(p: Program, segment: string): ReadonlyMap<number, readonly Relocation[]> {
  let idx = relocIndex.get(p);
  if (!idx) {
    const m = new Map<string, Map<number, Relocation[]>>();
    for (const r of p.relocations) {
      const seg = m.get(r.segment) ?? new Map<number, Relocation[]>();
      m.set(r.segment, seg);
      seg.set(r.step, [...(seg.get(r.step) ?? []), r]);
    }
    idx = m;
    relocIndex.set(p, idx);
  }
  return idx.get(segment) ?? new Map();
}

/** A DataMover command the machine accepted; `complete()` tells whether its transfer is done. */
export interface IssuedCommand {
  readonly cmd: Command;
  readonly complete: () => boolean;
}

export class FunctionalMachine {
  readonly state: SimState;
  readonly log: FaultLog;
  /** Index of the next segment run. */
  runs = 0;
  private issued: IssuedCommand[] = [];

  constructor(
    readonly program: Program,
    image: WeightImage,
    readonly target: Target,
    readonly options: SimOptions = {},
  ) {
    this.state = new SimState(target, program, image, options.mode ?? "hardware", options.exactParts);
    this.log = new FaultLog(options.throwOnFault ?? false, options.maxFaults ?? 100);
  }

  segment(name: string): Segment {
    const seg = this.program.segments.find((s) => s.name === name);
    if (!seg) {
      throw usageError("sim/unknown-segment", `the program has no segment "${name}"`, {
        fix: `segments: ${this.program.segments.map((s) => s.name).join(", ")}`,
      });
    }
    return seg;
  }

  /** Replays one segment with the driver's variables. */
  runSegment(name: string, variables: Readonly<Record<string, number>>): void {
    for (const _ of this.stepSegment(name, variables));
  }

  /**
   * `runSegment` one step at a time: yields each step's index after executing it, for tools that
   * inspect the state between steps (the per-op error trace, `op-error.ts`); the end-of-segment
   * checks run when the iteration completes.
   */
  *stepSegment(name: string, variables: Readonly<Record<string, number>>): Generator<number, void, void> {
    const seg = this.segment(name);
    const s = this.state;
    const run = this.beginRun(variables);
    const relocs = relocationsOf(this.program, seg.name);
    for (let i = 0; i < seg.steps.length && !this.log.full; i++) {
      const step = seg.steps[i]!;
      const ctx: StepCtx = {
        segment: seg.name,
        step: i,
        label: step.origin.label,
        ...(step.kind === "npu" && step.intent !== undefined ? { intent: step.intent } : {}),
      };
      s.counters.steps++;
      try {
        this.exec(step, relocs.get(i), ctx);
      } catch (e) {
        const f = asFault(e, "bad-instr");
        if (!f) throw e;
        this.log.add(f.kind, { segment: seg.name, step: i, run, origin: step.origin.label }, f.detail);
      }
      yield i;
    }
    this.endOfSegment({ segment: seg.name, step: -1, run, origin: "" });
  }

  /*
   * The step-level API: what `runSegment` does step by step, for callers that drive the machine
   * event by event (co-simulation replays the C driver's HAL calls through it). A step method
   * throws a SimFault; the caller records it (runSegment in `log`).
   */

  /** Starts a segment run: the driver's variables replace the previous run's; returns its index. */
  beginRun(variables: Readonly<Record<string, number>> = {}): number {
    const s = this.state;
    s.variables.clear();
    for (const [k, v] of Object.entries(variables)) s.variables.set(k, v);
    return this.runs++;
  }

  /** Executes one decoded instruction word. */
  npu(instr: Instr, ctx: StepCtx): void {
    this.state.counters.npu++;
    execNpu(this.state, instr, ctx);
  }

  /**
   * Issues one DataMover command (a dma step, already relocated): an input channel's bytes become
   * available to the port, an output channel waits for its MEMCPY L2→host. Undefined for 0 bytes
   * (a no-op, docs/program.md §2).
   */
  dma(step: DmaStep, ctx: StepCtx): IssuedCommand | undefined {
    this.state.counters.dma++;
    return this.issueDma(step, ctx);
  }

  /** Runs one host step (already relocated). */
  host(step: HostStep, ctx: StepCtx): void {
    this.state.counters.host++;
    execHost(this.state, step, ctx);
  }

  /** A wait step: the NPU idle, or a command of this segment run complete. */
  wait(step: WaitStep): void {
    this.state.counters.waits++;
    this.waitOn(step);
  }

  /**
   * Ends the segment run: logs what breaks the end-of-segment contract (bytes left on a port, an
   * unpaired L2→host command, a range still in flight) and resets the ports and issued commands.
   */
  endSegment(at: FaultAt): void {
    this.endOfSegment(at);
  }

  private exec(step: Step, relocs: readonly Relocation[] | undefined, ctx: StepCtx): void {
    const patches = relocs ? this.patches(relocs) : undefined;
    switch (step.kind) {
      case "npu":
        this.npu(instrOf(this.state, step, patches), ctx);
        return;
      case "dma":
        this.dma(patches ? patchDma(step, patches) : step, ctx);
        return;
      case "host":
        this.host(patches ? patchHost(step, patches) : step, ctx);
        return;
      case "wait":
        this.wait(step);
        return;
    }
  }

  /**
   * Step `i` of a segment with its relocations patched from the current variables (for tools;
   * NPU steps are returned as written, their fields are patched when they execute).
   */
  resolvedStep(segment: string, i: number): Step {
    const step = this.segment(segment).steps[i]!;
    const relocs = relocationsOf(this.program, segment).get(i);
    if (!relocs || step.kind === "npu" || step.kind === "wait") return step;
    const p = this.patches(relocs);
    return step.kind === "dma" ? patchDma(step, p) : patchHost(step, p);
  }

  /** Field → value of every relocation of the step, evaluated with the current variables. */
  private patches(relocs: readonly Relocation[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of relocs) {
      let v = r.expr.base;
      for (const t of r.expr.terms) {
        const x = this.state.variables.get(t.variable);
        if (x === undefined) {
          throw fault(
            "reloc",
            `relocation of field ${r.field} needs variable ${t.variable}, which is not set`,
          );
        }
        v += t.stride * x;
      }
      if (r.expr.min !== undefined) v = Math.max(r.expr.min, v);
      if (r.expr.max !== undefined) v = Math.min(r.expr.max, v);
      if (!Number.isSafeInteger(v) || v < 0) {
        throw fault("reloc", `relocated field ${r.field} = ${v} is not a non-negative integer`);
      }
      out.set(r.field, v);
    }
    return out;
  }

  private issueDma(step: DmaStep, ctx: StepCtx): IssuedCommand | undefined {
    const s = this.state;
    const t = this.target.file;
    const what = `dma ${step.port}`;
    const max = this.target.derived.datamover.max_command_bytes;
    if (!Number.isInteger(step.bytes) || step.bytes < 0 || step.bytes > max) {
      throw fault("bad-instr", `${what}: ${step.bytes} bytes is not a DataMover byte count (0..${max})`);
    }
    if (!Number.isInteger(step.tag) || step.tag < 0 || step.tag >= this.target.derived.datamover.tags) {
      throw fault(
        "bad-instr",
        `${what}: tag ${step.tag} does not fit the ${t.datamover.command.tag_bits}-bit tag`,
      );
    }
    const region = s.ddr.at(step.region, step.offset, step.bytes, what);
    if (step.bytes === 0) {
      // Relocated to nothing: not issued (docs/program.md §2). A wait on its tag completes when the
      // commands issued before it on its channel have completed, as a zero-length command would.
      this.issued.push(this.zeroLengthMarker(step, ctx));
      return undefined;
    }
    const base = {
      seq: s.dmaSeq++,
      channel: step.port,
      tag: step.tag,
      step: ctx.step,
      region,
      off: step.offset,
      len: step.bytes,
    };
    const inp = s.inStreams.get(step.port);
    if (inp) {
      s.hazards.checkRead(`ddr:${step.region}`, step.offset, step.offset + step.bytes, what);
      const cmd = inp.issue(base);
      const issued = { cmd, complete: () => inp.complete(cmd) };
      this.issued.push(issued);
      return issued;
    }
    const out = s.outStreams.get(step.port);
    if (!out) {
      throw fault("bad-instr", `${what}: target ${t.name} has no DataMover channel "${step.port}"`);
    }
    const cmd: Command = { ...base, start: 0 };
    out.queue.push(cmd);
    const issued = { cmd, complete: () => cmd.filled === true };
    this.issued.push(issued);
    return issued;
  }

  private zeroLengthMarker(step: DmaStep, ctx: StepCtx): IssuedCommand {
    // Only real commands: a marker is complete when its own earlier commands are, so chaining
    // markers would re-check the same commands recursively (exponential in the number of markers).
    const earlier = this.issued.filter((c) => c.cmd.channel === step.port && c.cmd.len > 0);
    const cmd = {
      seq: this.state.dmaSeq - 1,
      channel: step.port,
      tag: step.tag,
      step: ctx.step,
      off: step.offset,
      len: 0,
    } as unknown as Command;
    // Completion is monotonic: skip the commands already seen complete.
    let from = 0;
    const complete = (): boolean => {
      while (from < earlier.length && earlier[from]!.complete()) from++;
      return from === earlier.length;
    };
    return { cmd, complete };
  }

  private waitOn(step: WaitStep): void {
    const s = this.state;
    const on = step.on;
    if (on.kind === "npu-idle") {
      s.hazards.npuIdle();
      return;
    }
    if (on.kind === "host") return; // host steps finish on the driver thread
    const found = this.issued.findLast((c) => c.cmd.channel === on.port && c.cmd.tag === on.tag);
    if (!found) {
      throw fault(
        "wait",
        `wait on ${on.port} tag ${on.tag}: no DataMover command with that tag was issued on ${on.port} in this segment`,
      );
    }
    if (!found.complete()) {
      const why = s.outStreams.has(on.port)
        ? "no MEMCPY L2→host has produced its data yet"
        : "its bytes enter the port FIFO only as later instructions consume the ones before them";
      throw fault(
        "wait",
        `wait on ${on.port} tag ${on.tag} (step ${found.cmd.step}) never completes: ${why}`,
      );
    }
    s.hazards.dmaDone(on.port, found.cmd.seq);
  }

  private endOfSegment(at: FaultAt): void {
    const s = this.state;
    const l2In = s.l2Channel("in");
    for (const st of s.inStreams.values()) {
      if (st.available > 0) {
        const kind = st === l2In ? "memcpy-unpaired" : "stream-overrun";
        const why = st === l2In ? "no MEMCPY host→L2 took them" : "no instruction consumed them";
        this.log.add(kind, at, `${st.available} bytes DMA'd on ${st.name} are left over: ${why}`);
      }
      st.reset();
    }
    for (const st of s.outStreams.values()) {
      for (const c of st.unfilled()) {
        this.log.add(
          "memcpy-unpaired",
          at,
          `the ${st.name} command of step ${c.step} (${c.len} bytes) has no MEMCPY L2→host`,
        );
      }
      st.queue.length = 0;
    }
    for (const p of s.hazards.drain()) {
      this.log.add(
        "wait",
        at,
        `the segment ends while step ${p.step} (${p.label}) is still producing ${Hazards.describe(p.space, p.start, p.end)}: add a ${Hazards.waitFor(p.until)}`,
      );
    }
    this.issued = [];
  }

  /** Reads a DDR region (typically the logits) as float32 values. */
  read(spec: RegionRead): Float32Array {
    const r = this.state.ddr.region(spec.region);
    if (!r) throw usageError("sim/unknown-region", `the program has no DDR region "${spec.region}"`);
    const type: ElemType = spec.dtype ?? (r.lastType === "int4" ? "bf16" : r.lastType) ?? "bf16";
    const off = spec.offset ?? 0;
    const n = spec.elements ?? Math.floor((r.def.bytes - off) / ELEM_BYTES[type]);
    if (off < 0 || off + n * ELEM_BYTES[type] > r.def.bytes) {
      throw usageError(
        "sim/read-range",
        `reading ${n} ${type} at ${off} overruns region "${spec.region}" (${r.def.bytes} bytes)`,
      );
    }
    return this.state.ddr.readTyped(r, off, n, type);
  }

  result(outputs: readonly (readonly Float32Array[])[] = []): FunctionalResult {
    const c = this.state.counters;
    return {
      faults: [...this.log.faults],
      outputs,
      stats: { ...c, streamBytes: { ...c.streamBytes } },
    };
  }
}

const DMA_FIELDS = new Set(["offset", "bytes", "tag"]);

function patchDma(step: DmaStep, patches: ReadonlyMap<string, number>): DmaStep {
  for (const field of patches.keys()) {
    if (!DMA_FIELDS.has(field)) throw fault("reloc", `a dma step has no relocatable field ${field}`);
  }
  return { ...step, ...Object.fromEntries(patches) };
}

/** A host step with relocated operand fields (`inputs[i].offset`, `outputs[i].elements`, ...). */
function patchHost(step: HostStep, patches: ReadonlyMap<string, number>): HostStep {
  const io = { inputs: step.inputs.map((o) => ({ ...o })), outputs: step.outputs.map((o) => ({ ...o })) };
  for (const [field, v] of patches) {
    const m = /^(inputs|outputs)\[(\d+)\]\.(offset|elements)$/.exec(field);
    const target = m ? io[m[1] as "inputs" | "outputs"][Number(m[2])] : undefined;
    if (!m || !target) throw fault("reloc", `host step has no relocatable field ${field}`);
    (target as { offset: number; elements: number })[m[3] as "offset" | "elements"] = v;
  }
  return { ...step, ...io };
}
