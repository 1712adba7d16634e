/**
 * The closed value sets of the program model, as ordered lists. The list order is the numeric code
 * program.bin stores (docs/artifacts.md), so never reorder an entry: append new ones at the end.
 * program.json's zod schema takes its enums from the same lists.
 */
import type {
  Allocation,
  DdrRegion,
  DmaPort,
  HostOperand,
  SegmentKind,
  Step,
  Variable,
  WaitOn,
} from "../program.js";

/** `true` only when the list holds every member of the union `U` (and nothing else). */
type Exhaustive<L extends readonly string[], U extends string> = [U] extends [L[number]]
  ? [L[number]] extends [U]
    ? L
    : never
  : never;

function codes<U extends string>() {
  return <const L extends readonly string[]>(list: Exhaustive<L, U>): L => list;
}

export const SEGMENT_KINDS = codes<SegmentKind>()(["load", "prefill", "decode"]);
export const STEP_KINDS = codes<Step["kind"]>()(["npu", "dma", "host", "wait"]);
export const DMA_PORTS = codes<DmaPort>()(["hp0", "hp1", "hp2", "hp3", "acp_fmap", "acp_result"]);
export const WAIT_KINDS = codes<WaitOn["kind"]>()(["npu-idle", "dma", "host"]);
export const HOST_DTYPES = codes<HostOperand["dtype"]>()(["f32", "bf16", "i32", "int4"]);
export const VARIABLE_SETTERS = codes<Variable["setBy"]>()(["driver", "host"]);
export const ALLOC_SPACES = codes<Allocation["space"]>()(["l2", "const_fmap", "const_weight", "ddr"]);
export const DDR_KINDS = codes<DdrRegion["kind"]>()([
  "weights",
  "embedding",
  "kv",
  "buffer",
  "logits",
  "table",
]);

/** Host attribute value types in program.bin. */
export const ATTR_TYPES = ["number", "string", "bool", "numbers"] as const;

/** DMA fields a relocation may patch, in field-id order (program.bin ids 0x8000 + index). */
export const DMA_RELOC_FIELDS = ["offset", "bytes", "tag"] as const;
