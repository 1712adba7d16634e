/**
 * generation_config.json → GenerationConfig: token ids and sampling defaults, with the
 * transformers GenerationConfig defaults for absent keys.
 */
import { z } from "zod";
import { invalidAt, zodIssueError } from "./errors.js";
import { F } from "./fields.js";
import { childPath } from "./json-text.js";
import { readJsonText } from "./parse.js";
import type { GenerationConfig } from "./types.js";

const SHAPE = {
  bos_token_id: F.tokenIds(),
  eos_token_id: F.tokenIds(),
  pad_token_id: F.tokenIds(),
  do_sample: F.bool(),
  temperature: F.num(),
  top_p: F.num(),
  top_k: F.nonNegInt(),
  min_p: F.numOrNull(),
  repetition_penalty: F.posNum(),
  max_length: F.posInt(),
  max_new_tokens: F.posIntOrNull(),
};

/** transformers GenerationConfig defaults. */
const DEFAULTS = {
  do_sample: false,
  temperature: 1.0,
  top_p: 1.0,
  top_k: 50,
  min_p: null,
  repetition_penalty: 1.0,
  max_length: 20,
  max_new_tokens: null,
};

/** Keys GenerationConfig knows that pccxc does not use; not reported as unknown. */
const OTHER_KNOWN = new Set([
  "transformers_version",
  "_from_model_config",
  "cache_implementation",
  "num_beams",
  "use_cache",
  "typical_p",
  "length_penalty",
  "no_repeat_ngram_size",
  "num_return_sequences",
  "early_stopping",
  "min_length",
  "min_new_tokens",
  "forced_bos_token_id",
  "forced_eos_token_id",
  "suppress_tokens",
  "begin_suppress_tokens",
  "decoder_start_token_id",
  "output_scores",
  "return_dict_in_generate",
  "epsilon_cutoff",
  "eta_cutoff",
  "diversity_penalty",
  "num_beam_groups",
  "bad_words_ids",
  "renormalize_logits",
]);

export function parseGenerationConfigText(text: string, file: string): GenerationConfig {
  const raw = readJsonText(text, file);
  const ctx = { file, text };
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw invalidAt(ctx, "$", "expected a JSON object at the top level");
  const o = raw as Record<string, unknown>;
  const res = z.looseObject(SHAPE).safeParse(o);
  if (!res.success) throw zodIssueError(ctx, "$", o, res.error.issues);
  const defaultsApplied: Record<string, unknown> = {};
  const get = <T>(k: keyof typeof DEFAULTS): T => {
    if (Object.hasOwn(o, k)) return o[k] as T;
    defaultsApplied[childPath("$", k)] = DEFAULTS[k];
    return DEFAULTS[k] as T;
  };
  const id = (k: string): number | null =>
    typeof o[k] === "number" && Object.hasOwn(o, k) ? (o[k] as number) : null;
  const eos = Object.hasOwn(o, "eos_token_id") ? o.eos_token_id : null;
  const temperature = get<number>("temperature");
  const top_p = get<number>("top_p");
  if (!(temperature >= 0))
    throw invalidAt(ctx, "$.temperature", `expected a number >= 0, got ${temperature}`);
  if (!(top_p > 0 && top_p <= 1))
    throw invalidAt(ctx, "$.top_p", `expected a number in (0, 1], got ${top_p}`);
  return {
    file,
    bos_token_id: id("bos_token_id"),
    eos_token_id: typeof eos === "number" ? [eos] : Array.isArray(eos) ? (eos as number[]) : [],
    pad_token_id: id("pad_token_id"),
    do_sample: get<boolean>("do_sample"),
    temperature,
    top_p,
    top_k: get<number>("top_k"),
    min_p: get<number | null>("min_p"),
    repetition_penalty: get<number>("repetition_penalty"),
    max_length: get<number>("max_length"),
    max_new_tokens: get<number | null>("max_new_tokens"),
    raw: o,
    unknownKeys: Object.keys(o)
      .filter((k) => !Object.hasOwn(SHAPE, k) && !OTHER_KNOWN.has(k))
      .map((k) => childPath("$", k))
      .sort(),
    defaultsApplied,
  };
}
