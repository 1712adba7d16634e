import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CosimExecutor,
  decodeDmCommand,
  encodeDmCommand,
  encodeMessage,
  handle,
  MessageReader,
  Op,
  okayStatus,
  PROTOCOL_VERSION,
} from "../../src/validate/cosim/index.js";
import { fixture, KV260 } from "../stubs/fixture.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("co-simulation protocol", () => {
  it("MessageReader reassembles messages cut at any byte", () => {
    const msg = fc.record({
      op: fc.integer({ min: 1, max: 11 }),
      port: fc.integer({ min: 0, max: 5 }),
      a: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      b: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      payload: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(
        fc.array(msg, { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }),
        (ms, cuts) => {
          const stream = Buffer.concat(ms.map((m) => encodeMessage(m.op, m.port, m.a, m.b, m.payload)));
          const r = new MessageReader();
          const got = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const n = cuts[i % cuts.length]!;
            got.push(...r.push(new Uint8Array(stream.subarray(at, at + n))));
            at += n;
          }
          expect(r.pending).toBe(0);
          expect(got.map((m) => ({ ...m, payload: [...m.payload] }))).toEqual(
            ms.map((m) => ({ ...m, payload: [...m.payload] })),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it("DataMover commands round-trip through the target's command layout (PG022 bit positions)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 23 - 1 }),
        fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }),
        fc.integer({ min: 0, max: 15 }),
        (n, addr, tag) => {
          const w = encodeDmCommand(KV260, { bytes: n, address: addr, tag });
          expect(decodeDmCommand(KV260, w.lo, w.hi)).toEqual({ bytes: n, address: addr, tag });
          expect(Number(w.lo & 0x7fffffn)).toBe(n);
          expect((w.lo >> 23n) & 1n).toBe(1n); // INCR
          expect((w.lo >> 30n) & 1n).toBe(1n); // EOF
          expect(w.lo >> 32n).toBe(addr);
          expect(w.hi).toBe(BigInt(tag));
        },
      ),
      { numRuns: 200 },
    );
    expect(okayStatus(KV260, 5)).toBe(0x85);
  });

  it("the simulator side answers HELLO with its fingerprint, allocates buffers by region and polls BUSY then DONE", () => {
    const { program } = fixture();
    const x = new CosimExecutor(program, KV260, { busyPolls: 2 });
    const resp = (op: number, a = 0n, b = 0n, payload = new Uint8Array(0), port = 0) => {
      const r = handle(x, KV260, { op, port, a, b, payload })!;
      const dv = new DataView(r.buffer, r.byteOffset);
      return {
        status: dv.getUint32(0, true),
        value: dv.getBigUint64(8, true),
        payload: new TextDecoder().decode(r.subarray(16)),
      };
    };
    expect(resp(Op.HELLO, 1n, 0n, bytes(KV260.fingerprint))).toEqual({
      status: 0,
      value: BigInt(PROTOCOL_VERSION),
      payload: KV260.fingerprint,
    });
    expect(resp(Op.HELLO, 1n, 0n, bytes("other@0")).status).toBe(5);
    const w = resp(Op.ALLOC, 100n, 0n, bytes("w"));
    expect(w.status).toBe(0);
    expect(resp(Op.ALLOC, 100n, 0n, bytes("no-such-region")).status).toBe(6);
    // a MEMSET, then two BUSY polls, then DONE
    handle(x, KV260, {
      op: Op.NPU_WRITE,
      port: 0,
      a: 0n,
      b: 0x3010001000100100n,
      payload: new Uint8Array(0),
    });
    expect([1, 2, 3].map(() => resp(Op.NPU_READ).value)).toEqual([1n, 1n, 2n]);
    // flush, then invalidate reads the same bytes back from the simulated DDR
    handle(x, KV260, { op: Op.FLUSH, port: 0, a: w.value + 4n, b: 0n, payload: new Uint8Array([9, 8, 7]) });
    const back = handle(x, KV260, {
      op: Op.INVALIDATE,
      port: 0,
      a: w.value + 3n,
      b: 5n,
      payload: new Uint8Array(0),
    })!;
    expect([...back.subarray(16)]).toEqual([0, 9, 8, 7, 0]);
    // no status before any command
    expect(resp(Op.DM_STATUS, 0n, 0n, new Uint8Array(0), 2).value).toBe(0n);
    expect(x.faultList).toEqual([]);
  });

  it("exact shadows: PUT_WIDE/PUT_CODES after a FLUSH replace the region's float32 copy and codes; GET_* read them back", () => {
    const { program } = fixture();
    const x = new CosimExecutor(program, KV260, { mode: "exact" });
    const msg = (op: number, a: bigint, b: bigint, payload = new Uint8Array(0)) =>
      handle(x, KV260, { op, port: 0, a, b, payload });
    const f32 = (v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
    const read = (r: Uint8Array | undefined) => {
      const dv = new DataView(r!.buffer, r!.byteOffset);
      expect(dv.getUint32(0, true)).toBe(0);
      return [...new Float32Array(r!.slice(16).buffer)];
    };
    const phys = BigInt(x.alloc("xn", 16).phys);
    // bytes: BF16 1.0 and 2.0 at slots 1 and 2; the exact values beside them are not BF16
    expect(msg(Op.FLUSH, phys + 2n, 0n, new Uint8Array([0x80, 0x3f, 0x00, 0x40]))).toBeUndefined();
    expect(msg(Op.PUT_WIDE, phys + 2n, 4n, f32([1.0000001, 2.5]))).toBeUndefined();
    expect(msg(Op.PUT_CODES, phys + 2n, 4n, f32([0.25, Number.NaN, -7.5, 3]))).toBeUndefined();
    const r = x.state.ddr.region("xn")!;
    // the simulator reads BF16 data from the exact copy
    expect([...x.state.ddr.readTyped(r, 2, 2, "bf16")]).toEqual([Math.fround(1.0000001), 2.5]);
    expect(read(msg(Op.GET_WIDE, phys, 6n))).toEqual([0, Math.fround(1.0000001), 2.5]);
    expect(read(msg(Op.GET_CODES, phys + 2n, 2n))).toEqual([0.25, Number.NaN, -7.5, 3]);
    expect(read(msg(Op.GET_CODES, phys + 6n, 2n))).toEqual([Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
    // outside every buffer: a fault for a put, status 14 for a get
    msg(Op.PUT_WIDE, 0x10n, 2n, f32([1]));
    expect(x.faultList.map((f) => f.kind)).toEqual(["addr-range"]);
    const bad = msg(Op.GET_WIDE, 0x10n, 2n)!;
    expect(new DataView(bad.buffer, bad.byteOffset).getUint32(0, true)).toBe(14);
  });
});
