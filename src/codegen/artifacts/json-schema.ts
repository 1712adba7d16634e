/**
 * The zod schema of program.json (docs/artifacts.md §program.json), exported as zod and as JSON
 * Schema (`programJsonSchema()`, what `pccxc schema program` prints). Bounds match program.bin's
 * fixed-size records, so every valid program.json converts to program.bin.
 */
import { z } from "zod";
import { ALLOC_SPACES, DDR_KINDS, DMA_PORTS, HOST_DTYPES, SEGMENT_KINDS, VARIABLE_SETTERS } from "./enums.js";

export const PROGRAM_JSON_KIND = "pccxc_program";
export const PROGRAM_JSON_SCHEMA_VERSION = 1;

const text = z
  .string()
  .regex(/^[^\u0000\p{Cs}]*$/u, { error: "strings may not contain NUL characters or unpaired surrogates" });
const u32 = z.int().min(0).max(0xfffffffe);
const u53 = z.int().min(0);
const i53 = z.int();
const port = z.enum(DMA_PORTS);

export const WORD_HEX_RE = /^0x[0-9a-f]{16}$/;
const wordHex = z.string().regex(WORD_HEX_RE, { error: "expected 0x and 16 lower-case hex digits" });

const FieldValueJson = z.union([
  z.int().min(0),
  z.string(),
  z.record(z.string(), z.union([z.literal(0), z.literal(1)])),
]);
const FieldsJson = z
  .record(z.string(), FieldValueJson)
  .describe("decoded fields, as src/isa decodes the word");

export const OriginJson = z
  .strictObject({
    op: text.optional().describe("graph op id"),
    layer: u32.optional().describe("decoder layer"),
    tensors: z.array(text).optional().describe("HF tensor names the step touches"),
  })
  .describe("where the step comes from (its label is the step's `label`)");

const stepBase = {
  index: u32.describe("position of the step in its segment"),
  label: text.describe("short human label"),
  origin: OriginJson,
};

const NpuStepJson = z.strictObject({
  ...stepBase,
  kind: z.literal("npu"),
  opcode: z.enum(["GEMV", "GEMM", "MEMCPY", "MEMSET", "CVO"]),
  word_hex: wordHex,
  fields: FieldsJson,
  intent: text.optional().describe("CVO: the function the compiler intended (exact-mode semantics)"),
  weight_segment: text.optional().describe("GEMV/GEMM: the weight segment this instruction consumes"),
});

const DmaStepJson = z.strictObject({
  ...stepBase,
  kind: z.literal("dma"),
  port,
  region: text,
  offset: u53,
  bytes: u53,
  tag: u32,
});

const HostOperandJson = z.strictObject({
  region: text,
  offset: u53,
  elements: u53,
  dtype: z.enum(HOST_DTYPES),
  rows: u32.optional().describe("token rows, stored as column blocks (docs/program.md §5)"),
  blocks: z.array(u32).optional().describe("widths of the column blocks"),
});

const HostStepJson = z.strictObject({
  ...stepBase,
  kind: z.literal("host"),
  fn: text,
  inputs: z.array(HostOperandJson),
  outputs: z.array(HostOperandJson),
  attrs: z.record(text, z.union([z.number(), text, z.boolean(), z.array(z.number())])),
});

const WaitOnJson = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("npu-idle") }),
  z.strictObject({ kind: z.literal("dma"), port, tag: u32 }),
  z.strictObject({ kind: z.literal("host") }),
]);

const WaitStepJson = z.strictObject({ ...stepBase, kind: z.literal("wait"), on: WaitOnJson });

export const StepJson = z.discriminatedUnion("kind", [NpuStepJson, DmaStepJson, HostStepJson, WaitStepJson]);

const SegmentJson = z.strictObject({
  name: text.min(1),
  kind: z.enum(SEGMENT_KINDS),
  max_pos: i53
    .optional()
    .describe("prefill: the largest position the segment may be replayed at (docs/program.md §2)"),
  steps: z.array(StepJson),
});

const RelocationJson = z.strictObject({
  segment: text,
  step: u32,
  field: text.describe(
    'instruction field ("b_value"), DMA field ("offset", "bytes", "tag") or host operand field ("inputs[0].offset")',
  ),
  expr: z
    .strictObject({
      base: i53,
      terms: z.array(z.strictObject({ variable: text, stride: i53 })),
      min: i53.optional(),
      max: i53.optional(),
    })
    .describe("value = clamp(base + Σ stride × variable, min, max)"),
});

const InstructionJson = z.strictObject({
  index: u32.describe("position among all NPU words of the program"),
  segment: text,
  step: u32,
  label: text,
  opcode: z.string(),
  word_hex: wordHex,
  fields: FieldsJson,
});

export const ProgramJsonSchema = z
  .strictObject({
    schema_version: z.literal(PROGRAM_JSON_SCHEMA_VERSION),
    kind: z.literal(PROGRAM_JSON_KIND),
    compiler: z.strictObject({ name: z.literal("pccxc"), version: text }),
    target: z.strictObject({ name: text, fingerprint: text }),
    model: text,
    context: u32.optional().describe("positions the program supports: 0 … context−1"),
    isa: z.strictObject({
      table: text,
      word_bits: z.literal(64),
      cvo_extensions: z.record(z.string(), z.int().min(0).max(15)),
    }),
    summary: z
      .strictObject({
        segments: u32,
        steps: u32,
        npu: u32,
        dma: u32,
        host: u32,
        wait: u32,
        relocations: u32,
      })
      .describe("counts, for people; the reader checks them"),
    variables: z.array(z.strictObject({ name: text, doc: text, set_by: z.enum(VARIABLE_SETTERS) })),
    ddr: z.array(
      z.strictObject({
        name: text,
        offset: u53,
        bytes: u53,
        kind: z.enum(DDR_KINDS),
        port: port.optional(),
      }),
    ),
    allocations: z.array(
      z.strictObject({
        space: z.enum(ALLOC_SPACES),
        name: text,
        offset: u53,
        size: u53,
        segment: text.optional(),
        live: z.tuple([u32, u32]).optional(),
      }),
    ),
    segments: z.array(SegmentJson),
    relocations: z.array(RelocationJson),
    instructions: z.array(InstructionJson).describe("every NPU word again, flat, in program order"),
  })
  .describe("pccxc program.json: the command stream of a compiled model (docs/artifacts.md)");

export type ProgramJson = z.infer<typeof ProgramJsonSchema>;
export type StepJsonT = z.infer<typeof StepJson>;
export type HostOperandJsonT = z.infer<typeof HostOperandJson>;

/** The JSON Schema of program.json (output mode: what pccxc writes). */
export function programJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ProgramJsonSchema, { io: "output" }) as Record<string, unknown>;
}
