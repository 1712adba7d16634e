/**
 * Semantic checks on the normalised config: what zod's per-key types cannot see. Each failure
 * points at the key that must change.
 */
import type { ErrCtx } from "./errors.js";
import { invalidAt } from "./errors.js";
import { childPath } from "./json-text.js";
import type { Ledger } from "./keys.js";
import type { TextConfig } from "./types.js";

export function checkText(t: TextConfig, ctx: ErrCtx, ledger: Ledger, base: string): void {
  const where = (field: string, key: string) => ledger.sources.get(field)?.[0] ?? childPath(base, key);
  const heads = t.num_attention_heads;
  t.layer_num_key_value_heads.forEach((kv, i) => {
    if (heads % kv !== 0) {
      const key =
        kv === t.num_key_value_heads
          ? where("num_key_value_heads", "num_key_value_heads")
          : childPath(base, "num_global_key_value_heads");
      throw invalidAt(
        ctx,
        key,
        `num_attention_heads (${heads}) must be a multiple of the KV heads (${kv}) of layer ${i}`,
        "grouped-query attention maps each KV head to num_attention_heads / num_key_value_heads query heads",
      );
    }
  });
  if (t.layer_types.length !== t.num_hidden_layers)
    throw invalidAt(
      ctx,
      where("layer_types", "layer_types"),
      `expected ${t.num_hidden_layers} layer types, got ${t.layer_types.length}`,
    );
  const slidingAt = t.layer_types.indexOf("sliding_attention");
  if (slidingAt >= 0 && t.sliding_window === null) {
    throw invalidAt(
      ctx,
      where("sliding_window", "sliding_window"),
      `layer ${slidingAt} is sliding_attention but no sliding_window is set`,
      "set sliding_window, or make every layer full_attention",
    );
  }
  if (t.moe && t.moe.num_experts_per_tok > t.moe.num_experts)
    throw invalidAt(
      ctx,
      where("moe", "num_experts_per_tok"),
      `experts per token (${t.moe.num_experts_per_tok}) exceed the number of experts (${t.moe.num_experts})`,
    );
  if (t.family === "gemma3n" && t.gemma3n) {
    // Gemma3n's per-layer embedding table is [vocab_size_per_layer_input, layers × hidden_size_per_layer_input].
    if (t.gemma3n.vocab_size_per_layer_input > t.vocab_size)
      throw invalidAt(
        ctx,
        childPath(base, "vocab_size_per_layer_input"),
        `must not exceed vocab_size (${t.vocab_size})`,
      );
  }
}
