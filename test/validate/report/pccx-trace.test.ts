import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExitCode } from "../../../src/diag/index.js";
import { fnv1a64 } from "../../../src/util/hash.js";
import {
  encodePccxTrace,
  formatFnv64,
  readPccxTrace,
  type Timeline,
  type TimelineEvent,
} from "../../../src/validate/report/index.js";
import { quoteLargeIntegers } from "../../../src/validate/report/pccx-read.js";
import { thrown } from "../../helpers/errors.js";
import { ARCH, sampleTimeline } from "./fixtures.js";

const enc = (s: string) => new TextEncoder().encode(s);

function tiny(): Timeline {
  return {
    clockMhz: 400,
    cycles: 100,
    tracks: [
      { name: "gemv", group: "NPU" },
      { name: "hp2", group: "AXI" },
    ],
    events: [
      { track: "gemv", name: "GEMV", startCycle: 10, durationCycles: 50, kind: "compute" },
      { track: "hp2", name: "w", startCycle: 0, durationCycles: 60, kind: "dma_read" },
    ],
    meta: {},
  };
}

/** Rebuilds a file from its parts, for corruption tests. */
function assemble(header: string, payload: Uint8Array, preamble?: (b: Uint8Array) => void): Uint8Array {
  const h = enc(header);
  const out = new Uint8Array(16 + h.length + payload.length);
  out.set(enc("PCCX"), 0);
  out[4] = 1;
  out[5] = 1;
  new DataView(out.buffer).setBigUint64(8, BigInt(h.length), true);
  out.set(h, 16);
  out.set(payload, 16 + h.length);
  preamble?.(out);
  return out;
}

/** A preamble patch: byte `i` becomes `f(old)`. */
const poke =
  (i: number, f: (old: number) => number) =>
  (b: Uint8Array): void => {
    b[i] = f(b[i]!);
  };

function headerOf(bytes: Uint8Array): string {
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(8, true));
  return new TextDecoder().decode(bytes.subarray(16, 16 + len));
}

function payloadOf(bytes: Uint8Array): Uint8Array {
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(8, true));
  return bytes.slice(16 + len);
}

describe("FNV-1a 64 checksum", () => {
  it("matches the published test vectors", () => {
    expect(formatFnv64(fnv1a64(enc("")))).toBe("0xcbf29ce484222325");
    expect(formatFnv64(fnv1a64(enc("a")))).toBe("0xaf63dc4c8601ec8c");
    expect(formatFnv64(fnv1a64(enc("foobar")))).toBe("0x85944171f73967e8");
  });
});

describe(".pccx writer byte layout", () => {
  const bytes = encodePccxTrace(tiny(), { arch: ARCH, producer: "pccxc test" });
  const view = new DataView(bytes.buffer);
  const header = headerOf(bytes);
  const hlen = enc(header).length;

  it("writes the 16-byte preamble field by field", () => {
    expect([...bytes.subarray(0, 4)]).toEqual([0x50, 0x43, 0x43, 0x58]); // "PCCX"
    expect(bytes[4]).toBe(1); // major
    expect(bytes[5]).toBe(1); // minor
    expect([bytes[6], bytes[7]]).toEqual([0, 0]); // reserved
    expect(view.getBigUint64(8, true)).toBe(BigInt(hlen)); // u64 LE header length
    expect(bytes.length).toBe(16 + hlen + 2 * 24);
  });

  it("writes the JSON header compactly, in pccx-lab's field order, checksum as a bare u64", () => {
    const checksum = fnv1a64(payloadOf(bytes));
    expect(header).toBe(
      '{"pccx_lab_version":"pccxc test","arch":{"mac_dims":[32,32],"isa_version":"v002","peak_tops":1.6384},' +
        '"trace":{"cycles":100,"cores":2,"clock_mhz":400},' +
        `"payload":{"encoding":"flatbuf","byte_length":48,"checksum_fnv64":${checksum}},` +
        '"format_minor":1,"pccxc_tracks":["gemv","hp2"]}',
    );
  });

  it("writes 24-byte little-endian records sorted by start cycle, core id = track index", () => {
    const p = 16 + hlen;
    // record 0: hp2 (core 1) starts at 0
    expect(view.getUint32(p + 0, true)).toBe(1);
    expect(view.getBigUint64(p + 4, true)).toBe(0n);
    expect(view.getBigUint64(p + 12, true)).toBe(60n);
    expect(view.getUint32(p + 20, true)).toBe(2); // DMA_READ
    // record 1: gemv (core 0) starts at 10
    expect(view.getUint32(p + 24, true)).toBe(0);
    expect(view.getBigUint64(p + 28, true)).toBe(10n);
    expect(view.getBigUint64(p + 36, true)).toBe(50n);
    expect(view.getUint32(p + 44, true)).toBe(1); // MAC_COMPUTE
  });

  it("gives the exact golden bytes of the payload", () => {
    const hex = Buffer.from(payloadOf(bytes)).toString("hex");
    expect(hex).toBe(
      "01000000" +
        "0000000000000000" +
        "3c00000000000000" +
        "02000000" +
        "00000000" +
        "0a00000000000000" +
        "3200000000000000" +
        "01000000",
    );
  });

  it("maps every event kind to pccx-lab's event ids", () => {
    const kinds: TimelineEvent["kind"][] = [
      "compute",
      "dma_read",
      "dma_write",
      "stall",
      "barrier",
      "api",
      "host",
    ];
    const t: Timeline = {
      ...tiny(),
      events: kinds.map((kind, i) => ({ track: "gemv", name: kind, startCycle: i, durationCycles: 1, kind })),
    };
    const recs = readPccxTrace(encodePccxTrace(t, { arch: ARCH })).records;
    expect(recs.map((r) => [r.eventTypeId, r.eventType])).toEqual([
      [1, "MAC_COMPUTE"],
      [2, "DMA_READ"],
      [3, "DMA_WRITE"],
      [4, "SYSTOLIC_STALL"],
      [5, "BARRIER_SYNC"],
      [6, "API_CALL"],
      [1, "MAC_COMPUTE"],
    ]);
  });

  it("is deterministic and rejects a clock pccx-lab cannot store", () => {
    expect(encodePccxTrace(sampleTimeline(), { arch: ARCH })).toEqual(
      encodePccxTrace(sampleTimeline(), { arch: ARCH }),
    );
    const e = thrown(() => encodePccxTrace({ ...tiny(), clockMhz: 266.67 }, { arch: ARCH }));
    expect(e.code).toBe("report/pccx-clock");
    expect(e.exitCode).toBe(ExitCode.INVALID_INPUT);
  });
});

