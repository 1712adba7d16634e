import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  C_HEADER_BANNER,
  type CompiledOpcode,
  cEncodeName,
  cFieldPrefix,
  cGetterName,
  compiledIsa,
  decode,
  renderCHeader,
  V002,
} from "../../src/isa/index.js";
import { arbAnyWord, arbValidWord, fieldBits, fixtureVectors, rawOf, type Vector } from "./helpers.js";

const hasGcc = spawnSync("gcc", ["--version"]).status === 0;
if (!hasGcc) console.warn("skipped: pccx_isa.h C compile tests (gcc not found)");

const isa = compiledIsa();
const opOf = (m: string): CompiledOpcode => isa.byMnemonic.get(m)!;

/** The C expression of one vector field, written with the header's constants only. */
function cArg(op: CompiledOpcode, name: string, value: unknown): string {
  const f = op.fieldByName.get(name)!;
  const p = cFieldPrefix(op, name);
  if (f.kind === "enum") return `${p}_${value as string}`;
  if (f.kind === "flags") {
    const set = f.flags
      .filter((b) => (value as Record<string, number>)[b.name])
      .map((b) => `${p}_${b.name.toUpperCase()}`);
    return set.length ? set.join(" | ") : "0u";
  }
  return `${value as number}u`;
}

function cProgram(vectors: readonly Vector[], checkWords: readonly bigint[]): string {
  const lines = ["#include <stdio.h>", '#include "pccx_isa.h"', "", "int main(void) {", "  uint64_t w;"];
  for (const v of vectors) {
    const op = opOf(v.opcode);
    const args = op.valueFields.map((f) => cArg(op, f.name, v.fields[f.name]));
    const getters = op.valueFields.map((f) => `(unsigned)${cGetterName(op, f.name)}(w)`);
    lines.push(
      `  w = ${cEncodeName(op)}(${args.join(", ")});`,
      `  printf("%016llx %d${" %u".repeat(getters.length)}\\n", (unsigned long long)w, pccx_word_valid(w), ${getters.join(", ")});`,
    );
  }
  for (const w of checkWords) lines.push(`  printf("%d\\n", pccx_word_valid(0x${w.toString(16)}ull));`);
  lines.push("  return 0;", "}", "");
  return lines.join("\n");
}

/** Invalid words, built from the table: reserved opcodes, reserved bits, reserved values. */
function invalidWords(): bigint[] {
  const opLsb = BigInt(V002.opcode.lsb);
  const out = [5n << opLsb, 15n << opLsb];
  for (const op of isa.byCode) {
    if (!op) continue;
    const base = BigInt(op.code) << opLsb;
    for (const f of op.fields) {
      if (f.kind === "reserved") out.push(base | fieldBits(f));
      if (f.kind === "flags") out.push(base | (BigInt(f.flagsReserved) << BigInt(f.lsb)));
      if (f.kind === "enum") out.push(base | fieldBits(f)); // code 2^width-1 is unnamed
      if (f.kind === "uint" && f.limit < f.mask) out.push(base | fieldBits(f));
    }
    for (const c of op.combinations) {
      out.push(
        c.slots.reduce((w, s, i) => w | (BigInt(c.values[i]!) << BigInt(op.valueFields[s]!.lsb)), base),
      );
    }
  }
  return out;
}

describe.skipIf(!hasGcc)("pccx_isa.h compiles and encodes the hardware vectors (gcc)", () => {
  let dir: string;
  let output: string[];
  const invalid = invalidWords();
  const random = fc.sample(fc.oneof(arbValidWord, arbAnyWord), { numRuns: 300, seed: 42 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pccxc-isa-c-"));
    await writeFile(join(dir, "pccx_isa.h"), renderCHeader());
    await writeFile(join(dir, "prog.c"), cProgram(fixtureVectors, [...invalid, ...random]));
    const flags = ["-std=c11", "-Wall", "-Wextra", "-Werror"];
    execFileSync("gcc", [...flags, "-o", join(dir, "prog"), join(dir, "prog.c")], { stdio: "pipe" });
    output = execFileSync(join(dir, "prog"), { encoding: "utf8" }).trimEnd().split("\n");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("carries the generated-file banner", () => {
    expect(renderCHeader().split("\n")[0]).toContain(C_HEADER_BANNER);
  });

  it("the C encode helpers reproduce every vector word, and the getters read every field back", () => {
    fixtureVectors.forEach((v, i) => {
      const op = V002.opcodes.find((o) => o.mnemonic === v.opcode)!;
      const raws = op.fields.filter((f) => f.kind !== "reserved").map((f) => rawOf(f, v.fields[f.name]));
      expect(output[i]).toBe([v.word.slice(2), "1", ...raws].join(" "));
    });
  });

  it("pccx_word_valid rejects reserved opcodes, bits, values and combinations", () => {
    const n = fixtureVectors.length;
    expect(output.slice(n, n + invalid.length)).toEqual(invalid.map(() => "0"));
  });

  it("pccx_word_valid agrees with the strict decoder on random words", () => {
    const n = fixtureVectors.length + invalid.length;
    expect(output.slice(n)).toEqual(random.map((w) => (decode(w, "lenient").ok ? "1" : "0")));
    expect(output.slice(n).filter((x) => x === "1").length).toBeGreaterThan(50);
  });

  it("emits extension constants when a target names them", () => {
    expect(renderCHeader({ cvoExtensions: { SILU: 8 } })).toContain(
      `#define ${cFieldPrefix(opOf("CVO"), "cvo_func")}_SILU 0x8u`,
    );
  });
});
