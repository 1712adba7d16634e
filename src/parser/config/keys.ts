/**
 * Reading keys with bookkeeping: every key read is recorded as consumed, every transformers class
 * default filled in is recorded with its JSON path, and every TextConfig field remembers which
 * JSON paths it came from. Also the documented list of non-semantic keys.
 */
import { childPath } from "./json-text.js";

/**
 * Keys that do not change the computed function of the language model: ids, dtypes, versions,
 * tooling, dropout and other training-only settings, and generation defaults some old configs
 * carry. They are reported as non-semantic, never as unknown. (docs/parser-config.md)
 */
export const NON_SEMANTIC_KEYS: ReadonlySet<string> = new Set([
  // provenance and tooling
  "_name_or_path",
  "architectures",
  "auto_map",
  "transformers_version",
  "transformers.js_config",
  "tokenizer_class",
  "prefix",
  "model_type_hint",
  // storage dtype (the weights' actual dtypes come from the safetensors headers)
  "torch_dtype",
  "dtype",
  // runtime switches of the Python implementation
  "use_cache",
  "cache_implementation",
  "output_attentions",
  "output_hidden_states",
  "return_dict",
  "use_return_dict",
  "torchscript",
  "chunk_size_feed_forward",
  "pruned_heads",
  "is_encoder_decoder",
  "is_decoder",
  "add_cross_attention",
  "tie_encoder_decoder",
  "cross_attention_hidden_size",
  "gradient_checkpointing",
  "pretraining_tp",
  "reorder_and_upcast_attn",
  "ep_size",
  // token ids (exposed as ParsedConfig.specialTokens)
  "bos_token_id",
  "eos_token_id",
  "pad_token_id",
  "sep_token_id",
  "decoder_start_token_id",
  // classification heads and fine-tuning
  "id2label",
  "label2id",
  "num_labels",
  "problem_type",
  "finetuning_task",
  "task_specific_params",
  "summary_type",
  "summary_use_proj",
  "summary_activation",
  "summary_proj_to_labels",
  "summary_first_dropout",
  // training only
  "initializer_range",
  "attention_dropout",
  "hidden_dropout",
  "dropout",
  "resid_pdrop",
  "embd_pdrop",
  "attn_pdrop",
  "router_aux_loss_coef",
  "router_jitter_noise",
  "output_router_logits",
  "aux_loss_alpha",
  "seq_aux",
  "altup_lr_multiplier",
  // generation defaults stored in old configs (generation_config.json is the source)
  "max_length",
  "min_length",
  "do_sample",
  "early_stopping",
  "num_beams",
  "num_beam_groups",
  "diversity_penalty",
  "temperature",
  "top_k",
  "top_p",
  "typical_p",
  "repetition_penalty",
  "length_penalty",
  "no_repeat_ngram_size",
  "encoder_no_repeat_ngram_size",
  "bad_words_ids",
  "num_return_sequences",
  "output_scores",
  "return_dict_in_generate",
  "forced_bos_token_id",
  "forced_eos_token_id",
  "remove_invalid_values",
  "exponential_decay_length_penalty",
  "suppress_tokens",
  "begin_suppress_tokens",
]);

export class Ledger {
  readonly consumed = new Set<string>();
  readonly defaults = new Map<string, unknown>();
  readonly sources = new Map<string, string[]>();
  /** Unknown keys found inside nested dicts (rope dicts, quantization_config). */
  readonly unknown = new Set<string>();

  source(field: string, path: string): void {
    const list = this.sources.get(field) ?? [];
    if (!list.includes(path)) list.push(path);
    this.sources.set(field, list);
  }
}

/** Reads one JSON object (a config or a sub-config) against one class's defaults. */
export class KeyReader {
  constructor(
    readonly obj: Readonly<Record<string, unknown>>,
    readonly base: string,
    readonly defaults: Readonly<Record<string, unknown>>,
    readonly ledger: Ledger,
  ) {}

  path(key: string): string {
    return childPath(this.base, key);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.obj, key);
  }

  /** The value written in the file (consumed), or undefined when absent. */
  take<T>(key: string, field?: string): T | undefined {
    if (!this.has(key)) return undefined;
    const p = this.path(key);
    this.ledger.consumed.add(p);
    if (field) this.ledger.source(field, p);
    return this.obj[key] as T;
  }

  /** The file's value, else the class default (recorded), else undefined. */
  get<T>(key: string, field?: string): T | undefined {
    if (this.has(key)) return this.take<T>(key, field);
    if (Object.hasOwn(this.defaults, key)) {
      const v = this.defaults[key];
      this.ledger.defaults.set(this.path(key), v);
      return v as T;
    }
    return undefined;
  }

  /** Like get, for keys every class table defines (a missing default is a bug in the table). */
  req<T>(key: string, field?: string): T {
    const v = this.get<T>(key, field);
    if (v === undefined) throw new Error(`internal: no value or class default for ${this.path(key)}`);
    return v;
  }

  /** Marks a key as consumed without using it (read only to be cross-checked). */
  touch(key: string): void {
    if (this.has(key)) this.ledger.consumed.add(this.path(key));
  }
}

/** True when a JSON path goes through a non-semantic key or an out-of-scope tower config. */
export function isNonSemanticPath(path: string): boolean {
  if (/^\$\.(vision_config|audio_config)\b/.test(path)) return true;
  const keys = [...path.matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\]/g)].map((m) =>
    m[1] !== undefined ? m[1] : (JSON.parse(`"${m[2]}"`) as string),
  );
  return keys.some((k) => NON_SEMANTIC_KEYS.has(k));
}
