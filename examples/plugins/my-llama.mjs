/**
 * Example architecture plugin that adds a model type pccxc does not know: `my_llama`, a Llama-style
 * decoder whose config.json spells two keys its own way (`norm_epsilon` for `rms_norm_eps`,
 * `rotary_base` for `rope_theta`), requires `rotary_base` (Llama defaults it), and only uses SiLU.
 * Plain JavaScript, no imports of pccxc (loads under any Node); the graph is built by the Llama
 * builder of llama-arch.mjs next to it. docs/plugins.md, "A new model type", walks through it.
 *
 *   pccxc plan examples/plugins/my-llama/config.json --plugin examples/plugins/my-llama.mjs
 *
 * `modelTypes` tells the config parser how to read the new model_type: like its `base` (that
 * family's keys, transformers class defaults and normalisation), with `keys` renamed, after the
 * `schema` (anything with zod's `safeParse`) and before the `check` (on the normalised TextConfig).
 * The parsed config's family is the model_type itself, so this plugin lists it in `families`.
 */
import { exampleLlama } from "./llama-arch.mjs";

/** A hand-written schema with zod's `safeParse` result shape (a zod schema works the same way). */
const schema = {
  safeParse(raw) {
    const issues = [];
    const base = raw.rotary_base;
    if (base === undefined)
      issues.push({ path: ["rotary_base"], message: "a my_llama config must give rotary_base" });
    else if (typeof base !== "number" || !(base > 0))
      issues.push({ path: ["rotary_base"], message: "expected a positive number" });
    return issues.length === 0 ? { success: true } : { success: false, error: { issues } };
  },
};

/** @type {import("../../src/plugins/index.js").ArchitecturePlugin} */
export const myLlama = {
  id: "my-llama",
  families: ["my_llama"],
  summary: "my_llama: a Llama decoder whose config spells norm_epsilon and rotary_base (example)",
  reads: exampleLlama.reads,
  modelTypes: [
    {
      modelType: "my_llama",
      base: "llama",
      keys: { norm_epsilon: "rms_norm_eps", rotary_base: "rope_theta" },
      schema,
      check(cfg) {
        if (cfg.hidden_act === "silu") return [];
        return [
          {
            path: "$.hidden_act",
            message: `my_llama uses SiLU, got "${cfg.hidden_act_name}"`,
            fix: 'set "hidden_act": "silu"',
          },
        ];
      },
    },
  ],
  build: (cfg, b) => exampleLlama.build(cfg, b),
};

export default { architectures: [myLlama] };
