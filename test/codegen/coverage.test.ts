/**
 * Coverage: every real config (../shared/configs when present, examples/configs) compiles
 * config-only to a decode program, or fails for a documented reason (the layout stage's DDR
 * verdict, or an unsupported geometry named by codegen); every tiny model (examples/tiny) compiles
 * decode and prefill and verifies. The sweep uses a 2,048-token context to keep the suite fast
 * (the context only changes how many attention chunks are emitted); the bench runs Gemma 3n E4B at
 * the target's full ring.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codegen, foldedNorms, verifyProgram } from "../../src/codegen/index.js";
import { isPccxError } from "../../src/diag/index.js";
import { planLayout } from "../../src/layout/index.js";
import { parseConfigText } from "../../src/parser/index.js";
import { resolve } from "../../src/resolver/index.js";
import { base } from "./helpers.js";

const shared = fileURLToPath(new URL("../../../shared/configs", import.meta.url));
const examples = fileURLToPath(new URL("../../examples/configs", import.meta.url));
const tiny = fileURLToPath(new URL("../../examples/tiny", import.meta.url));

/** Failures a config may end in, with why (docs/codegen.md "Known limits"). */
const DOCUMENTED: Readonly<Record<string, RegExp>> = {
  // 1,024 learned positions: compile it with a context of at most 1,024 tokens.
  "openai-community__gpt2": /position table .* 1024 rows, fewer than the context/,
};

/** Models that are verified end to end in the sweep (the others are lowered and encoded). */
const VERIFIED = new Set(["google__gemma-3n-E4B-it", "meta-llama__Llama-3.2-1B"]);

function configs(): { name: string; file: string }[] {
  const seen = new Set<string>();
  const out: { name: string; file: string }[] = [];
  for (const dir of [shared, examples]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const file = `${dir}/${name}/config.json`;
      if (!existsSync(file)) continue;
      const h = createHash("sha256").update(readFileSync(file)).digest("hex");
      if (seen.has(h)) continue;
      seen.add(h);
      out.push({ name, file });
    }
  }
  return out;
}

if (!existsSync(shared)) console.warn(`skipped: ${shared} not found; only examples/configs are swept`);

describe("config-only codegen of every real config", () => {
  const t = base();
  it.each(configs().map((c) => [c.name, c.file]))("%s", (name, file) => {
    const g = resolve(parseConfigText(readFileSync(file, "utf8"), file)).graph;
    const plan = planLayout(g, t, { kvDtype: "int4", context: 2048, folded: foldedNorms(g) });
    if (plan.estimate && !plan.estimate.ok) {
      // Too big for the board: the layout stage says so, with the consumers and the advice.
      expect(plan.estimate.ddrOk).toBe(false);
      expect(plan.estimate.text).toMatch(/DDR/);
      return;
    }
    try {
      const r = codegen(g, plan, t, { segments: ["decode"], verify: VERIFIED.has(name) });
      const dec = r.program.segments.find((s) => s.kind === "decode")!;
      expect(dec.steps.length).toBeGreaterThan(100);
      expect(r.stats.segments.decode!.instructions.GEMV).toBeGreaterThan(g.meta.numLayers);
      if (VERIFIED.has(name))
        expect(verifyProgram(r.program, t).filter((d) => d.severity === "error")).toEqual([]);
    } catch (e) {
      const why = DOCUMENTED[name];
      if (!why || !isPccxError(e)) throw e;
      expect(e.exitCode).not.toBe(70);
      expect(e.message).toMatch(why);
    }
  });
});

describe.skipIf(!existsSync(tiny))("tiny models of every family", () => {
  const t = base();
  const names = existsSync(tiny)
    ? readdirSync(tiny)
        .filter((n) => existsSync(`${tiny}/${n}/config.json`))
        .sort()
    : [];
  it("covers the families", () => {
    expect(names.length).toBeGreaterThanOrEqual(10);
  });
  it.each(names)("%s compiles decode and prefill and verifies", (name) => {
    const file = `${tiny}/${name}/config.json`;
    const g = resolve(parseConfigText(readFileSync(file, "utf8"), file)).graph;
    const r = codegen(g, planLayout(g, t, { kvDtype: "int4", context: 64, folded: foldedNorms(g) }), t);
    expect(r.program.segments.map((s) => s.kind)).toEqual(["load", "decode", "prefill"]);
    expect(verifyProgram(r.program, t)).toEqual([]);
  });
});