describe("readPccxTrace", () => {
  it("round-trips the sample timeline", () => {
    const t = sampleTimeline();
    const file = readPccxTrace(encodePccxTrace(t, { arch: ARCH }));
    expect(file.major).toBe(1);
    expect(file.minor).toBe(1);
    expect(file.checksumVerified).toBe(true);
    expect(file.header.trace).toEqual({ cycles: 1000, cores: t.tracks.length, clockMhz: 400 });
    expect(file.header.tracks).toEqual(t.tracks.map((x) => x.name));
    expect(file.header.arch).toEqual({ macDims: [32, 32], isaVersion: "v002", peakTops: 1.6384 });
    expect(file.records.length).toBe(t.events.length);
    const starts = file.records.map((r) => r.startCycle);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const back = file.records
      .map((r) => `${file.header.tracks![r.coreId]}@${r.startCycle}+${r.duration}`)
      .sort();
    expect(back).toEqual(t.events.map((e) => `${e.track}@${e.startCycle}+${e.durationCycles}`).sort());
  });

  it("keeps a checksum beyond 2^53 exact", () => {
    const bytes = encodePccxTrace(sampleTimeline(), { arch: ARCH });
    const actual = fnv1a64(payloadOf(bytes));
    expect(actual > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true); // this fixture's hash is large
    expect(readPccxTrace(bytes).header.payload.checksumFnv64).toBe(actual);
  });

  it("accepts a hex-string checksum, a null checksum, any minor version and unknown fields", () => {
    const good = encodePccxTrace(tiny(), { arch: ARCH });
    const payload = payloadOf(good);
    const h = JSON.parse(quoteLargeIntegers(headerOf(good)));
    h.payload.checksum_fnv64 = formatFnv64(fnv1a64(payload));
    h.future_field = { x: 1 };
    const hex = readPccxTrace(
      assemble(
        JSON.stringify(h),
        payload,
        poke(5, () => 7),
      ),
    );
    expect(hex.minor).toBe(7);
    expect(hex.checksumVerified).toBe(true);
    h.payload.checksum_fnv64 = null;
    const none = readPccxTrace(assemble(JSON.stringify(h), payload));
    expect(none.checksumVerified).toBe(false);
    expect(none.records.length).toBe(2);
  });

  it("rejects damaged files with precise codes and byte offsets", () => {
    const good = encodePccxTrace(tiny(), { arch: ARCH });
    const header = headerOf(good);
    const payload = payloadOf(good);
    const hlen = enc(header).length;
    const cases: [string, Uint8Array, string, number, number][] = [
      ["short", good.slice(0, 10), "report/pccx-truncated", 0, 2],
      [
        "magic",
        assemble(
          header,
          payload,
          poke(0, () => 0x51),
        ),
        "report/pccx-magic",
        0,
        2,
      ],
      [
        "major",
        assemble(
          header,
          payload,
          poke(4, () => 2),
        ),
        "report/pccx-version",
        4,
        3,
      ],
      [
        "header length",
        assemble(header, payload, (b) => new DataView(b.buffer).setBigUint64(8, 1n << 40n, true)),
        "report/pccx-header-length",
        8,
        2,
      ],
      ["json", assemble(`${header.slice(0, -1)},}`, payload), "report/pccx-header-json", 16, 2],
      [
        "utf8",
        assemble(
          header,
          payload,
          poke(18, () => 0xff),
        ),
        "report/pccx-header-utf8",
        16,
        2,
      ],
      ["truncated payload", good.slice(0, good.length - 5), "report/pccx-byte-length", 16 + hlen, 2],
      ["trailing bytes", new Uint8Array([...good, 0]), "report/pccx-byte-length", 16 + hlen, 2],
      [
        "encoding",
        assemble(header.replace('"flatbuf"', '"bincode"'), payload),
        "report/pccx-encoding",
        16,
        3,
      ],
      [
        "alignment",
        assemble(header.replace('"byte_length":48', '"byte_length":47'), payload.subarray(0, 47)),
        "report/pccx-alignment",
        16 + hlen + 24,
        2,
      ],
      [
        "checksum",
        assemble(
          header,
          payload,
          poke(16 + hlen + 5, (x) => x ^ 1),
        ),
        "report/pccx-checksum",
        16 + hlen,
        2,
      ],
      [
        "missing field",
        assemble(header.replace('"cores":2,', ""), payload),
        "report/pccx-header-field",
        16,
        2,
      ],
    ];
    for (const [what, bytes, code, offset, exit] of cases) {
      const e = thrown(() => readPccxTrace(bytes));
      expect({ what, code: e.code, offset: e.at?.byteOffset, exit: e.exitCode }).toEqual({
        what,
        code,
        offset,
        exit,
      });
      expect(e.message.length).toBeGreaterThan(10);
      expect(e.fix).toBeTruthy();
    }
  });

  it("names the missing header field by JSON path", () => {
    const good = encodePccxTrace(tiny(), { arch: ARCH });
    const e = thrown(() =>
      readPccxTrace(assemble(headerOf(good).replace('"cores":2,', ""), payloadOf(good))),
    );
    expect(e.at?.jsonPath).toBe("$.trace.cores");
  });

  it("round-trips random timelines (property)", () => {
    const timeline = fc
      .array(
        fc.record({
          track: fc.integer({ min: 0, max: 3 }),
          start: fc.integer({ min: 0, max: 2 ** 40 }),
          dur: fc.integer({ min: 0, max: 2 ** 20 }),
          kind: fc.constantFrom("compute", "dma_read", "dma_write", "stall", "barrier", "api" as const),
        }),
        { maxLength: 30 },
      )
      .map((evs): Timeline => {
        const tracks = ["a", "b", "c", "d"].map((name) => ({ name, group: "g" }));
        const events = evs.map((e, i) => ({
          track: tracks[e.track]!.name,
          name: `e${i}`,
          startCycle: e.start,
          durationCycles: e.dur,
          kind: e.kind as TimelineEvent["kind"],
        }));
        const cycles = Math.max(0, ...events.map((e) => e.startCycle + e.durationCycles));
        return { clockMhz: 400, cycles, tracks, events, meta: {} };
      });
    const ids = { compute: 1, dma_read: 2, dma_write: 3, stall: 4, barrier: 5, api: 6, host: 1 };
    fc.assert(
      fc.property(timeline, (t) => {
        const file = readPccxTrace(encodePccxTrace(t, { arch: ARCH }));
        const got = file.records
          .map((r) => [r.coreId, r.startCycle, r.duration, r.eventTypeId].join(":"))
          .sort();
        const want = t.events
          .map((e) =>
            [t.tracks.findIndex((x) => x.name === e.track), e.startCycle, e.durationCycles, ids[e.kind]].join(
              ":",
            ),
          )
          .sort();
        expect(got).toEqual(want);
        expect(file.header.trace.cycles).toBe(t.cycles);
      }),
      { numRuns: 60 },
    );
  });
});

describe("quoteLargeIntegers", () => {
  it("quotes only integer literals beyond 2^53, never inside strings", () => {
    const src =
      '{"a":18446744073709551615,"b":9007199254740991,"c":"123456789012345678901","d":1.5e300,"e":[-9007199254740993]}';
    expect(quoteLargeIntegers(src)).toBe(
      '{"a":"18446744073709551615","b":9007199254740991,"c":"123456789012345678901","d":1.5e300,"e":["-9007199254740993"]}',
    );
    expect(quoteLargeIntegers('{"s":"a\\"99999999999999999999"}')).toBe('{"s":"a\\"99999999999999999999"}');
  });
});
