/**
 * Which model_type is read how: a text family (its DecoderSpec, or GPT-2's own normaliser), or a
 * multimodal wrapper whose `text_config` is a text family and whose vision/audio towers are out
 * of scope (only recorded as seen). An explicit table, never a directory scan.
 */
import type { DecoderSpec } from "./decoder.js";
import { gemma2, gemma3_text, gemma3n_text, gemma4_text } from "./families/gemma.js";
import { llama, mistral, mixtral, phi3, qwen2, qwen3, qwen3_moe } from "./families/llama-like.js";
import { deepseek_v2, deepseek_v3, gpt_oss } from "./families/moe-mla.js";

export const TEXT_SPECS: ReadonlyMap<string, DecoderSpec> = new Map(
  [
    llama,
    mistral,
    mixtral,
    qwen2,
    qwen3,
    qwen3_moe,
    phi3,
    gemma2,
    gemma3_text,
    gemma3n_text,
    gemma4_text,
    deepseek_v2,
    deepseek_v3,
    gpt_oss,
  ].map((s) => [s.modelType, s] as const),
);

export interface WrapperSpec {
  readonly modelType: string;
  readonly className: string;
  /** model_type of its text_config. */
  readonly textModelType: string;
  /** Sub-configs of towers pccxc does not compile. */
  readonly towers: readonly ("vision_config" | "audio_config")[];
  /** Wrapper keys that only concern the towers (special-token ids, soft-token counts). */
  readonly towerKeys: readonly string[];
}

export const WRAPPERS: ReadonlyMap<string, WrapperSpec> = new Map(
  (
    [
      {
        modelType: "gemma3",
        className: "Gemma3Config",
        textModelType: "gemma3_text",
        towers: ["vision_config"],
        towerKeys: [
          "boi_token_index",
          "eoi_token_index",
          "image_token_index",
          "boi_token_id",
          "eoi_token_id",
          "image_token_id",
          "mm_tokens_per_image",
        ],
      },
      {
        modelType: "gemma3n",
        className: "Gemma3nConfig",
        textModelType: "gemma3n_text",
        towers: ["vision_config", "audio_config"],
        towerKeys: [
          "audio_soft_tokens_per_image",
          "vision_soft_tokens_per_image",
          "audio_token_id",
          "image_token_id",
          "boa_token_id",
          "boi_token_id",
          "eoa_token_id",
          "eoi_token_id",
        ],
      },
      {
        modelType: "gemma4",
        className: "Gemma4Config",
        textModelType: "gemma4_text",
        towers: ["vision_config", "audio_config"],
        towerKeys: [
          "vision_soft_tokens_per_image",
          "audio_token_id",
          "image_token_id",
          "video_token_id",
          "boa_token_id",
          "boi_token_id",
          "eoa_token_id",
          "eoa_token_index",
          "eoi_token_id",
        ],
      },
    ] satisfies WrapperSpec[]
  ).map((w) => [w.modelType, w] as const),
);

/** The tower sub-configs of every wrapper (vision_config, audio_config), in first-seen order. */
export const TOWER_CONFIGS: readonly string[] = [...new Set([...WRAPPERS.values()].flatMap((w) => w.towers))];

/** The tower-only wrapper keys of every wrapper (special-token ids, soft-token counts). */
export const TOWER_KEYS: ReadonlySet<string> = new Set([...WRAPPERS.values()].flatMap((w) => w.towerKeys));

/** Every top-level model_type pccxc reads, sorted. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = [
  ...TEXT_SPECS.keys(),
  ...WRAPPERS.keys(),
  "gpt2",
].sort();
