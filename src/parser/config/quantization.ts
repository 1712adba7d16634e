/**
 * `quantization_config` decoded into a typed `QuantizationConfig`. Block-scaled FP8 (DeepSeek-V3
 * style) and MXFP4 (gpt-oss) are supported: pccxc dequantizes them and requantizes to INT4.
 * Everything else is recognised, described and marked unsupported; parsing does not fail on it
 * (`plan` works from the config alone), `requireSupportedQuantization` is for stages that read
 * weights. docs/parser-config.md "Quantization".
 */
import { z } from "zod";
import { unsupported } from "../../diag/index.js";
import type { ErrCtx } from "./errors.js";
import { CONFIG_ERROR_CODES, invalidAt, zodIssueError } from "./errors.js";
import { F } from "./fields.js";
import { childPath } from "./json-text.js";
import type { Ledger } from "./keys.js";
import type { ParsedConfig, QuantizationConfig } from "./types.js";

const FIX = "use the unquantized (bf16/fp16/fp32) checkpoint of this model; pccxc quantizes to INT4 itself";

const BLOCK = "expected a list of two positive integers or null";

const METHOD_SHAPES: Readonly<Record<string, Record<string, z.ZodType>>> = {
  fp8: {
    fmt: F.str(),
    weight_block_size: z
      .union(
        [
          z.null(),
          z
            .array(z.number({ error: BLOCK }).int({ error: BLOCK }).positive({ error: BLOCK }), {
              error: BLOCK,
            })
            .length(2, { error: BLOCK }),
        ],
        {
          error: BLOCK,
        },
      )
      .optional(),
    activation_scheme: F.str(),
    modules_to_not_convert: F.strListOrNull(),
    ignored_layers: F.strListOrNull(),
  },
  mxfp4: { modules_to_not_convert: F.strListOrNull() },
  gptq: {
    bits: F.posInt(),
    group_size: z.number({ error: "expected an integer" }).int({ error: "expected an integer" }).optional(),
    desc_act: F.bool(),
    sym: F.bool(),
    damp_percent: F.num(),
    true_sequential: F.bool(),
    checkpoint_format: F.str(),
    model_name_or_path: F.strOrNull(),
    model_file_base_name: F.strOrNull(),
    static_groups: F.bool(),
    modules_to_not_convert: F.strListOrNull(),
  },
  awq: {
    bits: F.posInt(),
    w_bit: F.posInt(),
    group_size: F.posInt(),
    q_group_size: F.posInt(),
    zero_point: F.bool(),
    version: F.str(),
    modules_to_not_convert: F.strListOrNull(),
  },
  modelopt: {
    quant_algo: F.str(),
    producer: F.any(),
    config_groups: F.any(),
    ignore: F.strListOrNull(),
    kv_cache_scheme: F.any(),
    kv_cache_quant_algo: F.any(),
    exclude_modules: F.strListOrNull(),
  },
  bitsandbytes: {
    load_in_4bit: F.bool(),
    load_in_8bit: F.bool(),
    bnb_4bit_quant_type: F.str(),
    bnb_4bit_compute_dtype: F.strOrNull(),
    bnb_4bit_use_double_quant: F.bool(),
    bnb_4bit_quant_storage: F.strOrNull(),
    llm_int8_threshold: F.num(),
    llm_int8_skip_modules: F.strListOrNull(),
    llm_int8_enable_fp32_cpu_offload: F.bool(),
    llm_int8_has_fp16_weight: F.bool(),
    _load_in_4bit: F.bool(),
    _load_in_8bit: F.bool(),
  },
  "compressed-tensors": {
    format: F.strOrNull(),
    config_groups: F.any(),
    ignore: F.strListOrNull(),
    kv_cache_scheme: F.any(),
    quantization_status: F.strOrNull(),
    global_compression_ratio: F.any(),
    sparsity_config: F.any(),
    transform_config: F.any(),
    version: F.strOrNull(),
  },
};

