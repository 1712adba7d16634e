import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  memhPathFor,
  PCCX_PROGRAM_KIND,
  renderPccxProgram,
  renderProgramJson,
} from "../../../src/codegen/artifacts/index.js";
import type { Program, Step } from "../../../src/codegen/program.js";
import type { PccxError } from "../../../src/diag/index.js";
import { parseMemh, parseWordLiteral } from "../../../src/isa/index.js";
import { FIXTURE } from "./fixture.js";
import { runCli, withTempDir } from "./helpers.js";

interface Vector {
  word: string;
  opcode: string;
  fields: Record<string, unknown>;
}
const VECTORS = fileURLToPath(new URL("../../isa/fixtures/vectors.json", import.meta.url));
const vectors = (JSON.parse(readFileSync(VECTORS, "utf8")) as { vectors: Vector[] }).vectors;

/** The labels the pccx smoke-program generator gives these seven words. */
const PCCX_LABELS = [
  "program_fmap_shape_ptr3",
  "program_fmap_shape_ptr9",
  "host_to_l2_fixture",
  "l2_to_gemm_smoke",
  "l2_to_gemv_smoke",
  "cvo_reduce_sum_smoke",
  "l2_to_host_result",
];

/** The fields the pccx generator writes for them: raw integers, reserved fields included. */
const PCCX_FIELDS = [
  { dest_cache: 0, dest_addr: 3, a_value: 1, b_value: 1, c_value: 9, reserved: 0 },
  { dest_cache: 0, dest_addr: 9, a_value: 4, b_value: 4, c_value: 4, reserved: 0 },
  { from_device: 1, to_device: 0, dest_addr: 100, src_addr: 0, aux_addr: 0, shape_ptr_addr: 3, async: 0 },
  {
    dest_reg: 512,
    src_addr: 300,
    flags: 8,
    size_ptr_addr: 1,
    shape_ptr_addr: 3,
    parallel_lane: 4,
    reserved: 0,
  },
  {
    dest_reg: 768,
    src_addr: 400,
    flags: 16,
    size_ptr_addr: 2,
    shape_ptr_addr: 9,
    parallel_lane: 4,
    reserved: 0,
  },
  { cvo_func: 5, src_addr: 768, dst_addr: 896, length: 64, flags: 0, async: 0 },
  { from_device: 0, to_device: 1, dest_addr: 0, src_addr: 896, aux_addr: 0, shape_ptr_addr: 3, async: 0 },
];

/** The seven hardware vectors as a one-segment program. */
const VECTOR_PROGRAM: Program = {
  schemaVersion: 1,
  target: "kv260-v002",
  targetFingerprint: "kv260-v002@0123456789abcdef",
  model: "pccx/tiny-shape-lookup",
  segments: [
    {
      name: "load",
      kind: "load",
      steps: vectors.map(
        (v, i): Step => ({
          kind: "npu",
          instr: { opcode: v.opcode as "GEMV", fields: v.fields as Record<string, number> },
          origin: { label: PCCX_LABELS[i]! },
        }),
      ),
    },
  ],
  relocations: [],
  variables: [],
  allocations: [],
  ddr: [],
};

// biome-ignore lint/suspicious/noExplicitAny: the tests read exported JSON freely
type Json = any;

/** Words of a .memh the way the pccx handoff tool reads it: skip // and # comments, normalise to 0x + 16 digits. */
function pccxMemhWords(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.split("#")[0]!.split("//")[0]!.trim())
    .filter(Boolean)
    .map((t) => `0x${BigInt(`0x${t}`).toString(16).padStart(16, "0")}`);
}

