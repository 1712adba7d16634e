/**
 * DataMover channels. A DDR→PL channel (hp0..hp3, acp_fmap) is a FIFO of bytes: each `dma` step
 * appends its DDR range, and the engine behind the port (GEMV/GEMM, or MEMCPY host→L2) pulls
 * exactly the bytes of one instruction. The ranges are read when consumed (zero copy); a host write
 * in between would be a write-after-read race, which the contract's waits exclude.
 *
 * A command is *complete* (its status readable) once all its bytes fit in the port FIFO, i.e.
 * end ≤ consumed + fifo_bytes. Every instruction issued before a step has consumed its bytes by the
 * time that step runs (the simulator executes in program order), so a command that is incomplete
 * at a given step can only complete through later instructions: the driver must not block on it
 * (a `wait`, or a full command queue) — that is a deadlock, reported as a fault.
 *
 * The PL→DDR channel (acp_result) queues commands that a MEMCPY L2→host fills.
 */

import type { RegionMem } from "./ddr.js";
import { fault } from "./faults.js";

export interface Command {
  readonly seq: number;
  readonly channel: string;
  readonly tag: number;
  readonly step: number;
  readonly region: RegionMem;
  readonly off: number;
  readonly len: number;
  /** Byte offset of the command's first byte in the channel's stream (DDR→PL). */
  readonly start: number;
  /** PL→DDR: set when the paired MEMCPY has filled it. */
  filled?: boolean;
}

/** Bytes taken from a stream: `buf[base ..]`, and exact nibble codes when the source has them. */
export interface Taken {
  readonly buf: Uint8Array;
  readonly base: number;
  readonly codes?: Float32Array;
}

/** A DDR→PL channel. */
export class InStream {
  private queue: Command[] = [];
  private head = 0;
  /** Bytes of the head command already consumed. */
  private headPos = 0;
  issued = 0;
  consumed = 0;
  private scratch = new Uint8Array(0);

  constructor(
    readonly name: string,
    readonly fifoBytes: number,
    readonly maxOutstanding: number,
  ) {}

  get available(): number {
    return this.issued - this.consumed;
  }

  complete(c: Command): boolean {
    return c.start + c.len <= this.consumed + this.fifoBytes;
  }

  /** Queues a command; faults when the driver would block forever on a full command queue. */
  issue(c: Omit<Command, "start">): Command {
    let waiting = 0;
    for (let i = this.head; i < this.queue.length; i++) if (!this.complete(this.queue[i]!)) waiting++;
    if (waiting >= this.maxOutstanding) {
      throw fault(
        "stream-overrun",
        `${this.name} FIFO capacity exceeded: ${waiting} DataMover commands already wait for room in the ` +
          `${this.fifoBytes}-byte FIFO (the channel queues ${this.maxOutstanding}) and only later ` +
          `instructions consume their bytes, so the driver would block forever issuing this one`,
      );
    }
    const cmd: Command = { ...c, start: this.issued };
    this.queue.push(cmd);
    this.issued += c.len;
    return cmd;
  }

  /** The oldest command not yet fully consumed (for MEMCPY pairing). */
  peek(): Command | undefined {
    return this.queue[this.head];
  }

  /**
   * Takes the next `n` bytes: a view of one region when they lie in one command, else a copy into
   * a scratch buffer. With `exact`, also the exact codes of their nibbles (2 per byte, aligned with
   * the bytes from `base`) when a region holds any (host-quantized KV tiles in exact mode).
   */
  take(n: number, exact = false): Taken {
    if (n === 0) return { buf: this.scratch, base: 0 };
    let codes: Float32Array | undefined;
    if (exact) {
      for (let i = this.head, got = -this.headPos; i < this.queue.length && got < n; i++) {
        if (this.queue[i]!.region.exactCodes) codes = new Float32Array(2 * n);
        got += this.queue[i]!.len;
      }
    }
    const first = this.queue[this.head]!;
    if (this.headPos + n <= first.len && !codes) {
      const at = first.off + this.headPos;
      this.advance(n);
      return { buf: first.region.bytes, base: at };
    }
    if (this.scratch.length < n) this.scratch = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const c = this.queue[this.head]!;
      const k = Math.min(n - got, c.len - this.headPos);
      const from = c.off + this.headPos;
      this.scratch.set(c.region.bytes.subarray(from, from + k), got);
      if (codes) {
        const ex = c.region.exactCodes;
        for (let i = 0; i < 2 * k; i++) {
          const byte = c.region.bytes[from + (i >>> 1)]!;
          const exact = ex ? ex[2 * from + i]! : Number.NaN;
          codes[2 * got + i] = Number.isNaN(exact) ? (((i & 1 ? byte >>> 4 : byte) & 15) ^ 8) - 8 : exact;
        }
      }
      got += k;
      this.advance(k);
    }
    return codes ? { buf: this.scratch, base: 0, codes } : { buf: this.scratch, base: 0 };
  }

  private advance(n: number): void {
    this.consumed += n;
    this.headPos += n;
    while (this.head < this.queue.length && this.headPos >= this.queue[this.head]!.len) {
      this.headPos -= this.queue[this.head]!.len;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Drops everything left (after reporting it at segment end). */
  reset(): void {
    this.queue = [];
    this.head = 0;
    this.headPos = 0;
    this.consumed = this.issued;
  }
}

/** A PL→DDR channel: commands waiting for the data a MEMCPY L2→host produces. */
export class OutStream {
  readonly queue: Command[] = [];

  constructor(readonly name: string) {}

  /** The oldest command no MEMCPY has filled yet. */
  nextUnfilled(): Command | undefined {
    return this.queue.find((c) => !c.filled);
  }

  unfilled(): Command[] {
    return this.queue.filter((c) => !c.filled);
  }
}
