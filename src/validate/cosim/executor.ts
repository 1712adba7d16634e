/**
 * The simulator side of co-simulation: the functional simulator's machine state (SimState: L2,
 * constant cache, DDR regions, DataMover channels, hazards) driven event by event as the driver's
 * HAL calls arrive — an instruction word written to the NPU page executes at once, a DataMover
 * command queues on its channel, a status read pops a completed command, a cache flush writes the
 * driver's bytes into the simulated DDR and an invalidate reads them back. DDR starts empty: every
 * byte the NPU reads got there through the driver's flushes. Faults are collected, not thrown.
 * Instructions, DataMover commands and the end-of-segment contract go through the functional
 * machine's step-level API (src/validate/sim/machine.ts), so both simulators share one semantics.
 */
import type { DmaStep, Program, Segment } from "../../codegen/program.js";
import { decode } from "../../isa/index.js";
import type { Target } from "../../target/index.js";
import type { RegionMem } from "../sim/ddr.js";
import { asFault, type FaultLog, fault } from "../sim/faults.js";
import { FunctionalMachine, type IssuedCommand } from "../sim/machine.js";
import { isaOptionsFor } from "../sim/npu.js";
import { EMPTY_IMAGE } from "../sim/run.js";
import type { SimState, StepCtx } from "../sim/state.js";
import type { Fault, NumericMode } from "../sim/types.js";
import { decodeDmCommand, okayStatus } from "./datamover.js";

/** Where DMA buffers start in the simulated bus address space (4 KiB aligned, below 2^32). */
export const BUFFER_BASE = 0x1000_0000;

interface Buffer {
  readonly name: string;
  readonly phys: number;
  readonly bytes: number;
}

export interface ExecutorOptions {
  /** Status reads answered BUSY after each instruction before the NPU reports idle (exercises polling). */
  readonly busyPolls?: number;
  readonly maxFaults?: number;
  /** The simulator's numeric mode (default hardware, as the board computes). */
  readonly mode?: NumericMode;
}

export class CosimExecutor {
  readonly machine: FunctionalMachine;
  readonly state: SimState;
  readonly faults: FaultLog;
  /** Server-side event log: the lines pccx_hal_sim.c writes, in arrival order. */
  readonly events: string[] = [];
  readonly buffers: Buffer[] = [];
  private nextPhys = BUFFER_BASE;
  private busy = 0;
  private instructions = 0;
  /** Per channel, the commands whose status the driver has not read yet (the status FIFO). */
  private issued = new Map<string, IssuedCommand[]>();
  private segment: Segment | undefined;
  private run = -1;
  private cursor = 0;
  private readonly channels: string[];

  constructor(
    readonly program: Program,
    readonly target: Target,
    readonly options: ExecutorOptions = {},
  ) {
    this.machine = new FunctionalMachine(program, EMPTY_IMAGE, target, {
      mode: options.mode ?? "hardware",
      maxFaults: options.maxFaults ?? 100,
    });
    this.state = this.machine.state;
    this.faults = this.machine.log;
    this.channels = target.file.datamover.channels.map((c) => c.name);
  }

  get faultList(): readonly Fault[] {
    return this.faults.faults;
  }

  /** The next step of the current segment of the given kinds (for fault locations). */
  private ctx(kind: "npu" | "dma"): StepCtx {
    const seg = this.segment;
    if (!seg) return { segment: "(none)", step: -1, label: "outside any segment" };
    while (this.cursor < seg.steps.length) {
      const s = seg.steps[this.cursor++]!;
      if (s.kind === kind) {
        return {
          segment: seg.name,
          step: this.cursor - 1,
          label: s.origin.label,
          ...(s.kind === "npu" && s.intent ? { intent: s.intent } : {}),
        };
      }
    }
    return { segment: seg.name, step: -1, label: `an extra ${kind} event` };
  }

  private guard(ctx: StepCtx, f: () => void): void {
    try {
      f();
    } catch (e) {
      const sf = asFault(e, "bad-instr");
      if (!sf) throw e;
      this.faults.add(
        sf.kind,
        { segment: ctx.segment, step: ctx.step, run: this.run, origin: ctx.label },
        sf.detail,
      );
    }
  }

  npuWrite(offset: number, value: bigint, line: string): void {
    this.events.push(line);
    const ctx = this.ctx("npu");
    this.guard(ctx, () => {
      if (offset !== this.target.file.mmio.instruction_offset) {
        throw fault(
          "bad-instr",
          `64-bit store at NPU offset 0x${offset.toString(16)}: instructions go to 0x${this.target.file.mmio.instruction_offset.toString(16)}`,
        );
      }
      const instr = decode(value, "strict", isaOptionsFor(this.target));
      if (!this.target.file.isa.opcodes.some((o) => o.mnemonic === instr.opcode)) {
        throw fault("bad-instr", `target ${this.target.file.name} has no ${instr.opcode} instruction`);
      }
      this.instructions++;
      this.busy = this.options.busyPolls ?? 1;
      this.machine.npu(instr, ctx);
    });
  }

  npuRead(offset: number): bigint {
    const m = this.target.file.mmio;
    if (offset !== m.status_offset) return 0n;
    if (this.busy > 0) {
      this.busy--;
      return 1n << BigInt(m.busy_bit);
    }
    this.state.hazards.npuIdle();
    return this.instructions > 0 ? 1n << BigInt(m.done_bit) : 0n;
  }

  private bufferAt(addr: number, bytes: number): { buf: Buffer; off: number } | undefined {
    const buf = this.buffers.find((b) => addr >= b.phys && addr + bytes <= b.phys + Math.max(b.bytes, 1));
    return buf ? { buf, off: addr - buf.phys } : undefined;
  }

