/**
 * The generated driver compiles warning-free (-std=c11 -Wall -Wextra -Werror) with the host gcc
 * and with aarch64-linux-gnu-gcc, for every HAL: the simulation and Linux UIO HALs link into the
 * example program; the bare-metal HAL is compile-checked against a stub of the Xilinx BSP headers
 * (and compiles to nothing without PCCX_BAREMETAL). The Makefile builds the same way.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BSP_STUB_HEADERS, C_FLAGS, C_SOURCES, generateDriver, writeDriver } from "../../src/stubs/index.js";
import { hasTool } from "../../src/validate/cosim/index.js";
import { fixture, KV260, VOCAB } from "./fixture.js";

const COMPILERS = ["gcc", "aarch64-linux-gnu-gcc"].map((cc) => ({ cc, have: hasTool(cc) }));
for (const c of COMPILERS) {
  if (!c.have)
    console.warn(`test/stubs/compile.test.ts: ${c.cc} is not installed: its compile checks are skipped`);
}
const HAVE_MAKE = hasTool("make");
if (!HAVE_MAKE)
  console.warn("test/stubs/compile.test.ts: make is not installed: the Makefile check is skipped");

let work = "";
let dir = "";
let bsp = "";

function cc(compiler: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(compiler, args, { cwd: dir, encoding: "utf8" });
  return { ok: !r.error && r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

describe.skipIf(!COMPILERS.some((c) => c.have))("the generated driver compiles warning-free", () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "pccx-compile-"));
    dir = join(work, "driver");
    const f = fixture({ prefill: true });
    await writeDriver(generateDriver(f.program, KV260, { image: f.image, vocab: VOCAB }), dir);
    bsp = join(work, "bsp");
    await mkdir(bsp);
    for (const [name, text] of Object.entries(BSP_STUB_HEADERS)) await writeFile(join(bsp, name), text);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const { cc: compiler, have } of COMPILERS) {
    it.skipIf(!have)(`${compiler}: the example program with the sim and the uio HAL`, () => {
      // the common sources once, then each HAL, each linked into the example program
      const objs = C_SOURCES.map((src) => {
        const o = join(work, `${compiler}-${src}.o`);
        const r = cc(compiler, [...C_FLAGS, "-c", "-o", o, src]);
        expect(r.out, src).toBe("");
        expect(r.ok, src).toBe(true);
        return o;
      });
      for (const hal of ["sim", "uio"]) {
        const out = join(work, `run_${hal}_${compiler}`);
        const r = cc(compiler, [...C_FLAGS, "-o", out, ...objs, `pccx_hal_${hal}.c`, "-lm"]);
        expect(r.out, hal).toBe("");
        expect(r.ok, hal).toBe(true);
        expect(existsSync(out)).toBe(true);
      }
    });
    it.skipIf(!have)(`${compiler}: the exact co-simulation build (PCCX_EXACT) with the sim HAL`, () => {
      const out = join(work, `run_sim_exact_${compiler}`);
      const r = cc(compiler, [...C_FLAGS, "-DPCCX_EXACT", "-o", out, ...C_SOURCES, "pccx_hal_sim.c", "-lm"]);
      expect(r.out).toBe("");
      expect(r.ok).toBe(true);
      expect(existsSync(out)).toBe(true);
    });
    it.skipIf(!have)(
      `${compiler}: the bare-metal HAL against the BSP header stubs, and without PCCX_BAREMETAL`,
      () => {
        const with_ = cc(compiler, [
          ...C_FLAGS,
          "-DPCCX_BAREMETAL",
          "-DPCCX_NO_STDIO",
          `-I${bsp}`,
          "-c",
          "-o",
          join(work, "bm.o"),
          "pccx_hal_baremetal.c",
        ]);
        expect(with_.out).toBe("");
        expect(with_.ok).toBe(true);
        const runtime = cc(compiler, [
          ...C_FLAGS,
          "-DPCCX_NO_STDIO",
          "-c",
          "-o",
          join(work, "rt.o"),
          "pccx_runtime.c",
        ]);
        expect(runtime.ok, runtime.out).toBe(true);
        const without = cc(compiler, [...C_FLAGS, "-c", "-o", join(work, "none.o"), "pccx_hal_baremetal.c"]);
        expect(without.ok, without.out).toBe(true);
        // the stub headers are only stubs: without them the file does not build
        const noBsp = cc(compiler, [
          ...C_FLAGS,
          "-DPCCX_BAREMETAL",
          "-c",
          "-o",
          join(work, "x.o"),
          "pccx_hal_baremetal.c",
        ]);
        expect(noBsp.ok).toBe(false);
        expect(noBsp.out).toContain("xil_cache.h");
      },
    );
  }

  it.skipIf(!HAVE_MAKE || !COMPILERS[0]!.have)(
    "the Makefile builds the host program and checks the bare-metal HAL",
    () => {
      const r = spawnSync("make", ["HAL=sim", `BUILD=${join(work, "mk")}`], { cwd: dir, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(work, "mk", "pccx_run_sim"))).toBe(true);
      const b = spawnSync("make", ["baremetal-check", `BSP_INCLUDE=${bsp}`, `BUILD=${join(work, "mk")}`], {
        cwd: dir,
        encoding: "utf8",
      });
      expect(b.status, b.stderr).toBe(0);
    },
  );
});
