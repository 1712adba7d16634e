/**
 * Co-simulation of the generated driver (gcc build, and the aarch64 build under qemu-user) against
 * the functional simulator, on the hand-written tiny program of test/stubs/fixture.ts: tokens,
 * event logs on both sides, step-by-step conformance — and the same checks catching a driver that
 * was broken on purpose.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExitCode, PccxError } from "../../src/diag/index.js";
import { type CosimNumeric, findToolchain, hasTool, runCosim } from "../../src/validate/cosim/index.js";
import { simulateGeneration } from "../../src/validate/sim/generate.js";
import { imageFromBytes } from "../../src/validate/sim/run.js";
import { fixture, KV260, VOCAB } from "../stubs/fixture.js";

const HAVE_GCC = hasTool("gcc");
const HAVE_QEMU = hasTool("aarch64-linux-gnu-gcc") && hasTool("qemu-aarch64");
if (!HAVE_GCC)
  console.warn(
    "test/cosim/cosim.test.ts: gcc is not installed (apt-get install gcc): co-simulation tests skipped",
  );
if (!HAVE_QEMU) {
  console.warn(
    "test/cosim/cosim.test.ts: aarch64-linux-gnu-gcc or qemu-aarch64 missing (apt-get install gcc-aarch64-linux-gnu qemu-user): the qemu run is skipped",
  );
}

const PROMPT = [3, 5, 7];

async function cosim(
  opts: {
    prefill?: boolean;
    qemu?: boolean;
    patch?: (dir: string) => Promise<void>;
    args?: string[];
    busyPolls?: number;
    numeric?: CosimNumeric;
    golden?: number[];
  } = {},
) {
  const f = fixture({ prefill: opts.prefill ?? false });
  return runCosim({
    program: f.program,
    target: KV260,
    image: f.image,
    prompt: PROMPT,
    tokens: 5,
    vocab: VOCAB,
    ...(opts.qemu ? { qemu: true } : {}),
    ...(opts.patch ? { patchDriver: opts.patch } : {}),
    ...(opts.args ? { extraArgs: opts.args } : {}),
    ...(opts.busyPolls !== undefined ? { busyPolls: opts.busyPolls } : {}),
    ...(opts.numeric ? { numeric: opts.numeric } : {}),
    ...(opts.golden ? { golden: opts.golden } : {}),
  });
}

/** The exact simulator's generation of the fixture: the golden tokens of its dequantized weights. */
function exactTokens(prefill: boolean): number[] {
  const f = fixture({ prefill });
  const run = simulateGeneration(f.program, imageFromBytes(f.image), KV260, PROMPT, 5, "exact", {
    logits: { vocab: VOCAB },
  });
  return [...run.tokens];
}

/** Replaces text in a generated C file (the replacement must apply). */
const edit = (file: string, from: string, to: string) => async (dir: string) => {
  const p = join(dir, file);
  const text = await readFile(p, "utf8");
  if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
  await writeFile(p, text.replace(from, to));
};

