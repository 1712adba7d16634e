/**
 * The F16 scale rounding of the C kv_write (int4_tiles) against the simulator's roundScale + f16Bits:
 * the host-op agreement test runs on KV260, whose scales are bf16, so the f16 path is checked here
 * directly on float32 values around every boundary (subnormals, ties, the overflow threshold).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { f16Bits, roundScale } from "../../src/layout/quant/rounding.js";
import { generateDriver, writeDriver } from "../../src/stubs/index.js";
import { hasTool } from "../../src/validate/cosim/index.js";
import { KV260 } from "./fixture.js";
import { hostProgram } from "./host-cases.js";

const HAVE_GCC = hasTool("gcc");
if (!HAVE_GCC)
  console.warn(
    "test/stubs/kv-scale.test.ts: gcc is not installed (apt-get install gcc): F16 scale check skipped",
  );

/** float32 values: boundaries of the F16 range and random magnitudes over 2^-30 … 2^17. */
function values(): number[] {
  const out = [
    0,
    2 ** -25,
    2 ** -24,
    1.5 * 2 ** -24,
    2.5 * 2 ** -24,
    2 ** -14,
    2 ** -14 - 2 ** -25,
    1,
    1 + 2 ** -11,
  ];
  out.push(1 + 3 * 2 ** -11, 65504, 65519.99, 65520, 65535, 1e6, 3 * 2 ** -26, 6.103e-5);
  let s = 12345;
  for (let i = 0; i < 2000; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x297a2d39) >>> 0;
    out.push(Math.fround(2 ** (-30 + (47 * s) / 2 ** 32)));
  }
  return out.map(Math.fround);
}

let work = "";
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(!HAVE_GCC)("kv_write int4_tiles: F16 scales round as the simulator's", () => {
  it("f16_bits_of equals f16Bits(roundScale(x, 'f16')) bit for bit", async () => {
    work = await mkdtemp(join(tmpdir(), "pccx-kvscale-"));
    const dir = join(work, "driver");
    await writeDriver(generateDriver(hostProgram().program, KV260, { vocab: 16 }), dir);
    const xs = values();
    const bits = new Uint32Array(Float32Array.from(xs).buffer);
    await writeFile(
      join(dir, "t.c"),
      [
        '#include "pccx_host_ops.c"',
        "int main(void) {",
        `  static const uint32_t in[${xs.length}] = {${[...bits].map((b) => `${b}u`).join(",")}};`,
        `  for (unsigned i = 0; i < ${xs.length}u; i++) {`,
        "    float x;",
        "    memcpy(&x, &in[i], 4u);",
        '    printf("%u\\n", (unsigned)f16_bits_of(x));',
        "  }",
        "  return 0;",
        "}",
        "",
      ].join("\n"),
    );
    const exe = join(work, "t");
    const cc = spawnSync("gcc", ["-std=c11", "-O2", "-ffp-contract=off", "-o", exe, "t.c", "-lm"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(cc.stderr).toBe("");
    const run = spawnSync(exe, [], { encoding: "utf8" });
    const got = run.stdout.trim().split("\n").map(Number);
    const want = xs.map((x) => f16Bits(roundScale(x, "f16")));
    expect(got).toEqual(want);
    expect(new Set(want).size).toBeGreaterThan(1000); // the values span the format
    expect(want).toContain(0x7c00); // overflow to infinity is among them
  });
});
