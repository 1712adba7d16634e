/**
 * Phi-3 / Phi-4 (model_type phi3): Llama's structure with fused tensors. `self_attn.qkv_proj`
 * stores [q | k | v] along its output rows and `mlp.gate_up_proj` stores [gate | up] (Phi3MLP:
 * `gate, up = gate_up.chunk(2)`, then `up * act(gate)`); both are split with row views, never
 * copied. RoPE may be partial (`partial_rotary_factor`) and LongRoPE ("su"/"longrope", short and
 * long factors); sliding windows come from layer_types. transformers `models/phi3/modeling_phi3.py`.
 */
import type { ArchitecturePlugin } from "../plugin.js";
import { buildLlamaLikeModel } from "./common/index.js";
import { LLAMA_LIKE_READS } from "./llama.js";

export const phi3Plugin: ArchitecturePlugin = {
  id: "phi3",
  families: ["phi3"],
  summary: "Phi-3/Phi-4: fused qkv_proj and gate_up_proj as row views, LongRoPE, partial rotary",
  reads: LLAMA_LIKE_READS,
  build(cfg, b) {
    buildLlamaLikeModel(cfg, b, {
      attention: () => ({ qkv: { kind: "fused", qkv: "qkv_proj" } }),
      mlpOptions: () => ({ gateUp: "gate_up_proj" }),
    });
  },
};
