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
import type { DmaStep, HostStep, NpuStep, WaitStep } from "../../codegen/program.js";
import { invalidInput } from "../../diag/index.js";
import type { HostState } from "./accounting.js";
import type { Command } from "./channels.js";
import { hostCost } from "./host-cost.js";
import type { TimingMachine } from "./machine.js";
import { applyHostSets, patches, relocIndex } from "./variables.js";

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

interface Busy {
  readonly kind: "mmio" | "dm" | "step" | "poll";
  readonly start: number;
  readonly until: number;
  readonly done: () => void;
}

interface Blocked {
  readonly reason: "fifo_full" | "dma_queue" | "wait";
  readonly since: number;
}

export class HostDriver {
  idx = 0;
  private busy: Busy | undefined;
  private blocked: Blocked | undefined;
  private readonly relocs;
  /** Last command issued per channel, then per tag (for dma waits). */
  private readonly tags = new Map<string, Map<number, Command>>();

  private readonly kinds: ReadonlyMap<string, string>;

  constructor(private readonly mc: TimingMachine) {
    this.relocs = relocIndex(mc.program).get(mc.seg.name);
    this.kinds = new Map(mc.program.ddr.map((r) => [r.name, r.kind]));
  }

  /** The kind of a DDR region (weights, kv, ...); an undeclared region counts as a buffer. */
  private regionKind(region: string): string {
    return this.kinds.get(region) ?? "buffer";
  }

  done(): boolean {
    return this.idx >= this.mc.seg.steps.length && !this.busy;
  }

  state(): HostState {
    if (this.busy) return this.busy.kind;
    if (this.blocked) return this.blocked.reason;
    return "done";
  }

  nextTimer(): number {
    return this.busy ? this.busy.until : Number.POSITIVE_INFINITY;
  }

  /** Makes what progress is possible at the machine's current time; true when something changed. */
  step(): boolean {
    const now = this.mc.now;
    if (this.busy) {
      if (this.busy.until > now) return false;
      const b = this.busy;
      this.busy = undefined;
      b.done();
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

  private setBusy(kind: Busy["kind"], cost: number, done: () => void): true {
    this.unblock();
    this.busy = { kind, start: this.mc.now, until: this.mc.now + cost, done };
    return true;
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
    if (b.reason === "wait") return; // the wait's own event covers it
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

  private fields(i: number): Map<string, number> | undefined {
    return patches(this.relocs?.get(i), this.mc.vars);
  }

  private npu(step: NpuStep): boolean {
    const mc = this.mc;
    if (mc.npu.fifoFull()) return this.block("fifo_full");
    const p = this.fields(this.idx);
    const fields = p ? { ...step.instr.fields, ...Object.fromEntries(p) } : step.instr.fields;
    const i = this.idx;
    mc.rec.count("mmio");
    return this.setBusy("mmio", mc.m.control.mmioWrite, () => {
      this.event(
        "mmio",
        () => `${step.instr.opcode} ${step.origin.label}`,
        this.mc.now - mc.m.control.mmioWrite,
        this.mc.now,
        "api",
      );
      mc.npu.fifo.push({ step, index: i, fields, layerKey: mc.keys[i] ?? "other", writtenAt: mc.now });
      this.idx++;
    });
  }

  private dma(step: DmaStep): boolean {
    const mc = this.mc;
    const p = this.fields(this.idx);
    const bytes = p?.get("bytes") ?? step.bytes;
    const tag = p?.get("tag") ?? step.tag;
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
    const i = this.idx;
    const key = mc.keys[i] ?? "other";
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
    return this.setBusy("dm", cost, () => {
      this.event("mmio", () => `dma ${step.port}: ${step.origin.label}`, mc.now - cost, mc.now, "api");
      const cmd = ch.issue(tag, bytes, kind, key, step.origin.label, mc.now);
      this.byTag(step.port).set(tag, cmd);
      mc.rec.layer(key).bytes += bytes;
      this.idx++;
    });
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
    return this.setBusy("step", cost.cycles, () => {
      this.event("host", step.fn, mc.now - cost.cycles, mc.now, "host");
      applyHostSets(step, mc.vars);
      this.idx++;
    });
  }

  private wait(step: WaitStep): boolean {
    const mc = this.mc;
    const on = step.on;
    if (on.kind === "host") {
      this.idx++;
      return true;
    }
    let reads = 1;
    let popTo: (() => void) | undefined;
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
      popTo = () => {
        ch.popped = Math.max(ch.popped, cmd.seq + 1);
      };
    }
    // a blocking wait: the earlier statuses were read while blocked, the last one is noticed after
    // the detection delay; a satisfied one reads the statuses it needs
    const since = this.blocked?.reason === "wait" ? this.blocked.since : undefined;
    const cost = since === undefined ? reads * mc.m.control.mmioRead : mc.m.control.syncWait;
    popTo?.();
    const t0 = since ?? mc.now;
    const what = on.kind === "npu-idle" ? "wait npu-idle" : `wait ${on.port} tag ${on.tag}`;
    return this.setBusy("poll", cost, () => {
      this.event("host", what, t0, mc.now, "barrier");
      this.idx++;
    });
  }
}
