/**
 * `pccxc simulate` in-process on a compiled tiny model: the summary, the report files written
 * into the directory, --json, --functional, what-if overrides, and the errors (exit codes).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../../src/diag/index.js";
import { type Report, ReportSchema } from "../../../src/validate/reports/index.js";
import { runCli } from "../../helpers/cli.js";

const TINY_LLAMA = fileURLToPath(new URL("../../../examples/tiny/llama", import.meta.url));

const REPORT_FILES = [
  "report.json",
  "report.md",
  "report.html",
  "layers.csv",
  "roofline.svg",
  "layers.svg",
  "trace.json",
  "trace.pccx",
];

describe("pccxc simulate", () => {
  let tmp = "";
  let out = "";
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "pccxc-simulate-"));
    out = join(tmp, "out");
    const r = await runCli(["compile", TINY_LLAMA, "-o", out, "--validate", "off", "-q"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(ExitCode.OK);
    for (const f of REPORT_FILES) await rm(join(out, f), { force: true });
  }, 120_000);
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("times the program, prints a summary and writes every report file", async () => {
    const r = await runCli(["simulate", out, "--context", "64", "--tokens", "2"]);
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^decode: {2}\d+\.\d{3} tok\/s at context 64$/m);
    expect(r.stderr).toMatch(/^prefill: \d+\.\d{3} tok\/s \(\d+ tokens\)$/m);
    expect(r.stderr).toContain(`wrote ${REPORT_FILES[0]}`);
    for (const f of REPORT_FILES) expect((await stat(join(out, f))).size).toBeGreaterThan(0);
    const rep = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as Report;
    expect(ReportSchema.safeParse(rep).success).toBe(true);
    expect(rep.timing?.context).toBe(64);
    expect(rep.timing?.decode?.runs).toBe(2);
    expect(rep.validation).toBeNull();
    // what the compile recorded is in the report: the layout line and the ledger
    expect(rep.memory?.line).toMatch(/^On-chip /);
    expect(rep.features?.entries.length).toBeGreaterThan(0);
    expect(rep.model?.name).toBe("llama");
  }, 60_000);

  it("--json prints report.json on stdout; the same inputs give the same bytes", async () => {
    const a = await runCli(["simulate", out, "--context", "64", "--json", "-q"]);
    expect(a.code).toBe(ExitCode.OK);
    expect(a.stderr).toBe("");
    const written = await readFile(join(out, "report.json"), "utf8");
    expect(a.stdout).toBe(written);
    const trace = await readFile(join(out, "trace.pccx"));
    const b = await runCli(["simulate", out, "--context", "64", "--json", "-q"]);
    expect(b.stdout).toBe(a.stdout);
    expect((await readFile(join(out, "trace.pccx"))).equals(trace)).toBe(true);
  }, 60_000);

  it("--functional runs the program on weights.bin (alone), --timing adds the timing", async () => {
    const f = await runCli(["simulate", out, "--functional", "--tokens", "2", "--json", "-q"]);
    expect(f.code).toBe(ExitCode.OK);
    const rep = JSON.parse(f.stdout) as Report;
    expect(rep.validation).toMatchObject({ verdict: "pass", faults: 0 });
    expect(rep.timing).toBeNull();
    const both = JSON.parse(
      (await runCli(["simulate", out, "--functional", "--timing", "--json", "-q"])).stdout,
    ) as Report;
    expect(both.validation?.verdict).toBe("pass");
    expect(both.timing?.decode).not.toBeNull();
  }, 60_000);

  it("a what-if override is simulated with a warning", async () => {
    const base = JSON.parse(
      (await runCli(["simulate", out, "--context", "64", "--json", "-q"])).stdout,
    ) as Report;
    const r = await runCli([
      "simulate",
      out,
      "--context",
      "64",
      "--json",
      "--set",
      "control.mmio_write_ns=1500",
    ]);
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stderr).toContain("warning: simulating a program compiled for kv260-v002@");
    const slow = JSON.parse(r.stdout) as Report;
    expect(slow.target.fingerprint).not.toBe(base.target.fingerprint);
    expect(slow.timing!.decode!.tokensPerSecond).toBeLessThan(base.timing!.decode!.tokensPerSecond);
  }, 60_000);

  it("errors: a directory without program.json (exit 4), a bad option (exit 1), a damaged program.json (exit 2)", async () => {
    const none = await runCli(["simulate", join(tmp, "nowhere")]);
    expect(none.code).toBe(ExitCode.IO);
    expect(none.stderr).toContain("error[simulate/read]");
    expect(none.stderr).toContain("program.json");
    const bad = await runCli(["simulate", out, "--tokens", "0"]);
    expect(bad.code).toBe(ExitCode.USAGE);
    expect(bad.stderr).toContain("error[simulate/option]: --tokens 0: expected an integer ≥ 1");
    const broken = join(tmp, "broken");
    await rm(broken, { recursive: true, force: true });
    await import("node:fs/promises").then((fs) => fs.mkdir(broken));
    await writeFile(join(broken, "program.json"), "{ not json");
    const damaged = await runCli(["simulate", broken]);
    expect(damaged.code).toBe(ExitCode.INVALID_INPUT);
  }, 60_000);
});
