import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatBin, renderCHeader, V002 } from "../../src/isa/index.js";
import { runCli } from "../helpers/cli.js";
import { fixtureVectors, REPO_ROOT, RESERVED_OP_HEX } from "./helpers.js";

let dir: string;

const run = (...argv: string[]) => runCli(["isa", ...argv], {}, dir);

const smokeMemh = () => readFile(join(REPO_ROOT, "examples/programs/smoke.memh"), "utf8");
const gemmFields = Object.entries(fixtureVectors[3]!.fields).map(([k, v]) =>
  typeof v === "object"
    ? `flags=${Object.keys(v as object)
        .filter((b) => (v as Record<string, number>)[b])
        .join("|")}`
    : `${k}=${v}`,
);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pccxc-isa-cli-"));
  await copyFile(join(REPO_ROOT, "examples/programs/smoke.pccxasm"), join(dir, "smoke.pccxasm"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("pccxc isa encode", () => {
  it("prints the word as 0x + 16 hex digits", async () => {
    const r = await run("encode", "GEMM", ...gemmFields);
    expect(r).toEqual({ code: 0, stdout: `${fixtureVectors[3]!.word}\n`, stderr: "" });
  });

  it("--json prints the word and the decoded fields", async () => {
    const r = await run(
      "encode",
      "--json",
      "CVO",
      "cvo_func=REDUCE_SUM",
      "src_addr=768",
      "dst_addr=896",
      "length=64",
    );
    expect(r.code).toBe(0);
    const v = fixtureVectors[5]!;
    expect(JSON.parse(r.stdout)).toEqual({ word: v.word, opcode: v.opcode, fields: v.fields });
  });

  it("a bad field value exits 2 with a precise message on stderr", async () => {
    const { width } = V002.opcodes[0].fields[0]; // GEMV dest_reg
    const r = await run("encode", "GEMV", `dest_reg=${2 ** width}`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      `error[isa/field-range]: GEMV field dest_reg = ${2 ** width} is out of range: ${width} bits hold 0..${2 ** width - 1}`,
    );
    expect(r.stderr).toContain(`near "${2 ** width}"`);
    expect(r.stderr).toContain("--> <arguments>:1:");
  });

  it("--json errors are JSON on stdout too", async () => {
    const r = await run("encode", "--json", "GEMV", "nope=1");
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: "isa/asm-unknown-field", exitCode: 2 });
  });

  it("a missing argument or unknown option is a usage error (exit 1)", async () => {
    expect((await run("encode")).code).toBe(1);
    expect((await run("encode", "GEMV", "--bogus")).code).toBe(1);
    expect((await run("encode", "--cvo-ext", "SILU", "CVO")).code).toBe(1);
  });

  it("--cvo-ext names an extension function", async () => {
    const r = await run("encode", "--cvo-ext", "SILU=8", "CVO", "cvo_func=SILU");
    expect(r.code).toBe(0);
    const d = await run("decode", "--cvo-ext", "SILU=0x8", r.stdout.trim());
    expect(d.stdout).toContain("CVO cvo_func=SILU ");
  });
});

describe("pccxc isa decode", () => {
  it("prints one line per word, accepting 0x, memh and decimal forms", async () => {
    const [a, b] = [fixtureVectors[0]!, fixtureVectors[4]!];
    const r = await run("decode", a.word, b.word.slice(2), BigInt(a.word).toString());
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      `${a.word}  MEMSET dest_cache=fmap_shape dest_addr=3 a_value=1 b_value=1 c_value=9`,
      `${b.word}  GEMV dest_reg=768 src_addr=400 flags=accm size_ptr_addr=2 shape_ptr_addr=9 parallel_lane=4`,
      `${a.word}  MEMSET dest_cache=fmap_shape dest_addr=3 a_value=1 b_value=1 c_value=9`,
      "",
    ]);
  });

  it("--json gives the vectors' shape", async () => {
    const r = await run("decode", "--json", ...fixtureVectors.map((v) => v.word));
    expect(JSON.parse(r.stdout)).toEqual(fixtureVectors.map((v) => ({ ...v, valid: true })));
  });

  it("an invalid word exits 2, or is reported with --lenient", async () => {
    const strict = await run("decode", RESERVED_OP_HEX);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain(
      `error[isa/reserved-opcode]: word ${RESERVED_OP_HEX}: opcode 0x5 is reserved`,
    );
    const lenient = await run("decode", "--lenient", "--json", RESERVED_OP_HEX);
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.stdout)[0]).toMatchObject({
      valid: false,
      problems: [{ code: "isa/reserved-opcode" }],
    });
    const bad = await run("decode", "xyz");
    expect([bad.code, bad.stderr.includes('"xyz" is not a 64-bit instruction word')]).toEqual([2, true]);
  });
});

