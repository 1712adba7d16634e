/**
 * The host driver thread: replays a segment's steps in order, as the generated C driver does.
 *
 * - `npu`: one 64-bit MMIO store (control.mmio_write_ns); when the command FIFO is full the store is
 *   back-pressured until the controller takes an instruction. Relocated fields are patched with
 *   the variables of that moment.
 * - `dma`: a DataMover command (control.datamover_issue_ns); the channel queues at most
 *   datamover.max_outstanding_commands incomplete commands, so the host waits for room. A command
 *   whose bytes relocate to 0 is not issued; a wait on its tag waits for the channel's earlier commands.
 * - `host`: a host function on the ARM cores (host-cost.ts), then the variables it sets.
 * - `wait`: blocks until the NPU is idle or the tagged command has completed, then pays the
 *   driver's detection delay (host.sync_wait_ns: a status read plus half a poll interval); an NPU
 *   wait already satisfied costs one status read. A `host` wait costs nothing (host steps are
 *   synchronous).
 *
 * DataMover statuses are read as the generated driver reads them (src/stubs/c/runtime.ts): each
 * command's status is popped once, in order, one MMIO read each (control.mmio_read_ns). A wait on a
 * command already complete pops the statuses up to it (one read per command not read yet); a wait on
 * a command whose status was already read — or on nothing — reads nothing; a command pushed while
 * the driver's ring holds max_outstanding unread commands first drains the complete ones (plus the
 * read that finds the FIFO empty when some are still in flight).
 */
import type { DmaStep, HostStep, NpuStep, Step, WaitStep } from "../../codegen/program.js";
import { invalidInput } from "../../diag/index.js";
import type { HostState, LayerKey } from "./accounting.js";
import type { ChannelState, Command } from "./channels.js";
import { hostCost } from "./host-cost.js";
import type { TimingMachine } from "./machine.js";
import { applyHostSets, patchedField, patchFields, stepRelocs } from "./variables.js";
import type { FieldMap } from "./work.js";

/** Stands for "no command before it on the channel": a wait on it is already satisfied. */
const NOTHING: Command = {
  seq: -1,
  tag: -1,
  bytes: 0,
  start: 0,
  end: 0,
  kind: "buffer",
  layerKey: "other",
  label: "",
  issuedAt: 0,
  doneAt: 0,
};

type BusyKind = "mmio" | "dm" | "step" | "poll";

/**
 * What a busy host does when its timer ends. Plain fields rather than a closure per step: this
 * runs for every step of every run (hundreds of thousands per plan), and closures cost GC time.
 */
type OnDone = "npu" | "dma" | "host" | "poll";

interface Blocked {
  readonly reason: "fifo_full" | "dma_queue" | "wait";
  readonly since: number;
}

export class HostDriver {
  idx = 0;
  /** The busy state (kind undefined: not busy), its end and what completes then. */
  private busyKind: BusyKind | undefined;
  private busyUntil = 0;
  private onDone: OnDone = "poll";
  private thenStep: Step | undefined;
  private thenIndex = 0;
  private thenFields: FieldMap | undefined;
  private thenCost = 0;
  private thenCh: ChannelState | undefined;
  private thenTag = 0;
  private thenBytes = 0;
  private thenKind = "";
  private thenKey: LayerKey = "other";
  private thenT0 = 0;
  private blocked: Blocked | undefined;
  private readonly relocs;
  /** Last command issued per channel, then per tag (for dma waits). */
  private readonly tags = new Map<string, Map<number, Command>>();

  private readonly kinds: ReadonlyMap<string, string>;

  constructor(private readonly mc: TimingMachine) {
    this.relocs = stepRelocs(mc.program, mc.seg.name);
    this.kinds = new Map(mc.program.ddr.map((r) => [r.name, r.kind]));
  }

  /** The kind of a DDR region (weights, kv, ...); an undeclared region counts as a buffer. */
  private regionKind(region: string): string {
    return this.kinds.get(region) ?? "buffer";
  }

  done(): boolean {
    return this.idx >= this.mc.seg.steps.length && this.busyKind === undefined;
  }

