/**
 * The C host operations against the simulator's (TypeScript) on random inputs: one driver build
 * runs every host function through the co-simulation HAL; its outputs (flushed into the simulated
 * DDR) are compared with the simulator's own execution of the same steps on the same image.
 * Bitwise for arithmetic functions; within one float32/bf16 ulp for transcendental ones (libm and
 * V8 may round exp/tanh/erf/sin/cos differently in the last double bit). Twice: the driver as shipped
 * against the hardware numeric mode, and its PCCX_EXACT build against the exact mode (BF16 outputs
 * compared as their exact float32 values, INT4 KV tiles also by their unrounded codes).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DdrRegion } from "../../src/codegen/program.js";
import { generateDriver, writeDriver } from "../../src/stubs/index.js";
import { f32ToBf16 } from "../../src/util/float.js";
import {
  CosimExecutor,
  compileDriver,
  findToolchain,
  hasTool,
  runDriverProcess,
} from "../../src/validate/cosim/index.js";
import { driverVariables, FunctionalMachine, imageFromBytes } from "../../src/validate/sim/index.js";
import type { NumericMode } from "../../src/validate/sim/types.js";
import { KV260 } from "./fixture.js";
import { ALL_FUNCTIONS, COVERED, hostProgram } from "./host-cases.js";

const HAVE_GCC = hasTool("gcc");
if (!HAVE_GCC)
  console.warn(
    "test/stubs/host-ops.test.ts: gcc is not installed (apt-get install gcc): C/TS host-op agreement skipped",
  );

const PROMPT = [1, 3, 0, 5];
const hp = hostProgram();
let work = "";
const bins: Record<NumericMode, string> = { hardware: "", exact: "" };

/** Random inputs: bf16 regions get bf16 values in [-3, 3), f32 regions float32 values. */
function image(seed: number): Uint8Array {
  const end = Math.max(...hp.program.ddr.map((r) => r.offset + r.bytes));
  const out = new Uint8Array(end);
  const dv = new DataView(out.buffer);
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x297a2d39) >>> 0;
    return (s / 2 ** 32) * 6 - 3;
  };
  const isF32 = (r: DdrRegion) =>
    hp.program.segments[0]!.steps.some(
      (st) => st.kind === "host" && st.inputs.some((o) => o.region === r.name && o.dtype === "f32"),
    );
  for (const r of hp.inputRegions) {
    if (isF32(r)) for (let i = 0; i + 4 <= r.bytes; i += 4) dv.setFloat32(r.offset + i, rnd(), true);
    else for (let i = 0; i + 2 <= r.bytes; i += 2) dv.setUint16(r.offset + i, f32ToBf16(rnd()), true);
  }
  return out;
}

/** float32 values → ordered integers, so that a difference counts ulps. */
function ulpKey(x: number, bf16: boolean): number {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, x);
  let u = b.getInt32(0);
  if (u < 0) u = -2147483648 - u;
  return bf16 ? Math.trunc(u / 65536) : u;
}

async function runBoth(seed: number, mode: NumericMode = "hardware") {
  const img = image(seed);
  const weights = join(work, `w${seed >>> 0}.bin`);
  await writeFile(weights, img);
  const x = new CosimExecutor(hp.program, KV260, { mode });
  const run = await runDriverProcess(
    [bins[mode], "--weights", weights, "--tokens", "1", "--hal", "fds=3,3", ...PROMPT.map(String)],
    x,
    KV260,
    60_000,
  );
  const m = new FunctionalMachine(hp.program, imageFromBytes(img), KV260, { mode });
  PROMPT.forEach((tok, pos) => {
    m.runSegment("decode", driverVariables(hp.program.variables, pos, [tok]));
  });
  return { run, x, m };
}