describe("pccxc isa asm / disasm", () => {
  it("assembles smoke.pccxasm to the committed smoke.memh, atomically", async () => {
    const r = await run("asm", "smoke.pccxasm", "-o", "out/smoke.memh");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("assembled 7 words, 5 labels");
    expect(await readFile(join(dir, "out/smoke.memh"), "utf8")).toBe(await smokeMemh());
    expect(await readdir(join(dir, "out"))).toEqual(["smoke.memh"]);
  });

  it("writes .bin by extension or --format, and memh to stdout without -o", async () => {
    expect((await run("asm", "smoke.pccxasm", "-o", "smoke.bin", "-q")).code).toBe(0);
    const bin = await readFile(join(dir, "smoke.bin"));
    expect(Buffer.from(bin).equals(Buffer.from(formatBin(fixtureVectors.map((v) => BigInt(v.word)))))).toBe(
      true,
    );
    expect((await run("asm", "smoke.pccxasm", "-o", "raw.dat", "--format", "bin", "-q")).code).toBe(0);
    expect(Buffer.from(await readFile(join(dir, "raw.dat"))).equals(bin)).toBe(true);
    expect((await run("asm", "smoke.pccxasm")).stdout).toBe(await smokeMemh());
    const j = JSON.parse((await run("asm", "smoke.pccxasm", "-o", "j.memh", "--json")).stdout);
    expect(j).toMatchObject({ source: "smoke.pccxasm", words: 7, format: "memh", output: "j.memh" });
  });

  it("assembler errors exit 2 with file:line:column; no output file is left", async () => {
    await writeFile(join(dir, "bad.pccxasm"), "GEMV\nGEMV flags=accm|oops\n");
    const r = await run("asm", "bad.pccxasm", "-o", "bad.memh");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error[isa/asm-unknown-flag]: GEMV flags has no flag "oops" near "oops"');
    expect(r.stderr).toContain("--> bad.pccxasm:2:17");
    expect((await readdir(dir)).includes("bad.memh")).toBe(false);
  });

  it("unknown output extension is a usage error; a missing input an I/O error", async () => {
    expect((await run("asm", "smoke.pccxasm", "-o", "x.txt")).code).toBe(1);
    expect((await run("asm", "nope.pccxasm", "-o", "x.memh")).code).toBe(4);
  });

  it("disassembles memh (labels kept) and bin, and the listing reassembles", async () => {
    await run("asm", "smoke.pccxasm", "-o", "s.memh", "-q");
    const m = await run("disasm", "s.memh");
    expect(m.code).toBe(0);
    expect(m.stdout).toContain("compute:\n    GEMM dest_reg=512 src_addr=300 flags=w_scale");
    await writeFile(join(dir, "relisted.pccxasm"), m.stdout);
    await run("asm", "relisted.pccxasm", "-o", "s2.memh", "-q");
    const again = (await readFile(join(dir, "s2.memh"), "utf8")).split("\n").slice(1);
    expect(again).toEqual((await smokeMemh()).split("\n").slice(1));
    await run("asm", "smoke.pccxasm", "-o", "s.bin", "-q");
    const b = await run("disasm", "s.bin");
    expect(b.stdout).not.toContain("compute:");
    expect(b.stdout.replace(/^\S.*:\n/gm, "")).toBe(m.stdout.replace(/^\S.*:\n/gm, ""));
  });

  it("disasm --json lists instructions; invalid words fail strict and show with --lenient", async () => {
    const j = JSON.parse((await run("disasm", "--json", "s.memh")).stdout);
    expect(j.count).toBe(7);
    expect(j.instructions[5]).toEqual({ index: 5, ...fixtureVectors[5], valid: true });
    await writeFile(
      join(dir, "bad.memh"),
      `${fixtureVectors[0]!.word.slice(2)}\n${RESERVED_OP_HEX.slice(2)}\n`,
    );
    const strict = await run("disasm", "bad.memh");
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain(`word 1 (${RESERVED_OP_HEX}): opcode 0x5 is reserved`);
    expect(strict.stderr).toContain("--> bad.memh:2");
    const lenient = await run("disasm", "--lenient", "bad.memh");
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain(`.word ${RESERVED_OP_HEX}`);
    await writeFile(join(dir, "odd.bin"), new Uint8Array(5));
    const odd = await run("disasm", "odd.bin");
    expect([odd.code, odd.stderr.includes("error[isa/bin-length]")]).toEqual([2, true]);
    await writeFile(join(dir, "junk.memh"), "3030001000100090\nhello\n");
    const junk = await run("disasm", "junk.memh");
    expect([junk.code, junk.stderr.includes("--> junk.memh:2:1")]).toEqual([2, true]);
  });
});

describe("pccxc isa header", () => {
  it("prints the header, or writes it with -o", async () => {
    const r = await run("header");
    expect(r).toEqual({ code: 0, stdout: renderCHeader(), stderr: "" });
    expect((await run("header", "-o", "inc/pccx_isa.h", "-q")).code).toBe(0);
    expect(await readFile(join(dir, "inc/pccx_isa.h"), "utf8")).toBe(renderCHeader());
    const j = JSON.parse((await run("header", "--json", "-o", "h.h")).stdout);
    expect(j).toEqual({ output: "h.h", bytes: Buffer.byteLength(renderCHeader()) });
  });
});