  state(): HostState {
    if (this.busyKind !== undefined) return this.busyKind;
    if (this.blocked) return this.blocked.reason;
    return "done";
  }

  nextTimer(): number {
    return this.busyKind !== undefined ? this.busyUntil : Number.POSITIVE_INFINITY;
  }

  /** Makes what progress is possible at the machine's current time; true when something changed. */
  step(): boolean {
    const now = this.mc.now;
    if (this.busyKind !== undefined) {
      if (this.busyUntil > now) return false;
      this.busyKind = undefined;
      this.complete();
      return true;
    }
    const step = this.mc.seg.steps[this.idx];
    if (!step) return false;
    switch (step.kind) {
      case "npu":
        return this.npu(step);
      case "dma":
        return this.dma(step);
      case "host":
        return this.hostStep(step);
      case "wait":
        return this.wait(step);
    }
  }

  private setBusy(kind: BusyKind, cost: number, onDone: OnDone, step: Step): true {
    this.unblock();
    this.busyKind = kind;
    this.busyUntil = this.mc.now + cost;
    this.onDone = onDone;
    this.thenStep = step;
    this.thenCost = cost;
    return true;
  }

  /** Completes the busy step (its timer ended at the machine's current time). */
  private complete(): void {
    const mc = this.mc;
    const step = this.thenStep!;
    const traced = mc.rec.events !== undefined;
    switch (this.onDone) {
      case "npu": {
        const s = step as NpuStep;
        const i = this.thenIndex;
        if (traced)
          this.event(
            "mmio",
            `${s.instr.opcode} ${s.origin.label}`,
            mc.now - mc.m.control.mmioWrite,
            mc.now,
            "api",
          );
        mc.npu.fifo.push({
          step: s,
          index: i,
          fields: this.thenFields!,
          layerKey: mc.keys[i] ?? "other",
          writtenAt: mc.now,
        });
        this.thenFields = undefined;
        break;
      }
      case "dma": {
        const s = step as DmaStep;
        const cost = this.thenCost;
        if (traced) this.event("mmio", `dma ${s.port}: ${s.origin.label}`, mc.now - cost, mc.now, "api");
        const key = this.thenKey;
        const cmd = this.thenCh!.issue(
          this.thenTag,
          this.thenBytes,
          this.thenKind,
          key,
          s.origin.label,
          mc.now,
        );
        this.byTag(s.port).set(this.thenTag, cmd);
        mc.rec.layer(key).bytes += this.thenBytes;
        this.thenCh = undefined;
        break;
      }
      case "host": {
        const s = step as HostStep;
        if (traced) this.event("host", s.fn, mc.now - this.thenCost, mc.now, "host");
        applyHostSets(s, mc.vars);
        break;
      }
      case "poll": {
        if (traced) {
          const on = (step as WaitStep).on;
          const what = on.kind === "dma" ? `wait ${on.port} tag ${on.tag}` : `wait ${on.kind}`;
          this.event("host", what, this.thenT0, mc.now, "barrier");
        }
        break;
      }
    }
    this.thenStep = undefined;
    this.idx++;
  }

  private block(reason: Blocked["reason"]): boolean {
    if (this.blocked?.reason === reason) return false;
    this.blocked = { reason, since: this.mc.now };
    return false;
  }

  private unblock(): void {
    const b = this.blocked;
    if (!b) return;
    this.blocked = undefined;
    if (b.reason === "wait" || !this.mc.rec.events) return; // the wait's own event covers it
    this.event("host", () => `blocked: ${b.reason}`, b.since, this.mc.now, "stall");
  }

  /** A trace event (built only when the run collects a timeline). */
  private event(
    track: string,
    name: string | (() => string),
    t0: number,
    t1: number,
    kind: "api" | "host" | "barrier" | "stall",
  ): void {
    if (!this.mc.rec.events) return;
    const key = this.mc.keys[this.idx];
    const start = Math.round(t0);
    this.mc.rec.event({
      track,
      name: typeof name === "string" ? name : name(),
      startCycle: start,
      durationCycles: Math.max(0, Math.round(t1) - start),
      kind,
      ...(typeof key === "number" ? { layer: key } : {}),
      args: { step: this.idx },
    });
  }