/** Decodes `quantization_config`; marks its keys consumed (unknown inner keys reported). */
export function parseQuantization(v: unknown, path: string, ctx: ErrCtx, ledger: Ledger): QuantizationConfig {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalidAt(ctx, path, "expected an object");
  const q = v as Record<string, unknown>;
  const qm = q.quant_method;
  if (typeof qm !== "string")
    throw invalidAt(ctx, childPath(path, "quant_method"), 'expected a string (e.g. "fp8")');
  const method = qm.toLowerCase();
  const shape = Object.hasOwn(METHOD_SHAPES, method) ? METHOD_SHAPES[method] : undefined;
  ledger.consumed.add(childPath(path, "quant_method"));
  if (shape) {
    const res = z.looseObject(shape).safeParse(q);
    if (!res.success) throw zodIssueError(ctx, path, q, res.error.issues);
  }
  for (const k of Object.keys(q)) {
    if (k === "quant_method") continue;
    const p = childPath(path, k);
    if (shape && Object.hasOwn(shape, k)) ledger.consumed.add(p);
    else ledger.unknown.add(p);
  }
  const skip = (k: string) => (Array.isArray(q[k]) ? (q[k] as string[]) : []);
  const base = { path, modules_to_not_convert: skip("modules_to_not_convert") };
  const no = (why: string) => ({ supported: false, reason: why, fix: FIX });
  switch (method) {
    case "fp8": {
      const fmt = (q.fmt ?? "e4m3") as string;
      const block = (q.weight_block_size ?? null) as [number, number] | null;
      if (fmt !== "e4m3" && fmt !== "e5m2")
        throw invalidAt(ctx, childPath(path, "fmt"), `expected "e4m3" or "e5m2", got "${fmt}"`);
      const scheme = (q.activation_scheme ?? "dynamic") as string;
      if (scheme !== "dynamic" && scheme !== "static")
        throw invalidAt(
          ctx,
          childPath(path, "activation_scheme"),
          `expected "dynamic" or "static", got "${scheme}"`,
        );
      if (!Object.hasOwn(q, "weight_block_size"))
        ledger.defaults.set(childPath(path, "weight_block_size"), [128, 128]);
      const ok = fmt === "e4m3" && block !== null;
      const mods = [...skip("modules_to_not_convert"), ...skip("ignored_layers")];
      return {
        ...base,
        modules_to_not_convert: mods,
        method: "fp8",
        fmt,
        weight_block_size: block ?? [128, 128],
        activation_scheme: scheme,
        ...(ok
          ? { supported: true }
          : no(
              fmt !== "e4m3"
                ? "FP8 E5M2 weights are not supported (only block-scaled E4M3, as DeepSeek-V3)"
                : "per-tensor FP8 (weight_block_size null) is not supported (only 2-D block scales)",
            )),
      };
    }
    case "mxfp4":
      return { ...base, method: "mxfp4", supported: true };
    case "gptq":
      return {
        ...base,
        method: "gptq",
        bits: (q.bits ?? 4) as number,
        group_size: (q.group_size ?? 128) as number,
        desc_act: (q.desc_act ?? false) as boolean,
        sym: (q.sym ?? true) as boolean,
        ...no("GPTQ checkpoints are not supported"),
      };
    case "awq":
      return {
        ...base,
        method: "awq",
        bits: (q.bits ?? q.w_bit ?? 4) as number,
        group_size: (q.group_size ?? q.q_group_size ?? 128) as number,
        zero_point: (q.zero_point ?? true) as boolean,
        version: (q.version ?? "gemm") as string,
        ...no("AWQ checkpoints are not supported"),
      };
    case "modelopt": {
      const producer = q.producer as { name?: unknown } | undefined;
      const algo = (q.quant_algo ?? "unknown") as string;
      return {
        ...base,
        modules_to_not_convert: [...skip("ignore"), ...skip("exclude_modules")],
        method: "modelopt",
        quant_algo: algo,
        producer: typeof producer?.name === "string" ? producer.name : null,
        ...no(`NVIDIA ModelOpt ${algo} checkpoints are not supported`),
      };
    }
    case "bitsandbytes": {
      const bits = q.load_in_8bit === true || q._load_in_8bit === true ? 8 : 4;
      return {
        ...base,
        modules_to_not_convert: skip("llm_int8_skip_modules"),
        method: "bitsandbytes",
        bits,
        bnb_4bit_quant_type: typeof q.bnb_4bit_quant_type === "string" ? q.bnb_4bit_quant_type : null,
        ...no(`bitsandbytes ${bits}-bit checkpoints are not supported`),
      };
    }
    case "compressed-tensors":
      return {
        ...base,
        modules_to_not_convert: skip("ignore"),
        method: "compressed-tensors",
        format: typeof q.format === "string" ? q.format : null,
        ...no("compressed-tensors checkpoints are not supported"),
      };
    default:
      return {
        ...base,
        method: "unknown",
        quant_method: qm,
        ...no(`quantization method "${qm}" is not known to pccxc`),
      };
  }
}

/** For stages that read weights: throws config/unsupported-quantization (exit 3) when needed. */
export function requireSupportedQuantization(cfg: ParsedConfig): void {
  const q = cfg.quantization;
  if (!q || q.supported) return;
  throw unsupported(
    CONFIG_ERROR_CODES.unsupportedQuantization,
    `${cfg.file} at ${q.path}: ${q.reason ?? "unsupported quantization"}; pccxc supports block-scaled FP8 (e4m3) and MXFP4 checkpoints`,
    { at: { file: cfg.file, jsonPath: q.path }, fix: q.fix ?? FIX },
  );
}
