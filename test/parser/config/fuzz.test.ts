/**
 * Fuzzing: whatever the input, parsing returns a ParsedConfig or throws a PccxError with exit
 * code 2 (invalid input) or 3 (unsupported): never another exception.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PccxError } from "../../../src/diag/index.js";
import {
  parseConfigObject,
  parseConfigText,
  parseGenerationConfigText,
} from "../../../src/parser/config/index.js";

const dir = fileURLToPath(new URL("../../../examples/configs", import.meta.url));
const texts = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => readFileSync(`${dir}/${d.name}/config.json`, "utf8"));

function outcome(f: () => unknown): "ok" | number {
  try {
    f();
    return "ok";
  } catch (e) {
    if (!(e instanceof PccxError)) throw e;
    expect(e.message).toMatch(/^config\.json/);
    return e.exitCode;
  }
}
function okOr23(o: "ok" | number): void {
  expect(o === "ok" || o === 2 || o === 3).toBe(true);
}

type Json = unknown;
/** Every [container, key] pair of a JSON value, for mutation. */
function slots(v: Json, out: [Record<string, Json> | Json[], string | number][] = []) {
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      out.push([v, i]);
      slots(x, out);
    }
  } else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      out.push([v as Record<string, Json>, k]);
      slots(x, out);
    }
  }
  return out;
}

describe("config parsing never crashes", () => {
  it("random JSON values", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => okOr23(outcome(() => parseConfigObject(v, "config.json")))),
      { numRuns: 300 },
    );
  });

  it("random objects with a supported model_type", () => {
    const types = ["llama", "gemma3", "gemma4", "gpt2", "deepseek_v3", "qwen3_moe", "gemma3n"];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.dictionary(fc.string(), fc.jsonValue()), (mt, d) =>
        okOr23(outcome(() => parseConfigObject({ ...d, model_type: mt }, "config.json"))),
      ),
      { numRuns: 300 },
    );
  });

  it("real configs with a key deleted or its value replaced", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: texts.length - 1 }),
        fc.nat(),
        fc.option(fc.jsonValue(), { nil: undefined }),
        (which, pick, value) => {
          const cfg = JSON.parse(texts[which] as string);
          const all = slots(cfg);
          const [holder, key] = all[pick % all.length] as [Record<string, Json> | Json[], string | number];
          if (value === undefined && !Array.isArray(holder))
            delete (holder as Record<string, Json>)[key as string];
          else (holder as Record<string | number, Json>)[key] = value ?? null;
          okOr23(outcome(() => parseConfigObject(cfg, "config.json")));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("real config texts with NaN/Infinity or garbage spliced in", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: texts.length - 1 }),
        fc.nat(),
        fc.constantFrom("NaN", "Infinity", "-Infinity", "}", ",", '"', "nul", "1e999", "-"),
        (which, at, token) => {
          const t = texts[which] as string;
          const numbers = [...t.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)];
          const m = numbers[at % numbers.length];
          const mutated = m ? t.slice(0, m.index) + token + t.slice((m.index ?? 0) + m[0].length) : t;
          okOr23(outcome(() => parseConfigText(mutated, "config.json")));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("random text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (t) => {
        okOr23(outcome(() => parseConfigText(t, "config.json")));
        try {
          parseGenerationConfigText(t, "config.json");
        } catch (e) {
          expect(e).toBeInstanceOf(PccxError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("deep nesting is an error, not a stack overflow", () => {
    const t = `${"[".repeat(100000)}NaN${"]".repeat(100000)}`;
    expect(outcome(() => parseConfigText(t, "config.json"))).toBe(2);
  });
});
