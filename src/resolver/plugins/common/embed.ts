/**
 * The ends of a decoder: token embedding (optionally scaled, Gemma), learned position embedding
 * (GPT-2 `wpe`), and the head: final norm, LM head tied to the embedding or stored separately,
 * optional final logit softcap. The head's output value is always named `logits`.
 */
import type { ValueId, WeightId } from "../../graph/index.js";
import { type BlockCtx, declare } from "./context.js";
import { type NormSpec, norm } from "./norm.js";

export interface EmbeddingSpec {
  /** Full tensor name (default `model.embed_tokens.weight`). */
  readonly name?: string;
  /** Multiplies the looked-up rows (Gemma: √hidden rounded to the weight dtype). */
  readonly scale?: number;
}

/** Declares the `[vocab, hidden]` table and looks up the tokens. */
export function tokenEmbedding(ctx: BlockCtx, spec: EmbeddingSpec = {}): { x: ValueId; table: WeightId } {
  const { b, cfg } = ctx;
  const table = declare(
    ctx,
    spec.name ?? "model.embed_tokens.weight",
    [cfg.vocab_size, cfg.hidden_size],
    "embedding",
    {
      keys: ["vocab_size", "hidden_size"],
    },
  );
  const x = b.embedding(b.tokens, table, spec.scale, { name: "embed", keys: ["vocab_size", "hidden_size"] });
  return { x, table };
}

/** Adds the learned `[max_position_embeddings, hidden]` position table (GPT-2 `wpe.weight`). */
export function positionEmbedding(ctx: BlockCtx, x: ValueId, name: string): ValueId {
  const { b, cfg } = ctx;
  const table = declare(ctx, name, [cfg.max_position_embeddings, cfg.hidden_size], "position_embedding", {
    keys: ["max_position_embeddings", "hidden_size"],
  });
  return b.emit(
    "position_embedding",
    { input: x, table },
    { name: "embed_pos", keys: ["position_embedding"] },
  )[0]!;
}

export interface HeadSpec {
  readonly input: ValueId;
  /** The final norm (omit for none). */
  readonly norm?: NormSpec;
  /** The embedding table, for a tied head. */
  readonly embedding: WeightId;
  /** Default: the config's tie_word_embeddings. */
  readonly tied?: boolean;
  /** Full tensor name of an untied head (default `lm_head.weight`). */
  readonly name?: string;
  /** Default: the config's final_logit_softcapping. */
  readonly softcap?: number | null;
}

/** Final norm, LM head and optional softcap; returns the `logits` value. */
export function lmHead(ctx: BlockCtx, spec: HeadSpec): ValueId {
  const { b, cfg } = ctx;
  const h = spec.norm ? norm(ctx, spec.input, spec.norm) : spec.input;
  const tied = spec.tied ?? cfg.tie_word_embeddings;
  const head = tied
    ? b.tie(spec.embedding, "lm_head", ["tie_word_embeddings"])
    : declare(ctx, spec.name ?? "lm_head.weight", [cfg.vocab_size, cfg.hidden_size], "lm_head", {
        keys: ["vocab_size", "hidden_size", "tie_word_embeddings"],
      });
  const cap = spec.softcap !== undefined ? spec.softcap : cfg.final_logit_softcapping;
  const keys = ["vocab_size", "tie_word_embeddings"];
  if (!cap) return b.linear(h, head, undefined, { name: "logits", keys });
  const raw = b.linear(h, head, undefined, { name: "logits_raw", keys });
  return b.softcap(raw, cap, { name: "logits", keys: ["final_logit_softcapping"] });
}
