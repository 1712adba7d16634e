import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PccxError } from "../../../src/diag/index.js";
import { DTYPE_NAMES, dtypeInfo } from "../../../src/parser/safetensors/dtype.js";
import { parseSafetensorsBytes, type SafetensorsHeader } from "../../../src/parser/safetensors/header.js";
import { type RawTensor, rawFile, safetensorsBytes } from "./fixtures.js";

/** Either a header satisfying every invariant, or a PccxError with exit code 2: never anything else. */
function checkOutcome(bytes: Uint8Array): "ok" | "rejected" {
  let h: SafetensorsHeader;
  try {
    h = parseSafetensorsBytes(bytes, "fuzz.safetensors");
  } catch (e) {
    if (!(e instanceof PccxError)) throw new Error(`raw exception escaped: ${String(e)}`);
    expect(e.exitCode).toBe(2);
    expect(e.code).toMatch(/^safetensors\//);
    return "rejected";
  }
  let pos = 0;
  for (const t of h.tensors) {
    expect(t.begin).toBe(pos);
    const bits = BigInt(dtypeInfo(t.dtype).bits) * t.shape.reduce((p, d) => p * BigInt(d), 1n);
    expect(BigInt(t.end - t.begin) * 8n).toBe(bits);
    pos = t.end;
  }
  expect(h.dataStart + pos).toBe(bytes.length);
  return "ok";
}

const tensorArb: fc.Arbitrary<RawTensor> = fc.record({
  name: fc.oneof(
    fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== "__metadata__"),
    fc.constantFrom("__proto__", "constructor", "toString", "a.b.0.weight"),
  ),
  dtype: fc.constantFrom(...DTYPE_NAMES.filter((d) => dtypeInfo(d).bits % 8 === 0)),
  shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
});

const validFile = fc
  .uniqueArray(tensorArb, { maxLength: 5, selector: (t) => t.name })
  .map((ts) => safetensorsBytes(ts, { format: "pt" }));

function headerOf(bytes: Uint8Array): { json: Record<string, unknown>; dataBytes: number } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const json = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8"));
  return { json, dataBytes: bytes.length - 8 - n };
}

const weird = fc.oneof(
  fc.integer({ min: -5, max: 40 }),
  fc.constantFrom(2 ** 53, 2 ** 64, -0, 1.5, Number.MAX_SAFE_INTEGER, 1e308),
  fc.string({ maxLength: 4 }),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }),
);

type Mutation = (json: Record<string, unknown>, name: string) => void;
const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  weird.map(
    (v): Mutation =>
      (j, n) =>
        ((j[n] as Record<string, unknown>).data_offsets = [0, v]),
  ),
  fc.integer({ min: -3, max: 3 }).map(
    (d): Mutation =>
      (j, n) => {
        const e = j[n] as { data_offsets: unknown };
        const o = Array.isArray(e.data_offsets) ? (e.data_offsets as number[]) : [0, 0];
        e.data_offsets = [Number(o[0]) + d, o[1]];
      },
  ),
  fc.oneof(fc.constantFrom(...DTYPE_NAMES), weird).map(
    (v): Mutation =>
      (j, n) =>
        ((j[n] as Record<string, unknown>).dtype = v),
  ),
  fc.array(weird, { maxLength: 3 }).map(
    (v): Mutation =>
      (j, n) =>
        ((j[n] as Record<string, unknown>).shape = v),
  ),
  fc.constantFrom("dtype", "shape", "data_offsets").map(
    (k): Mutation =>
      (j, n) =>
        delete (j[n] as Record<string, unknown>)[k],
  ),
  weird.map(
    (v): Mutation =>
      (j, n) =>
        (j[n] = v),
  ),
  weird.map(
    (v): Mutation =>
      (j) =>
        (j["__metadata__"] = { k: v }),
  ),
);

describe("safetensors header fuzzing: always a typed error with exit code 2, never a crash or hang", () => {
  it("random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void checkOutcome(b)),
      { numRuns: 400 },
    );
  });

  it("random bytes behind a plausible length prefix", () => {
    const arb = fc.tuple(fc.string({ maxLength: 80 }), fc.integer({ min: -4, max: 4 }), fc.nat(16));
    fc.assert(
      fc.property(arb, ([text, skew, data]) => {
        const body = Buffer.from(text, "utf8");
        const b = new Uint8Array(8 + body.length + data);
        new DataView(b.buffer).setBigUint64(0, BigInt(Math.max(0, body.length + skew)), true);
        b.set(body, 8);
        checkOutcome(b);
      }),
      { numRuns: 400 },
    );
  });

  it("valid files parse", () => {
    fc.assert(
      fc.property(validFile, (b) => void expect(checkOutcome(b)).toBe("ok")),
      { numRuns: 200 },
    );
  });

  it("mutated length field", () => {
    const arb = fc.tuple(
      validFile,
      fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: -9, max: 9 })),
    );
    fc.assert(
      fc.property(arb, ([b, v]) => {
        const dv = new DataView(b.buffer, b.byteOffset);
        const n = dv.getBigUint64(0, true);
        const next = typeof v === "bigint" ? v : n + BigInt(v);
        dv.setBigUint64(0, next < 0n ? 0n : next, true);
        checkOutcome(b);
      }),
      { numRuns: 300 },
    );
  });

  it("mutated JSON text bytes and truncation", () => {
    const arb = fc.tuple(validFile, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean());
    fc.assert(
      fc.property(arb, ([b, at, value, truncate]) => {
        if (truncate) return void checkOutcome(b.subarray(0, at % (b.length + 1)));
        const copy = b.slice();
        copy[8 + (at % Math.max(1, copy.length - 8))] = value;
        checkOutcome(copy);
      }),
      { numRuns: 400 },
    );
  });

  it("mutated offsets, dtypes, shapes, entries and metadata", () => {
    const arb = fc.tuple(
      validFile,
      fc.array(mutations, { minLength: 1, maxLength: 3 }),
      fc.nat(),
      fc.integer({ min: -2, max: 2 }),
    );
    const seen = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(arb, ([b, muts, pick, dataSkew]) => {
        const { json, dataBytes } = headerOf(b);
        const names = Object.keys(json).filter((k) => k !== "__metadata__");
        if (names.length === 0) names.push("x");
        if (!json[names[0]!]) json[names[0]!] = { dtype: "U8", shape: [1], data_offsets: [0, 1] };
        for (const m of muts) {
          const name = names[pick % names.length]!;
          if (json[name] === null || typeof json[name] !== "object")
            json[name] = { dtype: "U8", shape: [], data_offsets: [0, 1] };
          m(json, name);
        }
        seen[checkOutcome(rawFile(json, Math.max(0, dataBytes + dataSkew)))]++;
      }),
      { numRuns: 400 },
    );
    // the mutations must mostly produce invalid headers, or the property tests nothing
    expect(seen.rejected).toBeGreaterThan(200);
  });
});