describe.skipIf(!HAVE_GCC)("pccxc cosim: the gcc-built driver against the simulator", () => {
  it("decode-only program: tokens equal the simulator's, logs identical, every write conforms", async () => {
    const r = await cosim({ args: ["--reset-repeat"] });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.driverTokens).toEqual([r.simulatorTokens, r.simulatorTokens]); // pccx_reset gives the same generation
    expect(new Set(r.simulatorTokens).size).toBeGreaterThan(1); // the fixture's tokens vary
    expect(r.logsEqual).toBe(true);
    // load + 3 prompt tokens + 4 fed decode tokens, each run checked word by word
    expect(r.conformance).toMatchObject({ runs: 8, problems: [] });
    expect(r.conformance.npu).toBe(6 + 7 * 7);
    expect(r.conformance.dma).toBe(1 + 7 * 7);
  });

  it("program with a prefill segment", async () => {
    const r = await cosim({ prefill: true });
    expect(r.failures).toEqual([]);
    expect(r.conformance.runs).toBe(8);
  });

  it("two numeric passes: the shipped driver against hardware mode, the PCCX_EXACT build against exact mode, whose tokens are golden", async () => {
    const golden = exactTokens(true);
    const r = await cosim({ prefill: true, golden });
    expect(r.failures).toEqual([]);
    expect(r.passes.map((p) => p.numeric)).toEqual(["hardware", "exact"]);
    const [hw, ex] = r.passes;
    expect(ex!.driverTokens).toEqual([golden]);
    expect(ex!.simulatorTokens).toEqual(golden);
    expect(r.goldenEqual).toBe(true);
    for (const p of r.passes) {
      expect(p.failures, p.numeric).toEqual([]);
      expect(p.conformance.problems).toEqual([]);
      expect(p.conformance.runs).toBe(8);
      // the last logits in the simulated DDR are bitwise the reference's (exact: unrounded values)
      expect(p.finalLogits).toMatchObject({ compared: VOCAB, differing: 0 });
    }
    // the top-level fields are the hardware pass's
    expect(r.driverTokens).toEqual(hw!.driverTokens);
    expect(r.simulatorTokens).toEqual(hw!.simulatorTokens);
  });

  it("golden tokens the driver does not reproduce fail the exact pass and say whether the program departs too", async () => {
    const golden = exactTokens(false);
    golden[4] = (golden[4]! + 1) % VOCAB;
    const r = await cosim({ golden });
    expect(r.ok).toBe(false);
    expect(r.goldenEqual).toBe(false);
    expect(r.passes.map((p) => p.failures)).toEqual([[], []]);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatch(
      /^exact: driver tokens \[[\d,]+\] differ from the golden reference's \[[\d,]+\] \(the exact simulator's differ too: the program, not the driver, departs from the model\)$/,
    );
  });

  it("an exact build that does not hand its float32 shadows to the simulator departs from the exact mode", async () => {
    const r = await cosim({
      patch: edit(
        "pccx_hal_sim.c",
        "if (b->wide) { /* float32 payloads",
        "if (0 && b->wide) { /* float32 payloads",
      ),
    });
    const [hw, ex] = r.passes;
    expect(hw!.failures).toEqual([]);
    expect(hw!.finalLogits?.differing).toBe(0);
    // the BF16 data crossing DDR is rounded again: the exact values no longer hold
    expect(ex!.finalLogits?.differing).toBeGreaterThan(0);
  });

  it("a driver that skips the cache flush after host steps produces wrong data", async () => {
    const r = await cosim({
      patch: edit(
        "pccx_runtime.c",
        "pccx_hal_cache_flush(c->hal, &c->bufs[o->region], (size_t)ss->in_off[k], (size_t)bytes[k]);",
        "(void)o;",
      ),
    });
    expect(r.ok).toBe(false);
    expect(r.failures.join("\n")).toMatch(/differ from the simulator's/);
  });

  it("a driver that skips relocations fails conformance and the tokens", async () => {
    const r = await cosim({
      patch: edit(
        "pccx_runtime.c",
        "s = apply_reloc(c, &p->relocs[r], &ss);",
        "s = 0 ? apply_reloc(c, &p->relocs[r], &ss) : PCCX_OK;",
      ),
    });
    expect(r.ok).toBe(false);
    expect(r.conformance.problems[0]).toMatch(
      /decode step 0 \(embedding row of token #\d+\): expected "dm 4 /,
    );
  });

  it("a driver that drops the DataMover tag from its commands fails the conformance check", async () => {
    const r = await cosim({
      patch: edit(
        "pccx_hal.h",
        "pccx_dm_put(&c, PCCX_DM_CMD_TAG_LSB, PCCX_DM_CMD_TAG_BITS, tag);",
        "(void)tag;",
      ),
    });
    expect(r.ok).toBe(false);
    expect(r.failures.join("\n")).toMatch(/event log does not follow the program/);
  });

  it("temperature sampling is seeded: pccx_reset replays it; it departs from greedy decoding", async () => {
    const r = await cosim({
      args: ["--temperature", "3", "--top-p", "0.95", "--seed", "11", "--reset-repeat"],
      numeric: "hardware",
    });
    expect(r.driverExit).toBe(0);
    expect(r.driverTokens[1]).toEqual(r.driverTokens[0]);
    expect(r.driverTokens[0]).not.toEqual(r.simulatorTokens);
    // everything but the greedy comparison holds: the driver fed its own samples correctly
    expect(r.logsEqual).toBe(true);
    expect(r.conformance.problems).toEqual([]);
    expect(r.simulatorFaults).toEqual([]);
  });

  it("an NPU that stays BUSY ends in PCCX_ERR_TIMEOUT naming the segment and step", async () => {
    const r = await cosim({ busyPolls: 1e9, args: ["--timeout-us", "20000"], numeric: "hardware" });
    expect(r.driverExit).toBe(10 + 7);
    expect(r.driverStderr).toMatch(/PCCX_ERR_TIMEOUT: .*\n.*the NPU stays BUSY .*\[segment load step 7\]/);
  });

  it("a missing compiler is exit 3 naming the Debian package", () => {
    let e: unknown;
    try {
      findToolchain({ cc: "pccx-no-such-cc" });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(PccxError);
    expect((e as PccxError).exitCode).toBe(ExitCode.UNSUPPORTED);
    expect((e as PccxError).code).toBe("cosim/missing-tool");
    expect((e as PccxError).fix).toContain("apt-get install pccx-no-such-cc");
  });
});

describe.skipIf(!HAVE_QEMU)("pccxc cosim --qemu: the aarch64 driver under qemu-user", () => {
  it("runs the same co-simulation: tokens, logs and conformance all agree", async () => {
    const r = await cosim({ prefill: true, qemu: true });
    expect(r.failures).toEqual([]);
    expect(r.platform).toBe("qemu-aarch64");
    expect(r.driverTokens).toEqual([r.simulatorTokens]);
    expect(r.conformance).toMatchObject({ runs: 8, problems: [] });
    // the exact build too: the aarch64 shadows cross the protocol as the x86 ones do
    expect(r.passes.map((p) => [p.numeric, p.driverTokens])).toEqual([
      ["hardware", [r.simulatorTokens]],
      ["exact", [exactTokens(true)]],
    ]);
  });
});
