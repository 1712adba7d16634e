/**
 * Target schema, host and numbers part: the ARM host that runs fallback operations and drives the
 * NPU, and the numeric model (formats of activations, weights, scales and the KV cache) that the
 * layout stage and the functional simulator follow.
 */
import { z } from "zod";
import { flag, nonNegNum, posInt, posNum, text, withDefault } from "./schema-common.js";

export const HostSchema = z
  .strictObject({
    cpu: text("CPU core type"),
    cores: posInt("CPU cores"),
    clock_mhz: posNum("CPU clock, MHz"),
    fallback_threads: withDefault(
      posInt("Threads the driver uses for host fallback operations"),
      1,
      "pccxc choice: the generated driver is single-threaded; the other cores are left to the OS",
    ),
    elementwise_elements_per_s: posNum(
      "Per thread: BF16 elements/s of a simple element-wise op (add, multiply, max) in L2-image memory",
    ),
    transcendental_elements_per_s: posNum(
      "Per thread: BF16 elements/s of an op needing exp/tanh (SiLU, tanh, softcap)",
    ),
    call_overhead_ns: nonNegNum("Fixed cost of one host operation call (dispatch, loop set-up)"),
  })
  .describe("The host CPU that drives the NPU and runs fallback operations");

export const WEIGHT_SCALE_GRANULARITY = ["per_row", "group"] as const;
export const KV_DTYPES = ["int4", "int8", "bf16"] as const;

export const WeightFormatSchema = z
  .strictObject({
    format: z.enum(["int4"]).describe("Weight element format (two's complement, -8..7)"),
    symmetric: z
      .literal(true, { error: "expected true: pccx weights are symmetric (no zero point)" })
      .describe("Symmetric quantisation, no zero point"),
    nibble_order: z
      .enum(["low_even"])
      .describe("Byte packing: low nibble = even input index 2j, high nibble = 2j+1"),
    scale_granularity: z
      .enum(WEIGHT_SCALE_GRANULARITY)
      .describe("One scale per output row, or one per group_size consecutive inputs of a row"),
    group_size: posInt("Inputs per scale when scale_granularity is group").optional(),
    scale_dtype: z.enum(["bf16", "f16", "f32"]).describe("Format of the stored scales"),
  })
  .describe("Weight quantisation");

export const NumericSchema = z
  .strictObject({
    activation_l2: z.enum(["bf16"]).describe("Format of activations in L2"),
    engine_activation: z
      .strictObject({
        format: z.enum(["int8"]).describe("Format activations are turned into inside GEMV/GEMM"),
        block_elements: posInt("Elements sharing one block exponent"),
        block_exponent: flag("A shared exponent per block feeds the engine (W4A8 block scheme)"),
      })
      .describe("Activation quantisation inside the engines"),
    weights: WeightFormatSchema,
    kv_cache: z
      .strictObject({
        dtypes: z
          .array(z.enum(KV_DTYPES))
          .min(1, { error: "expected at least one KV cache format" })
          .describe("KV cache formats this target supports"),
        default: z.enum(KV_DTYPES).describe("KV cache format used unless a compile option picks another"),
        scale_granularity: z.enum(["per_head"]).describe("Scale granularity of a quantised KV cache"),
        ring_capacity_tokens: posInt("Tokens the KV ring holds (sink + local window eviction beyond)"),
      })
      .describe("KV cache in DDR"),
    host_compute: withDefault(
      z.enum(["f32"]).describe("Arithmetic of host fallback operations"),
      "f32",
      "design.md Validation: host ops run in float32",
    ),
  })
  .describe("Numeric model");