describe("pccx-program export", () => {
  it("reproduces the seven pccx hardware vectors: words, opcodes, labels and raw fields", () => {
    const out = renderPccxProgram(VECTOR_PROGRAM, { wordSegments: ["load"] });
    const doc: Json = JSON.parse(out.json);
    expect(doc.schema_version).toBe(1);
    expect(doc.kind).toBe(PCCX_PROGRAM_KIND);
    expect(doc.instructions).toHaveLength(7);
    doc.instructions.forEach((ins: Json, i: number) => {
      const w = parseWordLiteral(vectors[i]!.word);
      expect(ins.index).toBe(i);
      expect(ins.label).toBe(PCCX_LABELS[i]);
      expect(ins.opcode).toBe(vectors[i]!.opcode);
      expect(ins.opcode_value).toBe(Number(w >> 60n));
      expect(ins.word_hex).toBe(vectors[i]!.word);
      expect(ins.body_hex).toBe(`0x${(w & ((1n << 60n) - 1n)).toString(16).padStart(15, "0")}`);
      expect(ins.fields).toEqual(PCCX_FIELDS[i]);
    });
    expect(pccxMemhWords(out.memh)).toEqual(vectors.map((v) => v.word));
  });

  it("writes the field formats of the pccx generator", () => {
    const doc: Json = JSON.parse(renderPccxProgram(FIXTURE).json);
    for (const ins of doc.instructions) {
      expect(ins.word_hex).toMatch(/^0x[0-9a-f]{16}$/);
      expect(ins.body_hex).toMatch(/^0x[0-9a-f]{15}$/);
      expect(BigInt(ins.body_hex)).toBe(BigInt(ins.word_hex) & ((1n << 60n) - 1n));
      expect(Object.values(ins.fields).every((v) => Number.isInteger(v))).toBe(true);
    }
    // what the pccx handoff tool requires before it reads instructions
    for (const k of ["schema_version", "kind", "instructions", "claim_boundary", "target"])
      expect(doc).toHaveProperty(k);
    expect(Object.values(doc.claim_boundary).every((v) => v === false || v === null)).toBe(true);
    expect(doc.not_hardware_execution).toBe(true);
  });

  it("agrees word for word with its .memh (parsed both ways)", () => {
    const out = renderPccxProgram(FIXTURE);
    const words = JSON.parse(out.json).instructions.map((i: Json) => i.word_hex);
    expect(pccxMemhWords(out.memh)).toEqual(words);
    expect([...parseMemh(out.memh).words].map((w) => `0x${w.toString(16).padStart(16, "0")}`)).toEqual(words);
    expect(words).toHaveLength(9); // load (3) + decode (6), as program.memh
  });

  it("is laid out like Python's json.dumps(indent=2, sort_keys=True)", () => {
    const { json } = renderPccxProgram(FIXTURE);
    const doc = JSON.parse(json);
    const keys = Object.keys(doc);
    expect(keys).toEqual([...keys].sort());
    expect(Object.keys(doc.instructions[0])).toEqual([
      "body_hex",
      "fields",
      "index",
      "label",
      "opcode",
      "opcode_value",
      "segment",
      "step",
      "word_hex",
    ]);
    expect(json).toContain('\n  "instructions": [\n    {\n      "body_hex": ');
    expect(json.endsWith("}\n")).toBe(true);
    const unicode = renderPccxProgram({ ...VECTOR_PROGRAM, model: "모델\u007f" }).json;
    expect(unicode).toContain('"preset": "pccxc:\\ubaa8\\ub378\\u007f"');
  });

  const python = spawnSync("python3", ["--version"]).status === 0;
  if (!python)
    console.warn("skipped: python3 not found, the byte-for-byte json.dumps comparison does not run");
  it.skipIf(!python)(
    "is byte for byte what Python's json.dumps(indent=2, sort_keys=True) writes for the same data",
    () => {
      const { json } = renderPccxProgram({ ...FIXTURE, model: '모델 \u007f "q"\n' });
      const script =
        "import json,sys; t=sys.stdin.read(); sys.stdout.write(json.dumps(json.loads(t), indent=2, sort_keys=True) + '\\n')";
      const r = spawnSync("python3", ["-c", script], { input: json, encoding: "utf8" });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(json);
    },
  );

  it("refuses an export without NPU words (the pccx tools need at least one)", () => {
    try {
      renderPccxProgram(FIXTURE, { wordSegments: [] });
      expect.unreachable();
    } catch (e) {
      expect((e as PccxError).code).toBe("artifacts/export-empty");
    }
  });

  it("puts the .memh beside the JSON", () => {
    expect(memhPathFor("/o/pccx-program.json")).toBe("/o/pccx-program.memh");
    expect(memhPathFor("/o/prog")).toBe("/o/prog.memh");
  });
});

describe("pccxc export", () => {
  it("reads <out-dir>/program.json and writes the pccx program JSON and .memh", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "program.json"), renderProgramJson(FIXTURE));
      const r = await runCli(["export", dir, "--format", "pccx-program", "--json"], dir);
      expect(r.code).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res).toMatchObject({ format: "pccx-program", instructions: 9, segments: ["load", "decode"] });
      expect(res.program_json).toBe(join(dir, "pccx-program.json"));
      const json = await readFile(res.program_json, "utf8");
      const memh = await readFile(res.memh, "utf8");
      expect(json).toBe(renderPccxProgram(FIXTURE).json);
      expect(JSON.parse(json).artifacts.memh).toBe("pccx-program.memh");
      expect(pccxMemhWords(memh)).toEqual(JSON.parse(json).instructions.map((i: Json) => i.word_hex));
      expect(r.stderr).toContain("wrote");
    });
  });

  it("honours -o and --segments", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "program.json"), renderProgramJson(FIXTURE));
      const r = await runCli(
        ["export", ".", "--format", "pccx-program", "-o", "x/smoke.json", "--segments", "prefill", "-q"],
        dir,
      );
      expect(r).toMatchObject({ code: 0, stderr: "" });
      const doc = JSON.parse(await readFile(join(dir, "x/smoke.json"), "utf8"));
      expect(doc.instructions.map((i: Json) => i.opcode)).toEqual(["GEMM"]);
      expect(doc.artifacts.memh).toBe("smoke.memh");
      expect(existsSync(join(dir, "x/smoke.memh"))).toBe(true);
    });
  });

  it("exits 1 without --format or with an unknown one", async () => {
    await withTempDir(async (dir) => {
      const r = await runCli(["export", dir], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[export/bad-format]: --format is required");
      expect((await runCli(["export", dir, "--format", "onnx"], dir)).stderr).toContain(
        'unknown export format "onnx"',
      );
    });
  });

  it("exits 4 when program.json is missing and 2 when it is invalid or a segment is unknown", async () => {
    await withTempDir(async (dir) => {
      const missing = await runCli(["export", dir, "--format", "pccx-program"], dir);
      expect(missing.code).toBe(4);
      expect(missing.stderr).toContain("artifacts/read-failed");
      await writeFile(
        join(dir, "program.json"),
        renderProgramJson(FIXTURE).replace('"schema_version": 1', '"schema_version": 3'),
      );
      const bad = await runCli(["export", dir, "--format", "pccx-program"], dir);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("artifacts/schema-version");
      await writeFile(join(dir, "program.json"), renderProgramJson(FIXTURE));
      const seg = await runCli(["export", dir, "--format", "pccx-program", "--segments", "nope"], dir);
      expect(seg.code).toBe(2);
      expect(seg.stderr).toContain('the program has no segment "nope"');
    });
  });
});
