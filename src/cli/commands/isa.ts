/**
 * `pccxc isa encode|decode|asm|disasm|header`: thin commands over src/isa. Results go to stdout
 * (`--json` for machine-readable output), messages for people to stderr; errors are PccxErrors
 * that main() prints and turns into exit codes.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { ioError, usageError } from "../../diag/index.js";
import {
  assemble,
  assembleLine,
  type DecodeResult,
  decode,
  disassemble,
  formatInstr,
  formatMemh,
  formatWord,
  type Instr,
  type IsaOptions,
  memhHeaderFor,
  parseWordLiteral,
  readWordFile,
  renderCHeader,
  resolveFormat,
  writeWordFile,
} from "../../isa/index.js";
import { writeFileAtomic } from "../../util/atomic.js";
import type { CliContext } from "../context.js";

interface CommonOpts {
  json?: boolean;
  cvoExt?: string[];
  quiet?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** `--cvo-ext SILU=8` (repeatable) → IsaOptions. */
function isaOptions(o: CommonOpts): IsaOptions {
  if (!o.cvoExt?.length) return {};
  const ext: Record<string, number> = {};
  for (const item of o.cvoExt) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(0[xX][0-9a-fA-F]+|[0-9]+)$/.exec(item);
    if (!m)
      throw usageError("isa/bad-option", `--cvo-ext "${item}" is not NAME=code`, {
        fix: "e.g. --cvo-ext SILU=8",
      });
    ext[m[1]!] = Number(m[2]);
  }
  return { cvoExtensions: ext };
}

function withCommon(cmd: Command): Command {
  return cmd
    .option("--json", "print machine-readable JSON on stdout")
    .option("--cvo-ext <name=code>", "name a reserved CVO function code (0x8-0xF), repeatable", collect, []);
}

/** The vectors' shape: { word, opcode, fields }. */
function instrJson(word: bigint, instr: Instr) {
  return { word: formatWord(word), opcode: instr.opcode, fields: instr.fields };
}

function resultJson(r: DecodeResult) {
  if (r.ok) return { ...instrJson(r.word, r.instr), valid: true };
  return {
    word: formatWord(r.word),
    valid: false,
    ...(r.mnemonic ? { opcode: r.mnemonic } : {}),
    problems: r.problems,
  };
}

export function registerIsa(program: Command, ctx: CliContext): void {
  const isa = program
    .command("isa")
    .description("pccx v002 instructions: encode, decode, assemble, disassemble, C header");

  withCommon(
    isa
      .command("encode")
      .description("encode one instruction, e.g. isa encode GEMV dest_reg=512 src_addr=300 flags=w_scale")
      .argument("<mnemonic>", "GEMV, GEMM, MEMCPY, MEMSET or CVO")
      .argument("[fields...]", "name=value pairs (omitted fields are 0)"),
  ).action((mnemonic: string, fields: string[], o: CommonOpts) => {
    const opts = isaOptions(o);
    const word = assembleLine([mnemonic, ...fields].join(" "), { ...opts, file: "<arguments>" });
    if (o.json) ctx.json(instrJson(word, decode(word, "strict", opts)));
    else ctx.io.stdout(`${formatWord(word)}\n`);
  });

  withCommon(
    isa
      .command("decode")
      .description("decode words (0x hex, 16 hex digits, or decimal) into their fields")
      .argument("<words...>")
      .option("--lenient", "report invalid words instead of failing"),
  ).action((words: string[], o: CommonOpts & { lenient?: boolean }) => {
    const opts = isaOptions(o);
    const results = words.map((w) => {
      const word = parseWordLiteral(w);
      if (!o.lenient) decode(word, "strict", opts);
      return decode(word, "lenient", opts);
    });
    if (o.json) return ctx.json(results.map(resultJson));
    for (const r of results) {
      const text = r.ok
        ? formatInstr(r.instr, opts)
        : `invalid: ${r.problems.map((p) => p.message).join("; ")}`;
      ctx.io.stdout(`${formatWord(r.word)}  ${text}\n`);
    }
  });

  withCommon(
    isa
      .command("asm")
      .description(
        "assemble a .pccxasm file into .memh or .bin (written atomically; memh on stdout without -o)",
      )
      .argument("<file>")
      .option("-o, --output <file>", "output file (.memh or .bin)")
      .option("--format <format>", "memh or bin (default: from the output's extension)")
      .option("-q, --quiet", "no messages on stderr"),
  ).action(async (file: string, o: CommonOpts & { output?: string; format?: string }) => {
    const opts = isaOptions(o);
    const src = resolve(ctx.cwd, file);
    const text = await readFile(src, "utf8").catch((e: Error) => {
      throw ioError("isa/read-failed", `cannot read ${file}: ${e.message}`);
    });
    const p = assemble(text, { ...opts, file });
    const memh = { labels: p.labels, header: memhHeaderFor(file) };
    const summary = { source: file, words: p.words.length, labels: p.labels };
    if (!o.output) {
      if (o.format === "bin") throw usageError("isa/bad-format", "a .bin program needs -o <file>");
      const words = Array.from(p.words, formatWord);
      if (o.json) return ctx.json({ ...summary, format: "memh", output: null, code: words });
      return ctx.io.stdout(formatMemh(p.words, memh));
    }
    const format = resolveFormat(o.output, o.format);
    await writeWordFile(resolve(ctx.cwd, o.output), p.words, format, memh);
    if (o.json) ctx.json({ ...summary, format, output: o.output });
    ctx
      .logger(o)
      .info(`assembled ${p.words.length} words, ${p.labels.length} labels: ${o.output} (${format})`);
  });

  withCommon(
    isa
      .command("disasm")
      .description("disassemble a .memh or .bin program")
      .argument("<file>")
      .option("--format <format>", "memh or bin (default: from the extension)")
      .option("--lenient", "show invalid words as .word lines instead of failing"),
  ).action(async (file: string, o: CommonOpts & { format?: string; lenient?: boolean }) => {
    const opts = isaOptions(o);
    const format = resolveFormat(file, o.format);
    const wf = await readWordFile(resolve(ctx.cwd, file), format, file);
    const listing = disassemble(wf.words, { ...opts, labels: wf.labels, lenient: o.lenient, at: wf.at });
    if (!o.json) return ctx.io.stdout(listing);
    const instructions = Array.from(wf.words, (w, index) => ({
      index,
      ...resultJson(decode(w, "lenient", opts)),
    }));
    ctx.json({ file, format, count: wf.words.length, labels: wf.labels, instructions });
  });

  withCommon(
    isa
      .command("header")
      .description("print or write the C header pccx_isa.h")
      .option("-o, --output <file>", "write the header to this file (atomically)")
      .option("-q, --quiet", "no messages on stderr"),
  ).action(async (o: CommonOpts & { output?: string }) => {
    const text = renderCHeader(isaOptions(o));
    if (!o.output) return o.json ? ctx.json({ output: null, header: text }) : ctx.io.stdout(text);
    await writeFileAtomic(resolve(ctx.cwd, o.output), text).catch((e: Error) => {
      throw ioError("isa/write-failed", `cannot write ${o.output}: ${e.message}`);
    });
    if (o.json) ctx.json({ output: o.output, bytes: Buffer.byteLength(text) });
    ctx.logger(o).info(`wrote ${o.output}`);
  });
}
