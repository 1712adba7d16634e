/**
 * The driver feeds a prompt as the simulator's `promptRuns` does (docs/program.md §2): whole chunks
 * through the prefill segment while the chunk's position is at most the segment's `maxPos`, the
 * rest token by token through decode. The segment's maxPos travels in the C tables (k_segments).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  encodeProgramBin,
  parseProgramBin,
  readProgramJson,
  renderProgramJson,
} from "../../src/codegen/artifacts/index.js";
import { generateDriver, writeDriver } from "../../src/stubs/index.js";
import {
  CosimExecutor,
  compileDriver,
  findToolchain,
  hasTool,
  runDriverProcess,
} from "../../src/validate/cosim/index.js";
import { promptRuns } from "../../src/validate/sim/generate.js";
import { fixture, KV260, VOCAB } from "./fixture.js";

const HAVE_GCC = hasTool("gcc");
if (!HAVE_GCC)
  console.warn(
    "test/stubs/prompt-runs.test.ts: gcc is not installed (apt-get install gcc): prompt runs skipped",
  );

const PROMPT = [3, 5, 7, 2, 4];

describe("maxPos in the C tables", () => {
  it("k_segments carries each segment's maxPos (PCCX_NO_MAX_POS when it has none)", () => {
    const { files } = generateDriver(fixture({ prefill: true, maxPos: 1 }).program, KV260, { vocab: VOCAB });
    const model = files.get("pccx_model.c")!;
    expect(model).toMatch(/\{"prefill", 1, \d+u, \d+u, 1ll\}/);
    expect(model).toMatch(/\{"decode", 2, \d+u, \d+u, PCCX_NO_MAX_POS\}/);
    expect(files.get("pccx_program.h")).toContain("int64_t max_pos;");
    expect(files.get("pccx_program.h")).toContain("#define PCCX_NO_MAX_POS INT64_MAX");
  });

  it("accepts what the program artifacts accept: a negative maxPos (never replayed) survives program.json and program.bin", () => {
    const f = fixture({ prefill: true, maxPos: -3 });
    // the artifacts side: both files carry it and read it back
    const fromJson = readProgramJson(renderProgramJson(f.program), { file: "program.json" });
    const fromBin = parseProgramBin(encodeProgramBin(f.program), { file: "program.bin" }).program;
    for (const p of [fromJson, fromBin]) {
      expect(p.segments.find((s) => s.kind === "prefill")?.maxPos).toBe(-3);
      // the driver side: the same program generates, with the negative position in k_segments
      const model = generateDriver(p, KV260, { vocab: VOCAB }).files.get("pccx_model.c")!;
      expect(model).toMatch(/\{"prefill", 1, \d+u, \d+u, -3ll\}/);
    }
  });

  it("rejects a maxPos that is not a safe integer, as the artifacts do", () => {
    const f = fixture({ prefill: true, maxPos: 1.5 });
    // one rule for both: codegen/artifacts/check.ts, which generateDriver applies through viewProgram
    expect(() => generateDriver(f.program, KV260, {})).toThrow(/max_pos: 1\.5 is not a position/);
    expect(() => readProgramJson(renderProgramJson(f.program), { file: "program.json" })).toThrow();
  });
});

describe.skipIf(!HAVE_GCC)("the driver's prompt runs follow the simulator's promptRuns", () => {
  let work = "";
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "pccx-prompt-runs-"));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The driver's segment runs after load: [segment, pos]. */
  async function driverRuns(maxPos: number | undefined): Promise<[string, number][]> {
    const f = fixture({ prefill: true, ...(maxPos !== undefined ? { maxPos } : {}) });
    const dir = join(work, `m${maxPos ?? "none"}`);
    await writeDriver(generateDriver(f.program, KV260, { vocab: VOCAB }), join(dir, "driver"));
    const bin = join(dir, "pccx_run_sim");
    compileDriver(findToolchain({}), join(dir, "driver"), "sim", bin);
    const weights = join(dir, "w.bin");
    await writeFile(weights, f.image);
    const x = new CosimExecutor(f.program, KV260);
    const run = await runDriverProcess(
      [bin, "--weights", weights, "--tokens", "1", "--hal", "fds=3,3", ...PROMPT.map(String)],
      x,
      KV260,
      60_000,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    return x.events
      .map((l) => /^# run \d+ segment (\S+) pos (\d+)$/.exec(l))
      .filter((m) => m !== null && m[1] !== "load")
      .map((m) => [m![1]!, Number(m![2])]);
  }

  const expected = (maxPos: number | undefined) =>
    promptRuns(PROMPT.length, maxPos === undefined ? {} : { maxPos }, 1).map((r): [string, number] => [
      r.prefill ? "prefill" : "decode",
      r.pos,
    ]);

  it("past maxPos the prompt goes token by token through decode", async () => {
    const runs = await driverRuns(1);
    expect(runs).toEqual(expected(1));
    expect(runs).toEqual([
      ["prefill", 0],
      ["prefill", 1],
      ["decode", 2],
      ["decode", 3],
      ["decode", 4],
    ]);
  });

  it("a negative maxPos sends the whole prompt through decode", async () => {
    const runs = await driverRuns(-1);
    expect(runs).toEqual(expected(-1));
    expect(runs.map(([s]) => s)).toEqual(["decode", "decode", "decode", "decode", "decode"]);
  });

  it("without maxPos every whole chunk goes through prefill", async () => {
    const runs = await driverRuns(undefined);
    expect(runs).toEqual(expected(undefined));
    expect(runs.every(([s]) => s === "prefill")).toBe(true);
  });
});