  private npu(step: NpuStep): boolean {
    const mc = this.mc;
    if (mc.npu.fifoFull()) return this.block("fifo_full");
    const fields = patchFields(step.instr.fields, this.relocs[this.idx], mc.vars);
    mc.rec.count("mmio");
    this.thenIndex = this.idx;
    this.thenFields = fields;
    return this.setBusy("mmio", mc.m.control.mmioWrite, "npu", step);
  }

  private dma(step: DmaStep): boolean {
    const mc = this.mc;
    const relocs = this.relocs[this.idx];
    const bytes = patchedField(relocs, "bytes", step.bytes, mc.vars);
    const tag = patchedField(relocs, "tag", step.tag, mc.vars);
    const ch = mc.chans.get(step.port);
    if (!ch) {
      throw invalidInput(
        "timing/channel",
        `dma step ${this.idx} uses channel ${step.port}, which target ${mc.m.target.file.name} lacks`,
        {
          fix: "compile the program for this target",
        },
      );
    }
    if (bytes <= 0) {
      // Not issued (docs/program.md §2); a wait on its tag completes when the commands issued
      // before it on the channel have, i.e. with the channel's last command (they complete in order).
      this.byTag(step.port).set(tag, ch.last() ?? NOTHING);
      this.idx++;
      return true;
    }
    const max = mc.m.control.maxOutstanding;
    if (ch.outstanding() >= max) return this.block("dma_queue");
    const key = mc.keys[this.idx] ?? "other";
    const kind = this.regionKind(step.region);
    mc.rec.count("mmio");
    // the driver's drain before a push (push_dma): read the complete statuses, and one more read
    // that finds the status FIFO empty when commands are still in flight
    let reads = 0;
    if (ch.unread() >= max) {
      reads = ch.unreadComplete();
      ch.popped += reads;
      if (ch.unread() > 0) reads++;
    }
    const cost = mc.m.control.dmIssue + reads * mc.m.control.mmioRead;
    this.thenCh = ch;
    this.thenTag = tag;
    this.thenBytes = bytes;
    this.thenKind = kind;
    this.thenKey = key;
    return this.setBusy("dm", cost, "dma", step);
  }

  private byTag(port: string): Map<number, Command> {
    let m = this.tags.get(port);
    if (!m) {
      m = new Map();
      this.tags.set(port, m);
    }
    return m;
  }

  private hostStep(step: HostStep): boolean {
    const mc = this.mc;
    const cost = hostCost(mc.m, step, mc.vars);
    mc.rec.hostBytes += cost.bytes;
    mc.rec.count("host");
    return this.setBusy("step", cost.cycles, "host", step);
  }

  private wait(step: WaitStep): boolean {
    const mc = this.mc;
    const on = step.on;
    if (on.kind === "host") {
      this.idx++;
      return true;
    }
    let reads = 1;
    let popTo: ChannelState | undefined;
    let popSeq = 0;
    if (on.kind === "npu-idle") {
      if (!mc.npu.idle()) return this.block("wait");
    } else {
      const ch = mc.chans.get(on.port);
      const cmd = this.tags.get(on.port)?.get(on.tag);
      // nothing to wait for, or a status the driver already read: no bus access
      if (!ch || !cmd || cmd.seq < ch.popped) {
        this.unblock();
        this.idx++;
        return true;
      }
      if (cmd.doneAt === undefined) return this.block("wait");
      reads = cmd.seq + 1 - ch.popped;
      popTo = ch;
      popSeq = cmd.seq + 1;
    }
    // a blocking wait: the earlier statuses were read while blocked, the last one is noticed after
    // the detection delay; a satisfied one reads the statuses it needs
    const since = this.blocked?.reason === "wait" ? this.blocked.since : undefined;
    const cost = since === undefined ? reads * mc.m.control.mmioRead : mc.m.control.syncWait;
    if (popTo) popTo.popped = Math.max(popTo.popped, popSeq);
    this.thenT0 = since ?? mc.now;
    return this.setBusy("poll", cost, "poll", step);
  }
}
