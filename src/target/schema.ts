/**
 * The target file schema: every hardware fact codegen, the simulators and the C driver need, as
 * data. `TargetFile` is the validated form (hex strings parsed, defaults filled in). The JSON
 * Schema (`schemas/target.schema.json`) is generated from this in input mode.
 */
import { z } from "zod";
import { name, text, withDefault } from "./schema-common.js";
import { HostSchema, NumericSchema } from "./schema-host.js";
import { ControlSchema, DataMoverSchema, MmioSchema, PortSchema } from "./schema-io.js";
import { IsaSchema, MemcpySchema } from "./schema-isa.js";
import {
  ActivationCacheSchema,
  ClocksSchema,
  ConstCacheSchema,
  DdrSchema,
  DeviceSchema,
  GemmSchema,
  GemvSchema,
  L2Schema,
  SfuSchema,
} from "./schema-machine.js";

export const TARGET_FORMAT = "pccxc-target/1";

export const TargetFileSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path or URL of the JSON Schema, for editors (ignored)"),
    format: z
      .literal(TARGET_FORMAT, { error: `expected "${TARGET_FORMAT}"` })
      .describe("Version of this file format"),
    name: name("Target name; a built-in target's name equals its file name"),
    description: withDefault(text("One line on what the target describes"), "", "empty"),
    extends: text(
      "Name of a built-in target or a path (relative to this file) this file modifies",
    ).optional(),
    notes: withDefault(
      z.array(text("A note")).describe("Facts the schema cannot express yet (documentation only)"),
      [],
      "none",
    ),
    device: DeviceSchema,
    clocks: ClocksSchema,
    isa: IsaSchema,
    memcpy: MemcpySchema,
    l2: L2Schema,
    const_cache: ConstCacheSchema,
    activation_cache: ActivationCacheSchema,
    gemm: GemmSchema,
    gemv: GemvSchema,
    sfu: SfuSchema,
    ports: z.array(PortSchema).min(1, { error: "expected at least one port" }).describe("AXI ports"),
    datamover: DataMoverSchema,
    mmio: MmioSchema,
    control: ControlSchema,
    ddr: DdrSchema,
    host: HostSchema,
    numeric: NumericSchema,
    sources: withDefault(
      z
        .record(z.string(), text("Where the value comes from"))
        .describe(
          'Where each value comes from: JSON path of a value (e.g. "$.clocks.core_mhz") -> a citation or "pccxc estimate: <reasoning>". Every number needs one.',
        ),
      {},
      "none",
    ),
  })
  .meta({
    title: "pccxc target description",
    description:
      "Hardware facts of one pccx NPU target (docs/targets.md). Numbers carry their source in `sources`.",
  });

/** A validated target file: hex addresses are numbers, defaults are filled in. */
export type TargetFile = z.output<typeof TargetFileSchema>;
/** A target file as written (what the JSON Schema describes). */
export type TargetFileInput = z.input<typeof TargetFileSchema>;

export type Port = TargetFile["ports"][number];
export type CvoFunction = TargetFile["isa"]["cvo_functions"][number];
export type DataMoverChannel = TargetFile["datamover"]["channels"][number];

/** The JSON Schema of target files, input mode (what a person writes). */
export function targetJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(TargetFileSchema, { io: "input" }) as Record<string, unknown>;
}

/** Top-level keys that document rather than describe hardware: left out of the fingerprint. */
export const DOC_ONLY_TOP_KEYS = ["$schema", "name", "description", "extends", "notes", "sources"] as const;
/** Keys at any depth that are documentation only. */
export const DOC_ONLY_KEYS = ["meaning"] as const;
