/**
 * Fuzzing the program.bin reader: mutated containers (flipped bytes, overwritten words, truncation,
 * directory damage) must give either a valid Program or a PccxError with exit code 2 — never any
 * other exception. Run with the checksum on (the usual first line of defence) and off (so that the
 * mutations reach every record check), and with the checksum recomputed after mutating.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  crc32,
  encodeProgramBin,
  readProgramBin,
  renderProgramJson,
} from "../../../src/codegen/artifacts/index.js";
import { ExitCode, PccxError } from "../../../src/diag/index.js";
import { FIXTURE } from "./fixture.js";
import { programArb } from "./helpers.js";

const base = [
  encodeProgramBin(FIXTURE),
  ...fc.sample(programArb, { numRuns: 6, seed: 7 }).map((p) => encodeProgramBin(p)),
];

type Mutation =
  | { kind: "byte"; at: number; value: number }
  | { kind: "u32"; at: number; value: number }
  | { kind: "truncate"; at: number };

const interesting = fc.oneof(
  fc.constantFrom(0, 1, 2, 7, 8, 0xff, 0xffff, 0xfffffffe, 0xffffffff, 0x80000000),
  fc.nat({ max: 0xffffffff }),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("byte" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant("u32" as const), at: fc.nat(), value: interesting }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

function mutate(src: Uint8Array, ms: readonly Mutation[], directoryBias: boolean): Uint8Array {
  let b = src.slice();
  for (const m of ms) {
    // bias half the writes to the header and directory, where one bad word matters most
    const span = directoryBias ? Math.min(b.length, 64 + 16 * 16) : b.length;
    if (b.length === 0) break;
    if (m.kind === "truncate") b = b.slice(0, m.at % (b.length + 1));
    else if (m.kind === "byte") b[m.at % b.length] = m.value;
    else if (b.length >= 4) {
      const at = (m.at % Math.max(1, span - 3)) & ~3;
      new DataView(b.buffer).setUint32(at, m.value, true);
    }
  }
  return b;
}

function resign(b: Uint8Array): Uint8Array {
  if (b.length < 64) return b;
  const v = new DataView(b.buffer);
  v.setUint32(56, 0, true);
  v.setUint32(56, crc32(b), true);
  return b;
}

/** Read, and require success or a typed invalid-input error. */
function readsOrRejects(b: Uint8Array, verifyChecksum: boolean): "ok" | string {
  try {
    const p = readProgramBin(b, { verifyChecksum });
    // whatever was accepted is a consistent program: it writes again without complaint
    renderProgramJson(p);
    encodeProgramBin(p);
    return "ok";
  } catch (e) {
    if (!(e instanceof PccxError)) throw new Error(`reader crashed: ${(e as Error).stack}`);
    expect(e.exitCode).toBe(ExitCode.INVALID_INPUT);
    expect(e.code).toMatch(/^(artifacts|isa)\//);
    return e.code;
  }
}

describe("program.bin reader under fuzzing", () => {
  const arb = fc.tuple(
    fc.nat(base.length - 1),
    fc.array(mutation, { minLength: 1, maxLength: 6 }),
    fc.boolean(),
  );

  it("never crashes with the checksum verified", () => {
    fc.assert(
      fc.property(arb, ([i, ms, bias]) => {
        readsOrRejects(mutate(base[i]!, ms, bias), true);
      }),
      { numRuns: 300 },
    );
  });

  it("never crashes with the checksum off or recomputed (every record check is reached)", () => {
    const codes = new Set<string>();
    fc.assert(
      fc.property(arb, fc.boolean(), ([i, ms, bias], sign) => {
        const b = mutate(base[i]!, ms, bias);
        codes.add(readsOrRejects(sign ? resign(b) : b, false));
      }),
      { numRuns: 600 },
    );
    // the mutations reach well past the header checks
    expect(codes.size).toBeGreaterThan(6);
  });

  it("rejects every single-byte change somewhere in the file when the checksum is on", () => {
    const b = base[0]!;
    for (let at = 0; at < b.length; at += 37) {
      const m = b.slice();
      m[at] = m[at]! ^ 0x5a;
      expect(readsOrRejects(m, true)).not.toBe("ok");
    }
  });
});
