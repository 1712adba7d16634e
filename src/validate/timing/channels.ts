/**
 * DataMover channels as streams of bytes between DDR and a port FIFO. A DDR→PL channel (hp0..hp3,
 * acp_fmap) moves the bytes of its queued commands into the port FIFO while there is room; the
 * engine behind the port takes them out. A PL→DDR channel (acp_result) moves what a MEMCPY L2→host
 * put into the FIFO out to DDR. Quantities are continuous (fluid): between two events every flow
 * has a constant rate, set by the machine from the port rate, the FIFO state and the DDR share.
 */
import type { ChannelModel } from "./resources.js";

/** Below this many bytes a level or a remainder counts as zero (floating-point slack). */
export const BYTE_EPS = 1e-3;

export interface Command {
  readonly seq: number;
  readonly tag: number;
  readonly bytes: number;
  /** Stream offsets of the command's first byte and one past its last. */
  readonly start: number;
  readonly end: number;
  /** Kind of the DDR region it reads or writes (weights, kv, embedding, buffer, ...). */
  readonly kind: string;
  readonly layerKey: number | string;
  readonly label: string;
  readonly issuedAt: number;
  startedAt?: number;
  doneAt?: number;
}

/** What an instruction takes from (or gives to) one channel. */
export interface Part {
  readonly ch: ChannelState;
  readonly total: number;
  /** The instruction's current progress rate (fraction of the whole per cycle). */
  readonly run: { readonly rate: number };
}

export class ChannelState {
  private cmds: Command[] = [];
  /** Index of the first command not yet complete. */
  private head = 0;
  /**
   * Commands whose completion status the driver has read (popped from the DataMover's status
   * FIFO, one MMIO read each, in order): `popped ≤ head`. The generated driver keeps the
   * commands it issued in a ring and reads a status only when a wait or a full queue needs it.
   */
  popped = 0;
  /** Bytes of every command issued so far (stream offset of the next command). */
  issued = 0;
  /** in: bytes moved DDR → FIFO; out: bytes moved FIFO → DDR. */
  delivered = 0;
  /** in: bytes taken from the FIFO by consumers; out: bytes put into the FIFO by the producer. */
  taken = 0;
  /** Current transfer rate, bytes per cycle. */
  flow = 0;
  /** The instruction currently taking from (in) or giving to (out) this channel. */
  part: Part | undefined;
  /** Statistics. */
  bytes = 0;
  busy = 0;
  commands = 0;
  private kindCursor = 0;

  readonly name: string;

  constructor(readonly m: ChannelModel) {
    this.name = m.name;
  }

  /** Bytes per cycle the instruction on this channel currently takes from (or gives to) it. */
  partRate(): number {
    const p = this.part;
    return p ? p.run.rate * p.total : 0;
  }

  level(): number {
    return this.m.direction === "in" ? this.delivered - this.taken : this.taken - this.delivered;
  }

  /** Commands issued and not complete (they occupy the DataMover's command queue). */
  outstanding(): number {
    return this.cmds.length - this.head;
  }

  issue(
    tag: number,
    bytes: number,
    kind: string,
    layerKey: number | string,
    label: string,
    now: number,
  ): Command {
    const start = this.issued;
    const cmd: Command = {
      seq: this.cmds.length,
      tag,
      bytes,
      start,
      end: start + bytes,
      kind,
      layerKey,
      label,
      issuedAt: now,
    };
    this.cmds.push(cmd);
    this.issued += bytes;
    this.commands++;
    return cmd;
  }

  /** The last command issued (commands complete in issue order). */
  last(): Command | undefined {
    return this.cmds[this.cmds.length - 1];
  }

  /** Commands complete whose status the driver has not read yet. */
  unreadComplete(): number {
    return this.head - this.popped;
  }

  /** Commands issued whose status the driver has not read yet (its ring's count). */
  unread(): number {
    return this.cmds.length - this.popped;
  }

  /** Commands completed so far (a progress measure for the deadlock guard). */
  completed(): number {
    return this.head;
  }

  /** The command transferring now (the oldest incomplete one). */
  current(): Command | undefined {
    return this.cmds[this.head];
  }

  /** Whether the channel has bytes to move now, given its FIFO. */
  pending(): boolean {
    if (this.m.direction === "in") return this.delivered < this.issued - BYTE_EPS;
    return this.level() > BYTE_EPS || (this.part !== undefined && this.delivered < this.issued - BYTE_EPS);
  }

  /** Moves `dt` cycles of flow (`settle` then completes the commands). */
  advance(dt: number, now: number): void {
    if (this.flow <= 0 || dt <= 0) return;
    const moved = this.flow * dt;
    const c0 = this.current();
    if (c0 && c0.startedAt === undefined) c0.startedAt = now;
    this.delivered = Math.min(this.issued, this.delivered + moved);
    this.bytes += moved;
    this.busy += dt;
  }

  /** Marks commands whose last byte has moved as complete at `now`, appending them to `done`. */
  settle(now: number, done: Command[]): void {
    while (this.head < this.cmds.length && this.cmds[this.head]!.end - this.delivered <= BYTE_EPS) {
      const c = this.cmds[this.head]!;
      c.startedAt ??= now;
      c.doneAt = now;
      this.head++;
      done.push(c);
    }
    if (this.head === this.cmds.length && this.delivered > this.issued - BYTE_EPS)
      this.delivered = this.issued;
  }

  /** Cycles until the current command completes at the current flow. */
  timeToCommandEnd(): number {
    const c = this.current();
    if (!c || this.flow <= 0) return Number.POSITIVE_INFINITY;
    return Math.max(0, (c.end - this.delivered) / this.flow);
  }

  /** Kind of the DDR region the byte at stream offset `at` comes from (undefined: not issued yet). */
  kindAt(at: number): string | undefined {
    if (this.kindCursor > this.cmds.length) this.kindCursor = 0;
    while (this.kindCursor < this.cmds.length && this.cmds[this.kindCursor]!.end <= at) this.kindCursor++;
    while (this.kindCursor > 0 && this.cmds[this.kindCursor - 1]!.end > at) this.kindCursor--;
    return this.cmds[this.kindCursor]?.kind;
  }

  /** Every command issued in the run, in order (for the trace). */
  all(): readonly Command[] {
    return this.cmds;
  }
}
