/**
 * Serves the co-simulation protocol on a pair of streams: each message from the driver is executed
 * on the CosimExecutor as it arrives, requests are answered in order. Resolves when the driver says
 * BYE or closes its end; protocol errors close the session with a message.
 */
import type { Readable, Writable } from "node:stream";
import type { Target } from "../../target/index.js";
import type { CosimExecutor } from "./executor.js";
import {
  dmLine,
  encodeResponse,
  type Message,
  MessageReader,
  npuLine,
  Op,
  PROTOCOL_VERSION,
} from "./protocol.js";

const OK = 0;
const ERR_SIM = 14;
const ERR_TARGET = 5;

export interface ServeResult {
  /** The driver said BYE (a clean close). */
  readonly bye: boolean;
  /** A protocol problem that ended the session. */
  readonly error?: string;
  readonly messages: number;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** A little-endian float32 payload (copied: the payload need not be 4-byte aligned). */
const floats = (b: Uint8Array) => new Float32Array(b.slice().buffer, 0, b.length >>> 2);

/** Executes one message; returns the response bytes for a request. */
export function handle(x: CosimExecutor, t: Target, m: Message): Uint8Array | undefined {
  switch (m.op) {
    case Op.HELLO: {
      const status = text(m.payload) === t.fingerprint ? OK : ERR_TARGET;
      return encodeResponse(status, BigInt(PROTOCOL_VERSION), new TextEncoder().encode(t.fingerprint));
    }
    case Op.NPU_WRITE:
      x.npuWrite(Number(m.a), m.b, npuLine(Number(m.a), m.b));
      return undefined;
    case Op.NPU_READ:
      return encodeResponse(OK, x.npuRead(Number(m.a)));
    case Op.DM_PUSH:
      x.dmPush(m.port, m.a, m.b, dmLine(m.port, m.a, m.b));
      return undefined;
    case Op.DM_STATUS:
      return encodeResponse(OK, BigInt(x.dmStatus(m.port)));
    case Op.ALLOC: {
      const r = x.alloc(text(m.payload), Number(m.a));
      return encodeResponse(r.status, BigInt(r.phys));
    }
    case Op.FREE:
      return undefined;
    case Op.FLUSH:
      x.flush(Number(m.a), m.payload);
      return undefined;
    case Op.INVALIDATE: {
      const bytes = x.invalidate(Number(m.a), Number(m.b));
      return bytes ? encodeResponse(OK, 0n, bytes) : encodeResponse(ERR_SIM, 0n);
    }
    case Op.NOTE:
      x.note(text(m.payload));
      return undefined;
    case Op.PUT_WIDE:
    case Op.PUT_CODES:
      x.putShadow(m.op === Op.PUT_WIDE ? "wide" : "codes", Number(m.a), Number(m.b), floats(m.payload));
      return undefined;
    case Op.GET_WIDE:
    case Op.GET_CODES: {
      const v = x.getShadow(m.op === Op.GET_WIDE ? "wide" : "codes", Number(m.a), Number(m.b));
      return v
        ? encodeResponse(OK, 0n, new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
        : encodeResponse(ERR_SIM, 0n);
    }
    case Op.BYE:
      return encodeResponse(OK, 0n);
    default:
      throw new Error(`unknown message op ${m.op}`);
  }
}

export function serve(x: CosimExecutor, t: Target, input: Readable, output: Writable): Promise<ServeResult> {
  const reader = new MessageReader();
  let count = 0;
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ServeResult) => {
      if (done) return;
      done = true;
      input.removeAllListeners("data");
      resolve(r);
    };
    input.on("data", (chunk: Buffer) => {
      if (done) return;
      try {
        for (const m of reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))) {
          count++;
          const resp = handle(x, t, m);
          if (resp) output.write(resp);
          if (m.op === Op.BYE) {
            finish({ bye: true, messages: count });
            return;
          }
        }
      } catch (e) {
        finish({ bye: false, error: e instanceof Error ? e.message : String(e), messages: count });
        output.end();
      }
    });
    input.on("end", () => finish({ bye: false, messages: count }));
    input.on("error", (e) => finish({ bye: false, error: e.message, messages: count }));
  });
}
