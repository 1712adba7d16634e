import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  PROGRAM_JSON_KIND,
  ProgramJsonSchema,
  parseProgramJson,
  programJsonSchema,
  readProgramJson,
  relocTarget,
  renderProgramJson,
} from "../../../src/codegen/artifacts/index.js";
import type { Program } from "../../../src/codegen/program.js";
import { ExitCode, PccxError } from "../../../src/diag/index.js";
import { compiledIsa, decode, V002 } from "../../../src/isa/index.js";
import { VERSION } from "../../../src/version.js";
import { FIXTURE } from "./fixture.js";
import { programArb } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: the tests read and damage JSON freely
type Json = any;

const text = renderProgramJson(FIXTURE);
const json: Json = JSON.parse(text);

/** The error `fn` throws (fails the test when it does not throw a PccxError). */
function errorOf(fn: () => unknown): PccxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PccxError) return e;
    throw e;
  }
  throw new Error("expected a PccxError");
}

function edited(edit: (j: Json) => void): string {
  const j = JSON.parse(text);
  edit(j);
  return JSON.stringify(j);
}

describe("program.json writer", () => {
  it("records schema version, kind, compiler version, target, fingerprint and model", () => {
    expect(json.schema_version).toBe(1);
    expect(json.kind).toBe(PROGRAM_JSON_KIND);
    expect(json.compiler).toEqual({ name: "pccxc", version: VERSION });
    expect(json.target).toEqual({ name: "kv260-v002", fingerprint: "kv260-v002@0123456789abcdef" });
    expect(json.model).toBe("tiny/llama-2l");
    expect(json.context).toBe(4096);
    expect(json.summary).toEqual({
      segments: 3,
      steps: 22,
      npu: 10,
      dma: 5,
      host: 1,
      wait: 6,
      relocations: 5,
    });
  });

  it("writes every NPU step with its word, decoded fields, label and origin", () => {
    const gemv = json.segments[2].steps[5];
    expect(gemv).toEqual({
      index: 5,
      label: "q_proj rows 0-63 k 0-63",
      origin: {
        op: "layers.0.self_attn.q_proj",
        layer: 0,
        tensors: ["model.layers.0.self_attn.q_proj.weight"],
      },
      kind: "npu",
      opcode: "GEMV",
      word_hex: "0x0018000641008920",
      fields: decode(0x0018000641008920n).fields,
      weight_segment: "l0.q_proj",
    });
    expect(json.segments[2].steps[7].intent).toBe("exp");
  });

  it("writes DMA, host and wait steps field by field", () => {
    const d = json.segments[2].steps;
    expect(d[4]).toMatchObject({
      kind: "dma",
      port: "hp2",
      region: "weights_hp2",
      offset: 4096,
      bytes: 2048,
      tag: 2,
    });
    expect(d[12]).toMatchObject({
      kind: "host",
      fn: "silu",
      inputs: [{ region: "host_buf", offset: 0, elements: 64, dtype: "bf16", rows: 1, blocks: [64] }],
      attrs: { approx: "exact", dims: [64, 1], eps: 1e-6, inplace: false },
    });
    expect(d[6]).toMatchObject({ kind: "wait", on: { kind: "dma", port: "hp2", tag: 2 } });
    expect(d[13].on).toEqual({ kind: "host" });
  });

  it("writes a segment's max_pos after its kind, and only when the segment has one", () => {
    expect(json.segments.map((s: Json) => Object.keys(s))).toEqual([
      ["name", "kind", "steps"],
      ["name", "kind", "max_pos", "steps"],
      ["name", "kind", "steps"],
    ]);
    expect(json.segments[1].max_pos).toBe(4032);
    expect(text).toContain('"kind": "prefill",\n      "max_pos": 4032,\n');
  });

  it("lists every NPU word again as instructions, in program order", () => {
    expect(json.instructions).toHaveLength(10);
    expect(json.instructions[0]).toEqual({
      index: 0,
      segment: "load",
      step: 0,
      label: "fmap shape 3",
      opcode: "MEMSET",
      word_hex: "0x3030001000100090",
      fields: { dest_cache: 0, dest_addr: 3, a_value: 1, b_value: 1, c_value: 9 },
    });
    const flat = json.segments.flatMap((s: Json) =>
      s.steps.filter((x: Json) => x.kind === "npu").map((x: Json) => x.word_hex),
    );
    expect(json.instructions.map((i: Json) => i.word_hex)).toEqual(flat);
    expect(json.instructions[9]).toMatchObject({ segment: "decode", step: 10 });
  });

  it("writes relocations, variables, allocations and DDR regions", () => {
    expect(json.relocations[2]).toEqual({
      segment: "decode",
      step: 14,
      field: "bytes",
      expr: { base: 64, terms: [{ variable: "kv_len[0]", stride: 16 }], min: 0, max: 65536 },
    });
    expect(json.variables[0]).toEqual({ name: "pos", doc: "position of the token", set_by: "driver" });
    expect(json.allocations[0]).toEqual({
      space: "l2",
      name: "x",
      offset: 100,
      size: 2,
      segment: "decode",
      live: [1, 5],
    });
    expect(json.ddr[1]).toEqual({
      name: "weights_hp2",
      offset: 1 << 20,
      bytes: 1 << 20,
      kind: "weights",
      port: "hp2",
    });
  });

  it("is deterministic and writes one step per line", () => {
    expect(renderProgramJson(structuredClone(FIXTURE) as Program)).toBe(text);
    const stepLines = text
      .split("\n")
      .filter((l) => l.trimStart().startsWith('{"index":') && l.includes('"kind":'));
    expect(stepLines).toHaveLength(22);
  });

  it("the written JSON satisfies its own zod schema, and the JSON Schema export describes it", () => {
    expect(ProgramJsonSchema.safeParse(json).success).toBe(true);
    const schema = programJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["schema_version", "segments", "instructions"]),
    );
    expect(schema.required).toContain("relocations");
  });

  it("refuses a program codegen got wrong with an internal error naming the place", () => {
    const bad = {
      ...FIXTURE,
      relocations: [{ segment: "decode", step: 4, field: "b_value", expr: { base: 0, terms: [] } }],
    };
    const e = errorOf(() => renderProgramJson(bad));
    expect(e.code).toBe("artifacts/bad-program");
    expect(e.exitCode).toBe(ExitCode.INTERNAL);
    expect(e.message).toContain("$.relocations[0].field");
    expect(e.message).toContain("DMA step relocates only offset, bytes, tag");
  });
});

