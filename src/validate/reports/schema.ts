/**
 * report.json: the zod schema (the normative definition, docs/report-format.md describes it field by
 * field) and its JSON Schema. Every section a compile may not have produced is nullable: `null`
 * means "not run", and report.md / report.html say so.
 */
import { z } from "zod";

export const REPORT_KIND = "pccxc_report";
export const REPORT_SCHEMA_VERSION = 1;

const count = z.int().min(0);
const num = z.number();
const nonNeg = z.number().min(0);
const cycles = nonNeg.describe("core clock cycles");
const record = <T extends z.ZodType>(v: T) => z.record(z.string(), v);

export const TIME_CATEGORY_KEYS = ["weights", "kv", "lm_head", "sfu", "host", "control"] as const;
const TimeSplit = z.strictObject(
  Object.fromEntries(TIME_CATEGORY_KEYS.map((k) => [k, cycles])) as Record<
    (typeof TIME_CATEGORY_KEYS)[number],
    typeof cycles
  >,
);

const ModelSection = z.strictObject({
  name: z.string().describe("model name or repo id"),
  modelType: z.string().nullable(),
  plugin: z.string().nullable(),
  numLayers: count.nullable(),
  hiddenSize: count.nullable(),
  vocabSize: count.nullable(),
});

const TargetSection = z.strictObject({
  name: z.string(),
  fingerprint: z.string(),
  clockMhz: num.describe("core clock the cycles are on"),
  ddrPeakGbps: num,
  ddrEffectiveGbps: num.describe("DDR peak × efficiency"),
  gemvFeedGbps: num.describe("the ports feeding the GEMV, capped by DDR"),
  gemvGmacs: num,
  gemmGmacs: num,
});

const FeatureRow = z.strictObject({
  feature: z.string(),
  key: z.string(),
  verdict: z.enum(["lowered", "host", "approximated", "rejected", "ignored"]),
  detail: z.string(),
  note: z
    .string()
    .describe("how it is lowered, why it runs on the host / is rejected, the approximation error"),
});

const FeaturesSection = z.strictObject({
  summary: z.strictObject({
    lowered: count,
    host: count,
    approximated: count,
    rejected: count,
    ignored: count,
  }),
  entries: z.array(FeatureRow),
});

const MemorySection = z.strictObject({
  line: z.string().describe("the one-line on-chip / DDR-streamed / off-DDR split"),
  onChipBytes: count,
  streamedPerTokenBytes: count,
  streamBytes: count,
  offDdrBytes: count,
  kvBytes: count,
  ddrBytes: count,
  ddrCapacityBytes: count.nullable(),
  fits: z.boolean().nullable(),
  fitText: z.string().nullable(),
});

/** One INT4 tensor's quantization error (weights.json `quantization[]`, docs/layout.md §7). */
const QuantRow = z.strictObject({
  tensor: z.string(),
  role: z.string(),
  source: z.string(),
  group: z.int(),
  rmse: nonNeg,
  maxAbsError: nonNeg,
  snrDb: num.nullable().describe("null when the quantization is exact (infinite SNR)"),
  cosine: num,
});

const QuantizationSection = z.strictObject({
  tensors: count,
  minSnrDb: num.nullable(),
  minCosine: num.nullable(),
  entries: z.array(QuantRow).describe("every INT4 tensor, lowest SNR first"),
});

const SegmentRow = z.strictObject({
  name: z.string(),
  kind: z.enum(["load", "prefill", "decode"]),
  steps: count,
  npu: count,
  dma: count,
  host: count,
  waits: count,
  instructions: record(count).describe("NPU instructions by opcode"),
  hostFunctions: record(count).describe("host steps by function"),
});

const ProgramSection = z.strictObject({
  segments: z.array(SegmentRow),
  relocations: count,
  variables: count,
  ddrRegions: count,
  prefillChunk: count.nullable(),
});

const Phase = z.strictObject({
  runs: count,
  tokens: count,
  cycles,
  seconds: nonNeg,
  tokensPerSecond: nonNeg,
});

