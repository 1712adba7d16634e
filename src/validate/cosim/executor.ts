/**
 * The simulator side of co-simulation: the functional simulator's machine state (SimState: L2,
 * constant cache, DDR regions, DataMover channels, hazards) driven event by event as the driver's
 * HAL calls arrive — an instruction word written to the NPU page executes at once, a DataMover
 * command queues on its channel, a status read pops a completed command, a cache flush writes the
 * driver's bytes into the simulated DDR and an invalidate reads them back. DDR starts empty: every
 * byte the NPU reads got there through the driver's flushes. Faults are collected, not thrown.
 */
import type { Program, Segment } from "../../codegen/program.js";
import { decode } from "../../isa/index.js";
import type { Target } from "../../target/index.js";
import type { RegionMem } from "../sim/ddr.js";
import { asFault, FaultLog, fault } from "../sim/faults.js";
import { Hazards } from "../sim/hazards.js";
import { execNpu, isaOptionsFor } from "../sim/npu.js";
import { EMPTY_IMAGE } from "../sim/run.js";
import { SimState, type StepCtx } from "../sim/state.js";
import type { Command } from "../sim/streams.js";
import type { Fault } from "../sim/types.js";
import { decodeDmCommand, okayStatus } from "./datamover.js";

/** Where DMA buffers start in the simulated bus address space (4 KiB aligned, below 2^32). */
export const BUFFER_BASE = 0x1000_0000;

interface Buffer {
  readonly name: string;
  readonly phys: number;
  readonly bytes: number;
}

interface Issued {
  readonly cmd: Command;
  readonly complete: () => boolean;
}

export interface ExecutorOptions {
  /** Status reads answered BUSY after each instruction before the NPU reports idle (exercises polling). */
  readonly busyPolls?: number;
  readonly maxFaults?: number;
}

export class CosimExecutor {
  readonly state: SimState;
  readonly faults = new FaultLog(false, 100);
  /** Server-side event log: the lines pccx_hal_sim.c writes, in arrival order. */
  readonly events: string[] = [];
  readonly buffers: Buffer[] = [];
  private nextPhys = BUFFER_BASE;
  private busy = 0;
  private instructions = 0;
  private issued = new Map<string, Issued[]>();
  private segment: Segment | undefined;
  private run = -1;
  private cursor = 0;
  private readonly channels: string[];

  constructor(
    readonly program: Program,
    readonly target: Target,
    readonly options: ExecutorOptions = {},
  ) {
    this.state = new SimState(target, program, EMPTY_IMAGE, "hardware");
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
      this.state.counters.npu++;
      execNpu(this.state, instr, ctx);
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
      const region = this.state.ddr.at(hit.buf.name, hit.off, c.bytes, `dma ${channel}`);
      const s = this.state;
      s.counters.dma++;
      const base = {
        seq: s.dmaSeq++,
        channel,
        tag: c.tag,
        step: ctx.step,
        region,
        off: hit.off,
        len: c.bytes,
      };
      const list = this.issued.get(channel) ?? [];
      this.issued.set(channel, list);
      const inp = s.inStreams.get(channel);
      if (inp) {
        s.hazards.checkRead(`ddr:${hit.buf.name}`, hit.off, hit.off + c.bytes, `dma ${channel}`);
        const cmd = inp.issue(base);
        list.push({ cmd, complete: () => inp.complete(cmd) });
        return;
      }
      const out = s.outStreams.get(channel);
      if (!out)
        throw fault("bad-instr", `target ${this.target.file.name} has no DataMover channel "${channel}"`);
      const cmd: Command = { ...base, start: 0 };
      out.queue.push(cmd);
      list.push({ cmd, complete: () => cmd.filled === true });
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
      this.cursor = 0;
      this.issued.clear();
      return;
    }
    if (text.startsWith("end ")) this.endOfSegment();
  }

  /** The end-of-segment contract of the functional machine: nothing left on a port, nothing in flight. */
  private endOfSegment(): void {
    const s = this.state;
    const at = { segment: this.segment?.name ?? "(none)", step: -1, run: this.run, origin: "" };
    const l2In = s.l2Channel("in");
    for (const st of s.inStreams.values()) {
      if (st.available > 0) {
        const kind = st === l2In ? "memcpy-unpaired" : "stream-overrun";
        this.faults.add(kind, at, `${st.available} bytes DMA'd on ${st.name} are left over`);
      }
      st.reset();
    }
    for (const st of s.outStreams.values()) {
      for (const c of st.unfilled())
        this.faults.add(
          "memcpy-unpaired",
          at,
          `the ${st.name} command of step ${c.step} (${c.len} bytes) has no MEMCPY L2→host`,
        );
      st.queue.length = 0;
    }
    for (const p of s.hazards.drain()) {
      this.faults.add(
        "wait",
        at,
        `the segment ends while step ${p.step} (${p.label}) is still producing ${Hazards.describe(p.space, p.start, p.end)}`,
      );
    }
    this.segment = undefined;
  }
}
