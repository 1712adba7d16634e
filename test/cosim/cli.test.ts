/**
 * `pccxc cosim` through the CLI, in-process: on an output directory written from the fixture
 * program, and end to end on a tiny model compiled by `pccxc compile` (load + prefill + decode of a
 * real compiled program through the C driver).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { renderProgramJson } from "../../src/codegen/artifacts/json-write.js";
import { hasTool } from "../../src/validate/cosim/index.js";
import { fixture } from "../stubs/fixture.js";

const HAVE_GCC = hasTool("gcc");
if (!HAVE_GCC)
  console.warn(
    "test/cosim/cli.test.ts: gcc is not installed (apt-get install gcc): pccxc cosim CLI tests skipped",
  );
const CONFIG = fileURLToPath(
  new URL("../../examples/configs/meta-llama__Llama-3.2-1B/config.json", import.meta.url),
);

async function run(argv: string[]) {
  let out = "";
  let err = "";
  const io = {
    stdout: (t: string) => {
      out += t;
    },
    stderr: (t: string) => {
      err += t;
    },
    stderrIsTTY: false,
  };
  const code = await main(argv, io, {}, process.cwd());
  return { code, out, err };
}

let work = "";

describe.skipIf(!HAVE_GCC)("pccxc cosim (CLI)", () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "pccx-cosim-cli-"));
    const f = fixture({ prefill: true });
    await writeFile(join(work, "program.json"), renderProgramJson(f.program));
    await writeFile(join(work, "weights.bin"), f.image);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("reports OK with the tokens and the checks; --json gives the report", async () => {
    const r = await run(["cosim", work, "--tokens", "3", "--prompt", "2,4", "--vocab", "24", "--json"]);
    expect(r.err).toContain("cosim: OK");
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out) as { ok: boolean; driverTokens: number[][]; simulatorTokens: number[] };
    expect(rep.ok).toBe(true);
    expect(rep.driverTokens[0]).toEqual(rep.simulatorTokens);
    expect(rep.simulatorTokens).toHaveLength(3);
  });

  it("golden tokens that differ fail with exit 2 and say so", async () => {
    const r = await run([
      "cosim",
      work,
      "--tokens",
      "2",
      "--prompt",
      "2,4",
      "--vocab",
      "24",
      "--golden",
      "23,23",
      "-q",
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("error[cosim/mismatch]");
    expect(r.err).toContain("golden reference");
  });

  it("prints one block per numeric pass; --numeric picks the passes; a bad mode is exit 1", async () => {
    const both = await run(["cosim", work, "--tokens", "2", "--prompt", "2,4", "--vocab", "24"]);
    expect(both.code, both.err).toBe(0);
    expect(both.err).toContain("  hardware pass:");
    expect(both.err).toContain("  exact pass:");
    const exact = await run([
      "cosim",
      work,
      "--tokens",
      "2",
      "--prompt",
      "2,4",
      "--vocab",
      "24",
      "--numeric",
      "exact",
      "--json",
    ]);
    expect(exact.code, exact.err).toBe(0);
    expect(exact.err).toContain("  exact pass:");
    expect(exact.err).not.toContain("  hardware pass:");
    const rep = JSON.parse(exact.out) as { passes: { numeric: string }[] };
    expect(rep.passes.map((p) => p.numeric)).toEqual(["exact"]);
    const bad = await run(["cosim", work, "--numeric", "fast"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("--numeric expects one of both, hardware, exact");
  });

  it("usage and input errors: a bad prompt is exit 1, a directory without a program exit 4", async () => {
    expect((await run(["cosim", work, "--prompt", "a,b"])).code).toBe(1);
    const empty = await mkdtemp(join(tmpdir(), "pccx-cosim-empty-"));
    const r = await run(["cosim", empty]);
    await rm(empty, { recursive: true, force: true });
    expect(r.code).toBe(4);
    expect(r.err).toContain("cosim/no-program");
  });

  it("end to end: a tiny Llama compiled by pccxc compile runs load + prefill + decode through the C driver", async () => {
    const model = join(work, "tiny");
    const out = join(work, "out");
    const tiny = await run(["dev", "tiny", CONFIG, "-o", model, "-q"]);
    expect(tiny.code, tiny.err).toBe(0);
    const c = await run(["compile", model, "-o", out, "--validate", "off", "-q"]);
    expect(c.code, c.err).toBe(0);
    expect(existsSync(join(out, "driver", "pccx_model.c"))).toBe(true);
    const r = await run(["cosim", out, "--tokens", "3", "--prompt", "1,2", "--json", "-q"]);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out) as {
      ok: boolean;
      conformance: { npu: number; dma: number; problems: string[] };
    };
    expect(rep.ok).toBe(true);
    expect(rep.conformance.problems).toEqual([]);
    expect(rep.conformance.npu).toBeGreaterThan(50);
  });
});