const LayerJson = z.strictObject({
  layer: z.union([count, z.string()]),
  cycles,
  bytes: count,
  macs: count,
  bound: z.enum(["weights", "kv", "compute", "sfu", "host", "control"]),
  breakdown: record(cycles).describe("binding resource per interval, cycles"),
  split: TimeSplit,
  engines: record(cycles).describe("busy cycles per unit"),
});

const RunJson = z.strictObject({
  segment: z.string(),
  kind: z.enum(["load", "prefill", "decode"]),
  variables: record(num),
  tokens: count,
  cycles,
  seconds: nonNeg,
  tokensPerSecond: nonNeg,
  split: TimeSplit,
  engines: record(z.strictObject({ busy: cycles, count })),
  stalls: z.array(z.strictObject({ engine: z.string(), reason: z.string(), cycles })),
  ports: record(
    z.strictObject({
      port: z.string(),
      direction: z.enum(["in", "out"]),
      bytes: count,
      commands: count,
      busy: cycles,
      byKind: record(count),
    }),
  ),
  memory: z.strictObject({
    ddrRead: count,
    ddrWrite: count,
    l2Read: count,
    l2Write: count,
    constWrites: count,
    host: nonNeg,
  }),
  roofline: z.strictObject({
    bytes: count,
    boundCycles: cycles,
    limit: z.string(),
    ratio: nonNeg,
    bytesPerSecond: nonNeg,
  }),
  counts: z.strictObject({ steps: count, npu: count, dma: count, host: count, waits: count, macs: count }),
});

const TimingSection = z.strictObject({
  context: count.describe("KV rows the (last) decoded token attends to"),
  load: Phase.nullable(),
  prefill: Phase.nullable(),
  decode: Phase.nullable(),
  /** The run the detail below describes: the last decode token (else the last prefill chunk). */
  detail: RunJson.nullable(),
  layers: z.array(LayerJson),
  sweep: z.array(
    z.strictObject({
      context: count,
      cycles,
      tokensPerSecond: nonNeg,
      bytes: count,
      kvBytes: count,
      rooflineRatio: nonNeg,
    }),
  ),
});

/** Logits error of a run against a reference over teacher-forced steps (docs/report-format.md). */
const ErrorStats = z.strictObject({
  steps: count,
  minCosine: num,
  meanCosine: num,
  worstMaxRelErr: nonNeg,
  worstMaxAbsErr: nonNeg,
  top1Agreement: nonNeg,
});

const ValidationSection = z.strictObject({
  verdict: z.enum(["pass", "fail"]),
  faults: count,
  firstFaults: z.array(z.string()),
  golden: z
    .strictObject({
      tokensEqual: z.boolean(),
      firstDivergence: z.int(),
      top1Agreement: nonNeg,
      worstMaxRelErr: nonNeg,
      worstCosine: num,
    })
    .nullable(),
  /** The hardware numeric mode against the golden reference on the image's weights (measured, not judged). */
  hardware: ErrorStats.nullable(),
  /** The golden reference on the INT4 image's weights against the golden on the checkpoint's. */
  quantization: ErrorStats.nullable(),
  /** Why a measurement is missing (e.g. the checkpoint could not be read for the quantization error). */
  notes: z.array(z.string()),
});

export const ReportSchema = z
  .strictObject({
    kind: z.literal(REPORT_KIND),
    schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
    generator: z.strictObject({ name: z.literal("pccxc"), version: z.string() }),
    model: ModelSection.nullable(),
    target: TargetSection,
    features: FeaturesSection.nullable(),
    memory: MemorySection.nullable(),
    quantization: QuantizationSection.nullable(),
    program: ProgramSection.nullable(),
    timing: TimingSection.nullable(),
    validation: ValidationSection.nullable(),
  })
  .describe("pccxc report.json (docs/report-format.md)");

export type Report = z.infer<typeof ReportSchema>;
export type ReportTiming = NonNullable<Report["timing"]>;
export type ReportLayer = ReportTiming["layers"][number];

/** The JSON Schema of report.json (what `pccxc` writes). */
export function reportJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ReportSchema, { io: "output" }) as Record<string, unknown>;
}
