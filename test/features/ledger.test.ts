import { describe, expect, it } from "vitest";
import {
  LEDGER_FORMAT,
  ledgerFromJson,
  ledgerJsonSchema,
  ledgerToJson,
  renderLedgerText,
  runFeatures,
} from "../../src/features/index.js";
import { resolve } from "../../src/resolver/index.js";
import { BASE, catchPccx, EXT, example } from "./helpers.js";

const ledgerOf = (name: string, target = BASE) => {
  const parsed = example(name);
  return runFeatures(resolve(parsed).graph, parsed, target).ledger;
};

describe("the ledger document", () => {
  it("round-trips through JSON and validates", () => {
    const l = ledgerOf("google__gemma-3n-E2B-it", EXT);
    const text = ledgerToJson(l);
    expect(text.endsWith("\n")).toBe(true);
    expect(ledgerFromJson(JSON.parse(text))).toEqual(JSON.parse(text));
    expect(l.format).toBe(LEDGER_FORMAT);
    expect(l.version).toBe(1);
    expect(
      l.summary.lowered + l.summary.host + l.summary.approximated + l.summary.rejected + l.summary.ignored,
    ).toBe(l.entries.length);
  });

  it("is deterministic: the same inputs give the same bytes", () => {
    expect(ledgerToJson(ledgerOf("deepseek-ai__DeepSeek-V2-Lite"))).toBe(
      ledgerToJson(ledgerOf("deepseek-ai__DeepSeek-V2-Lite")),
    );
  });

  it("keeps entries in plugin order and key paths sorted", () => {
    const l = ledgerOf("google__gemma-2-2b-it");
    const order = l.entries.map((e) => l.features.indexOf(e.feature));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const paths = l.keys.map((k) => k.path);
    expect(paths).toEqual([...paths].sort());
  });

  it("rejects malformed ledger JSON with the path of the problem (exit 2)", () => {
    const j = JSON.parse(ledgerToJson(ledgerOf("meta-llama__Llama-3.2-1B")));
    j.entries[1].verdict = {
      kind: "approximated",
      method: "x",
      reference: "y",
      maxAbsError: -1,
      grid: { from: 0, to: 1, points: 2 },
    };
    const err = catchPccx(() => ledgerFromJson(j, "l.json"));
    expect(err.exitCode).toBe(2);
    expect(err.code).toBe("features/ledger-invalid");
    expect(err.message).toBe(
      "l.json at $.entries[1].verdict.maxAbsError: Too small: expected number to be >=0",
    );
    const schema = ledgerJsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toContain("entries");
  });

  it("renders a listing for people", () => {
    const text = renderLedgerText(ledgerOf("google__gemma-2-2b-it"));
    expect(text).toContain("on kv260-v002@");
    expect(text).toMatch(
      /- softcap \(final_logit_softcapping\): final logits capped at 30·tanh\(x\/30\) \[1 op\]\n {4}host: /,
    );
    expect(text).toMatch(
      /approximated: CVO GELU: x\*sigmoid\(1\.702\*x\) \(max abs error 0\.0207 vs gelu_tanh\)/,
    );
    expect(text).toMatch(/keys: \d+ claimed, \d+ non-semantic\n$/);
  });
});
