import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("--json output", () => {
  it("is one JSON document even when the command fails after printing its result", async () => {
    const r = await runCli(["plan", "examples/configs/Qwen__Qwen2.5-7B", "--strict", "--json"], {}, ROOT);
    expect(r.code).not.toBe(0);
    const doc = JSON.parse(r.stdout); // throws if a second document follows
    expect(doc).not.toHaveProperty("error");
  });

  it("is the error document when the command fails before printing anything", async () => {
    const r = await runCli(["inspect", "does/not/exist", "--json"], {}, ROOT);
    expect(r.code).toBeGreaterThan(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.error.exitCode).toBe(r.code);
    expect(r.stderr).toMatch(/^error\[/m);
  });
});