describe("readProgramJson", () => {
  it("reads the fixture back to the same Program", () => {
    expect(readProgramJson(text)).toEqual(FIXTURE);
  });

  it("is the identity on generated programs (Program → JSON → Program)", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        expect(readProgramJson(renderProgramJson(p))).toEqual(p);
      }),
      { numRuns: 150 },
    );
  });

  it("keeps the CVO extension names of the target and decodes with them", () => {
    const ext = { SILU: 8 };
    const p: Program = {
      ...FIXTURE,
      segments: [
        {
          name: "decode",
          kind: "decode",
          steps: [
            {
              kind: "npu",
              instr: {
                opcode: "CVO",
                fields: {
                  cvo_func: "SILU",
                  src_addr: 1,
                  dst_addr: 2,
                  length: 8,
                  flags: { sub_emax: 0, recip_scale: 0, accm: 0 },
                  async: 0,
                },
              },
              origin: { label: "silu" },
            },
          ],
        },
      ],
      relocations: [],
      allocations: [],
    };
    const t = renderProgramJson(p, { cvoExtensions: ext });
    expect(JSON.parse(t).isa.cvo_extensions).toEqual(ext);
    const f = parseProgramJson(t);
    expect(f.program).toEqual(p);
    expect(f.cvoExtensions).toEqual(ext);
    // without the extension names the instruction cannot be encoded: a codegen/driver bug, not a user error
    expect(errorOf(() => renderProgramJson(p)).code).toBe("artifacts/bad-instruction");
  });

  it("reports a JSON syntax error with line and column", () => {
    const e = errorOf(() =>
      readProgramJson('{\n  "kind": "pccxc_program",\n  oops\n}', { file: "out/program.json" }),
    );
    expect(e.code).toBe("artifacts/json-syntax");
    expect(e.exitCode).toBe(ExitCode.INVALID_INPUT);
    expect(e.at).toMatchObject({ file: "out/program.json", line: 3 });
  });

  it("names an unsupported schema version and a file of another kind", () => {
    const v = errorOf(() => readProgramJson(edited((j) => (j.schema_version = 2))));
    expect(v.code).toBe("artifacts/schema-version");
    expect(v.message).toContain("schema_version 2 is not supported");
    const k = errorOf(() =>
      readProgramJson(JSON.stringify({ schema_version: 1, kind: "pccx_v002_runtime_smoke_program" })),
    );
    expect(k.code).toBe("artifacts/not-a-program");
  });

  it("reports a schema violation at its JSON path", () => {
    const e = errorOf(() => readProgramJson(edited((j) => (j.segments[2].steps[4].port = "hp7"))));
    expect(e.code).toBe("artifacts/program-json");
    expect(e.at?.jsonPath).toBe("$.segments[2].steps[4].port");
    const neg = errorOf(() => readProgramJson(edited((j) => (j.ddr[0].bytes = -1))));
    expect(neg.at?.jsonPath).toBe("$.ddr[0].bytes");
    const pos = errorOf(() => readProgramJson(edited((j) => (j.segments[1].max_pos = 4.5))));
    expect(pos.code).toBe("artifacts/program-json");
    expect(pos.at?.jsonPath).toBe("$.segments[1].max_pos");
  });

  it("reads max_pos, a negative one too (a chunk that can never be replayed), and its absence", () => {
    expect(readProgramJson(text).segments.map((s) => s.maxPos)).toEqual([undefined, 4032, undefined]);
    expect(readProgramJson(text).segments[0]).not.toHaveProperty("maxPos");
    expect(readProgramJson(edited((j) => (j.segments[1].max_pos = -3))).segments[1]!.maxPos).toBe(-3);
    expect(readProgramJson(edited((j) => delete j.segments[1].max_pos)).segments[1]).not.toHaveProperty(
      "maxPos",
    );
  });

  it("rejects fields that disagree with word_hex", () => {
    const e = errorOf(() => readProgramJson(edited((j) => (j.segments[2].steps[5].fields.dest_reg = 769))));
    expect(e.code).toBe("artifacts/word-mismatch");
    expect(e.at?.jsonPath).toBe("$.segments[2].steps[5].fields.dest_reg");
    expect(e.message).toContain("dest_reg is 769 but the word holds 768");
    const op = errorOf(() => readProgramJson(edited((j) => (j.segments[0].steps[0].opcode = "CVO"))));
    expect(op.code).toBe("artifacts/word-mismatch");
  });

  it("rejects an invalid instruction word with the ISA's own error code", () => {
    const e = errorOf(() =>
      readProgramJson(edited((j) => (j.segments[0].steps[0].word_hex = "0x5000000000000000"))),
    );
    expect(e.code).toBe("isa/reserved-opcode");
    expect(e.at?.jsonPath).toBe("$.segments[0].steps[0].word_hex");
  });

  it("rejects instructions, summary and indices that disagree with the steps", () => {
    expect(errorOf(() => readProgramJson(edited((j) => j.instructions.pop()))).code).toBe(
      "artifacts/instructions",
    );
    const lab = errorOf(() => readProgramJson(edited((j) => (j.instructions[3].label = "x"))));
    expect(lab.at?.jsonPath).toBe("$.instructions[3].label");
    expect(errorOf(() => readProgramJson(edited((j) => (j.summary.npu = 9)))).code).toBe("artifacts/summary");
    expect(errorOf(() => readProgramJson(edited((j) => (j.segments[1].steps[2].index = 5)))).code).toBe(
      "artifacts/bad-index",
    );
  });

  it("rejects an inconsistent program (relocation to a missing step, undeclared variable, unknown region)", () => {
    const r = errorOf(() => readProgramJson(edited((j) => (j.relocations[0].step = 99))));
    expect(r.code).toBe("artifacts/inconsistent");
    expect(r.at?.jsonPath).toBe("$.relocations[0].step");
    const v = errorOf(() =>
      readProgramJson(edited((j) => (j.relocations[0].expr.terms[0].variable = "nope"))),
    );
    expect(v.message).toContain('variable "nope" is not declared');
    const d = errorOf(() => readProgramJson(edited((j) => (j.segments[2].steps[4].region = "missing"))));
    expect(d.at?.jsonPath).toBe("$.segments[2].steps[4].region");
    const w = errorOf(() => readProgramJson(edited((j) => (j.relocations[1].field = "dest_cache2"))));
    expect(w.message).toContain('MEMSET has no integer field "dest_cache2"');
  });
});

