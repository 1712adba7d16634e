/**
 * The co-simulation wire protocol between the simulation HAL (pccx_hal_sim.c) and the simulator
 * process: little-endian binary messages over two pipes (docs/driver.md, "Co-simulation protocol").
 *
 * Request: u8 op, u8 port, u16 0, u32 payload length, u64 a, u64 b, payload.
 * Response (to requests only): u32 status (a pccx_status), u32 payload length, u64 value, payload.
 * Posted messages (NPU_WRITE, DM_PUSH, FREE, FLUSH, NOTE, PUT_*) get no response; the pipe keeps order,
 * so a response always follows everything the driver sent before its request.
 */

export const PROTOCOL_VERSION = 1;

export const Op = {
  HELLO: 1,
  NPU_WRITE: 2,
  NPU_READ: 3,
  DM_PUSH: 4,
  DM_STATUS: 5,
  ALLOC: 6,
  FREE: 7,
  FLUSH: 8,
  INVALIDATE: 9,
  NOTE: 10,
  BYE: 11,
  /**
   * Exact co-simulation (a PCCX_EXACT driver build): the float32 shadows of a buffer range, a = bus
   * address, b = bytes (2-byte aligned): one value per 2-byte slot (WIDE), one unrounded INT4 code
   * per nibble, NaN when none (CODES). PUT is posted after a FLUSH, GET requested after an INVALIDATE.
   */
  PUT_WIDE: 12,
  PUT_CODES: 13,
  GET_WIDE: 14,
  GET_CODES: 15,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

/** Ops that expect a response. */
export const REQUESTS: ReadonlySet<number> = new Set([
  Op.HELLO,
  Op.NPU_READ,
  Op.DM_STATUS,
  Op.ALLOC,
  Op.INVALIDATE,
  Op.BYE,
  Op.GET_WIDE,
  Op.GET_CODES,
]);

export const HEADER_BYTES = 24;
export const RESPONSE_HEADER_BYTES = 16;

export interface Message {
  readonly op: number;
  readonly port: number;
  readonly a: bigint;
  readonly b: bigint;
  readonly payload: Uint8Array;
}

/** Splits a byte stream into messages (chunks may cut a message anywhere). */
export class MessageReader {
  private buf = new Uint8Array(0);
  private len = 0;

  push(chunk: Uint8Array): Message[] {
    if (this.len + chunk.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + chunk.length, 4096));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    const out: Message[] = [];
    let at = 0;
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset);
    while (this.len - at >= HEADER_BYTES) {
      const n = dv.getUint32(at + 4, true);
      if (this.len - at < HEADER_BYTES + n) break;
      out.push({
        op: this.buf[at]!,
        port: this.buf[at + 1]!,
        a: dv.getBigUint64(at + 8, true),
        b: dv.getBigUint64(at + 16, true),
        payload: this.buf.slice(at + HEADER_BYTES, at + HEADER_BYTES + n),
      });
      at += HEADER_BYTES + n;
    }
    this.buf.copyWithin(0, at, this.len);
    this.len -= at;
    return out;
  }

  get pending(): number {
    return this.len;
  }
}

export function encodeResponse(
  status: number,
  value: bigint,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(RESPONSE_HEADER_BYTES + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, status, true);
  dv.setUint32(4, payload.length, true);
  dv.setBigUint64(8, value, true);
  out.set(payload, RESPONSE_HEADER_BYTES);
  return out;
}

/** A request as the C side encodes it (tests drive the server without a C process). */
export function encodeMessage(
  op: number,
  port: number,
  a: bigint,
  b: bigint,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  const dv = new DataView(out.buffer);
  out[0] = op;
  out[1] = port;
  dv.setUint32(4, payload.length, true);
  dv.setBigUint64(8, a, true);
  dv.setBigUint64(16, b, true);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** The event-log line of a hardware write, as pccx_hal_sim.c writes it. */
export function npuLine(offset: number, value: bigint): string {
  return `npu 0x${offset.toString(16).toUpperCase().padStart(3, "0")} 0x${value.toString(16).toUpperCase().padStart(16, "0")}`;
}

export function dmLine(port: number, lo: bigint, hi: bigint): string {
  return `dm ${port} 0x${lo.toString(16).toUpperCase().padStart(16, "0")} 0x${hi.toString(16).toUpperCase()}`;
}