  private region(name: string): RegionMem {
    const r = this.state.ddr.region(name);
    if (!r) throw fault("addr-range", `the program has no DDR region "${name}"`);
    return r;
  }

  dmPush(port: number, lo: bigint, hi: bigint, line: string): void {
    this.events.push(line);
    const ctx = this.ctx("dma");
    this.guard(ctx, () => {
      const channel = this.channels[port];
      if (channel === undefined) throw fault("bad-instr", `DataMover port ${port} does not exist`);
      const c = decodeDmCommand(this.target, lo, hi);
      const hit = this.bufferAt(Number(c.address), c.bytes);
      if (!hit)
        throw fault(
          "addr-range",
          `DataMover ${channel}: ${c.bytes} bytes at 0x${c.address.toString(16)} are in no allocated DMA buffer`,
        );
      if (c.bytes === 0)
        throw fault("bad-instr", `DataMover ${channel}: a command of 0 bytes (the driver must skip them)`);
      const step: DmaStep = {
        kind: "dma",
        port: channel as DmaStep["port"],
        region: hit.buf.name,
        offset: hit.off,
        bytes: c.bytes,
        tag: c.tag,
        origin: { label: ctx.label },
      };
      const issued = this.machine.dma(step, ctx);
      if (!issued) return;
      const list = this.issued.get(channel) ?? [];
      this.issued.set(channel, list);
      list.push(issued);
    });
  }

  /** The oldest command of the port if it has completed (its status byte), else 0 (FIFO empty). */
  dmStatus(port: number): number {
    const channel = this.channels[port];
    const list = channel ? this.issued.get(channel) : undefined;
    const head = list?.[0];
    if (!channel || !list || !head?.complete()) return 0;
    list.shift();
    if (this.state.outStreams.has(channel)) this.state.hazards.dmaDone(channel, head.cmd.seq);
    return okayStatus(this.target, head.cmd.tag);
  }

  alloc(name: string, bytes: number): { status: number; phys: number } {
    const r = this.program.ddr.find((d) => d.name === name);
    if (!r || bytes > Math.max(r.bytes, 1) || this.buffers.some((b) => b.name === name))
      return { status: 6, phys: 0 };
    const phys = this.nextPhys;
    this.buffers.push({ name, phys, bytes });
    this.nextPhys += Math.ceil(Math.max(bytes, 1) / 4096) * 4096;
    return { status: 0, phys };
  }

  flush(addr: number, data: Uint8Array): void {
    const hit = this.bufferAt(addr, data.length);
    if (!hit) {
      this.faults.add(
        "addr-range",
        { segment: this.segment?.name ?? "(none)", step: -1, run: this.run, origin: "cache flush" },
        `flush of ${data.length} bytes at 0x${addr.toString(16)} outside every buffer`,
      );
      return;
    }
    const r = this.region(hit.buf.name);
    r.bytes.set(data, hit.off);
    r.refreshWide(hit.off, data.length);
  }

  /**
   * Exact co-simulation: the driver's shadows of [addr, addr + bytes) (2-byte aligned) replace the
   * region's — its float32 copy of the BF16 slots (`wide`) or its unrounded INT4 codes (`codes`) —
   * right after the FLUSH of the same bytes, so the region holds what the simulator's exact mode
   * would: data crossing DDR never rounded, KV codes never quantized (docs/simulator.md).
   */
  putShadow(kind: "wide" | "codes", addr: number, bytes: number, values: Float32Array): void {
    // the range may end one byte past an odd-sized buffer (its last slot): the address finds it
    const hit = this.bufferAt(addr, Math.min(bytes, 1));
    if (!hit) {
      this.faults.add(
        "addr-range",
        { segment: this.segment?.name ?? "(none)", step: -1, run: this.run, origin: "cache flush" },
        `exact ${kind} of ${bytes} bytes at 0x${addr.toString(16)} outside every buffer`,
      );
      return;
    }
    const r = this.region(hit.buf.name);
    const dst = kind === "wide" ? r.wideCopy() : r.codes();
    const first = kind === "wide" ? hit.off >>> 1 : 2 * hit.off;
    dst.set(values.subarray(0, Math.max(0, Math.min(values.length, dst.length - first))), first);
  }

  getShadow(kind: "wide" | "codes", addr: number, bytes: number): Float32Array | undefined {
    const hit = this.bufferAt(addr, Math.min(bytes, 1));
    if (!hit) return undefined;
    const r = this.region(hit.buf.name);
    const n = kind === "wide" ? bytes >>> 1 : 2 * bytes;
    const first = kind === "wide" ? hit.off >>> 1 : 2 * hit.off;
    const out = new Float32Array(n);
    if (kind === "wide") out.set(r.wideCopy().subarray(first, first + n));
    else if (r.exactCodes) out.set(r.exactCodes.subarray(first, first + n));
    else out.fill(Number.NaN);
    return out;
  }

  invalidate(addr: number, len: number): Uint8Array | undefined {
    const hit = this.bufferAt(addr, len);
    return hit ? this.region(hit.buf.name).bytes.slice(hit.off, hit.off + len) : undefined;
  }

  note(text: string): void {
    this.events.push(`# ${text}`);
    const m = /^run (\d+) segment (\S+) pos (\d+)$/.exec(text);
    if (m) {
      this.segment = this.program.segments.find((s) => s.name === m[2]);
      this.run = Number(m[1]);
      this.machine.beginRun();
      this.cursor = 0;
      this.issued.clear();
      return;
    }
    if (text.startsWith("end ")) this.endOfSegment();
  }

  /** The end-of-segment contract of the functional machine: nothing left on a port, nothing in flight. */
  private endOfSegment(): void {
    this.machine.endSegment({ segment: this.segment?.name ?? "(none)", step: -1, run: this.run, origin: "" });
    this.segment = undefined;
  }
}