describe("relocTarget", () => {
  const steps = FIXTURE.segments[2]!.steps;
  const isa = compiledIsa();

  it("resolves instruction fields to their table index and bit position", () => {
    const memset = V002.opcodes.find((o) => o.mnemonic === "MEMSET")!;
    const b = memset.fields.findIndex((f) => f.name === "b_value");
    expect(relocTarget(steps[3]!, "b_value", isa)).toEqual({ id: b, lsb: memset.fields[b]!.lsb, width: 16 });
    expect(relocTarget(steps[3]!, "reserved", isa)).toMatch(/no integer field "reserved"/);
    expect(relocTarget(steps[7]!, "cvo_func", isa)).toMatch(/no integer field "cvo_func"/);
  });

  it("resolves DMA and host operand fields, and refuses wait steps and missing operands", () => {
    expect(relocTarget(steps[4]!, "tag", isa)).toEqual({ id: 0x8002, lsb: 0, width: 0 });
    expect(relocTarget(steps[12]!, "inputs[0].elements", isa)).toEqual({ id: 0x4001, lsb: 0, width: 0 });
    expect(relocTarget(steps[12]!, "outputs[0].offset", isa)).toEqual({ id: 0x4002, lsb: 0, width: 0 });
    expect(relocTarget(steps[12]!, "outputs[1].offset", isa)).toBe(
      "outputs[1].offset: the host step has 1 outputs",
    );
    expect(relocTarget(steps[12]!, "inputs[0].dtype", isa)).toMatch(/host step relocates only/);
    expect(relocTarget(steps[13]!, "offset", isa)).toBe("a wait step has no relocatable field");
  });
});
