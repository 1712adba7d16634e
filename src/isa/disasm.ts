/**
 * The pccx disassembler: words → assembly text that `assemble` turns back into the same words.
 * Each line shows the instruction with every field named, then a comment with its index and word;
 * labels appear on their own lines. In lenient mode an invalid word becomes `.word 0x…` with a
 * comment naming every problem; in strict mode it is an error at the word's location.
 */
import { invalidInput, type SourceLoc } from "../diag/index.js";
import type { AsmLabel } from "./asm.js";
import { decode, decodeWord, encode } from "./codec.js";
import { type CompiledIsa, compiledIsa, type IsaOptions } from "./compiled.js";
import type { Instr, LooseInstr } from "./instr.js";
import { formatWord, toWordArray } from "./words.js";

export interface DisasmOptions extends IsaOptions {
  readonly labels?: readonly AsmLabel[];
  /** Show invalid words as `.word` lines with a comment instead of failing. */
  readonly lenient?: boolean;
  /** Where word `index` came from, for error locations. */
  readonly at?: (index: number) => SourceLoc;
  /** Comment lines written first (each prefixed with `; `). */
  readonly header?: readonly string[];
}

/**
 * One instruction as assembly: `MNEMONIC field=value ...` with every field, in table order. The
 * instruction is validated and normalised through the codec first (numeric enum codes, raw flags).
 */
export function formatInstr(instr: Instr | LooseInstr, opts?: IsaOptions): string {
  return formatWith(compiledIsa(opts), decode(encode(instr, opts), "strict", opts));
}

/** Format a decoded (normalised) instruction. */
function formatWith(isa: CompiledIsa, instr: Instr): string {
  const op = isa.byMnemonic.get(instr.opcode)!;
  const fields = instr.fields as Readonly<Record<string, unknown>>;
  const parts = op.valueFields.map((f) => {
    const v = fields[f.name];
    if (f.kind === "flags") {
      const set = f.flags.filter((b) => (v as Record<string, number>)?.[b.name]).map((b) => b.name);
      return `${f.name}=${set.length ? set.join("|") : "0"}`;
    }
    if (f.kind === "uint") {
      const alias = [...f.names].find(([, code]) => code === v)?.[0];
      return `${f.name}=${alias ?? v}`;
    }
    return `${f.name}=${String(v)}`;
  });
  return [op.mnemonic, ...parts].join(" ");
}

/** A listing of `words`; throws on the first invalid word unless `lenient`. */
export function disassemble(words: readonly bigint[] | BigUint64Array, opts: DisasmOptions = {}): string {
  const isa = compiledIsa(opts);
  const ws = toWordArray(words);
  const body: { text: string; comment: string }[] = [];
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    const r = decodeWord(w, isa);
    if (r.ok) {
      body.push({ text: formatWith(isa, r.instr), comment: `${i}: ${formatWord(w)}` });
      continue;
    }
    const problems = r.problems.map((p) => p.message);
    if (!opts.lenient) {
      throw invalidInput(r.problems[0]!.code, `word ${i} (${formatWord(w)}): ${problems[0]}`, {
        ...(opts.at ? { at: opts.at(i) } : {}),
        notes: problems.slice(1),
        fix: "disassemble with --lenient to list invalid words as .word lines",
      });
    }
    body.push({ text: `.word ${formatWord(w)}`, comment: `${i}: invalid: ${problems.join("; ")}` });
  }
  const width = Math.max(0, ...body.map((b) => b.text.length));
  const labels = [...(opts.labels ?? [])].sort((a, b) => a.index - b.index);
  const out = (opts.header ?? []).map((h) => `; ${h}`);
  let li = 0;
  for (let i = 0; i <= body.length; i++) {
    while (li < labels.length && labels[li]!.index <= i) out.push(`${labels[li++]!.name}:`);
    const b = body[i];
    if (b) out.push(`    ${b.text.padEnd(width)}  ; ${b.comment}`);
  }
  while (li < labels.length) out.push(`${labels[li++]!.name}:`);
  return out.length ? `${out.join("\n")}\n` : "";
}