describe.skipIf(!HAVE_GCC)("host operations: C driver vs simulator (src/codegen/host-ops)", () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "pccx-hostops-"));
    await writeDriver(generateDriver(hp.program, KV260, { vocab: 16 }), join(work, "driver"));
    bins.hardware = join(work, "pccx_run_sim");
    compileDriver(findToolchain({}), join(work, "driver"), "sim", bins.hardware);
    bins.exact = join(work, "pccx_run_sim_exact");
    compileDriver(findToolchain({}), join(work, "driver"), "sim", bins.exact, ["PCCX_EXACT"]);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("the cases cover every host function of the list", () => {
    expect([...COVERED].sort()).toEqual([...ALL_FUNCTIONS].sort());
  });

  it.each<NumericMode>(["hardware", "exact"])(
    "%s: every output agrees on random inputs (bitwise, or within one ulp for transcendental functions)",
    async (mode) => {
      let codes = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer(), async (seed) => {
          const { run, x, m } = await runBoth(seed, mode);
          let compared = 0;
          let differing = 0;
          expect(run.stderr).toBe("");
          expect(run.code).toBe(0);
          expect(m.log.faults.map((f) => f.message)).toEqual([]);
          expect(x.faultList).toEqual([]);
          for (const c of hp.cases) {
            for (const o of c.outputs) {
              // exact mode reads BF16 outputs from the exact float32 copies (the driver's shadows)
              const ref = m.read({ region: o.region, elements: o.elements, dtype: o.dtype });
              const r = x.state.ddr.region(o.region)!;
              const got = x.state.ddr.readTyped(r, 0, o.elements, o.dtype);
              const bf16 = o.dtype === "bf16" && mode === "hardware";
              // not vacuous: every output holds something the function wrote (argmax may pick index 0)
              if (c.fn !== "argmax")
                expect(
                  got.some((v) => v !== 0),
                  `${c.name} ${o.region} is all zeros`,
                ).toBe(true);
              for (let i = 0; i < o.elements; i++) {
                const a = got[i]!;
                const b = ref[i]!;
                compared++;
                if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
                differing++;
                const d = Math.abs(ulpKey(a, bf16) - ulpKey(b, bf16));
                expect(d, `${c.name} ${o.region}[${i}]: C ${a}, simulator ${b}`).toBeLessThanOrEqual(c.ulps);
              }
            }
          }
          // exact mode: the unrounded INT4 codes of the KV tiles agree too (NaN: none recorded)
          if (mode === "exact") {
            for (const r of hp.program.ddr) {
              const want = m.state.ddr.region(r.name)?.exactCodes;
              if (!want) continue;
              const have = x.state.ddr.region(r.name)?.exactCodes;
              expect(have, `${r.name} codes`).toBeDefined();
              for (let i = 0; i < want.length; i++) {
                if (Number.isNaN(want[i]!)) continue;
                codes++;
                expect(have![i], `${r.name} code ${i}`).toBe(want[i]);
              }
            }
          }
          // bitwise in practice (glibc and V8 agree on every value seen); the ulp is for other libms
          expect(differing).toBeLessThanOrEqual(compared / 100);
        }),
        { numRuns: 4 },
      );
      if (mode === "exact") expect(codes).toBeGreaterThan(0);
    },
  );

  it("the host functions that set variables set the simulator's values (kv_write, kv_view, moe_route)", async () => {
    const { x, m } = await runBoth(42);
    const notes = x.events.filter((l) => l.startsWith("# var "));
    const last = new Map(notes.map((l) => l.slice(6).split(" ") as [string, string]));
    for (const name of [
      "kv_len[0]",
      "kv_slot[1]",
      "kv_len[1]",
      "kv_blocks[1]",
      "kv_slot[2]",
      "kv_len[2]",
      "kv_blocks[2]",
      "kv_rows[2][0][0]",
      "kv_rows[2][2][1]",
      "kv_slot[3]",
      "kv_rows[3][0][1]",
      "kv_rows[3][1][0]",
      "kv_rows[3][1][1]",
      "kv_len[4]",
      "kv_rows[4][0][2]",
      "kv_rows[4][1][0]",
      "kv_rows[4][2][2]",
      "expert[0][0]",
      "expert[0][1]",
      "expert[1][2]",
    ]) {
      expect(last.get(name), name).toBe(String(m.state.variables.get(name)));
    }
    // int4_tiles chunk rows at pos 3 (kv_rows: N = clamp(kv_len − c·chunk, 0, chunk), r = ceil(N / ports))
    expect([
      last.get("kv_rows[2][2][1]"),
      last.get("kv_rows[3][1][1]"),
      last.get("kv_rows[4][0][1]"),
    ]).toEqual(["3", "0", "2"]);
  });
});
