/**
 * The committed tiny models (examples/tiny/<family>): which shipped config each is made from.
 * One list feeds the regeneration script, the byte-for-byte test and the README's commands.
 */
export interface TinyExample {
  /** Folder under examples/tiny (the TextConfig family). */
  readonly family: string;
  /** Source config, relative to the repository root. */
  readonly source: string;
  /** Extra `pccxc dev tiny` options (none: the defaults). */
  readonly args?: readonly string[];
}

export const TINY_EXAMPLES: readonly TinyExample[] = [
  { family: "llama", source: "examples/configs/meta-llama__Llama-3.2-1B/config.json" },
  { family: "mistral", source: "examples/configs/mistralai__Mistral-7B-v0.1/config.json" },
  { family: "mixtral", source: "examples/configs/mistralai__Mixtral-8x7B-v0.1/config.json" },
  { family: "qwen2", source: "examples/configs/Qwen__Qwen2.5-7B/config.json" },
  { family: "qwen3", source: "examples/configs/Qwen__Qwen3-0.6B/config.json" },
  { family: "qwen3_moe", source: "examples/configs/Qwen__Qwen3-30B-A3B/config.json" },
  { family: "phi3", source: "examples/configs/microsoft__Phi-3-mini-4k-instruct/config.json" },
  { family: "gemma2", source: "examples/configs/google__gemma-2-2b-it/config.json" },
  { family: "gemma3", source: "examples/configs/google__gemma-3-4b-it/config.json" },
  { family: "gemma3n", source: "examples/configs/google__gemma-3n-E2B-it/config.json" },
  { family: "gemma4", source: "examples/configs/google__gemma-4-E2B-it/config.json" },
  { family: "gpt2", source: "examples/configs/openai-community__gpt2/config.json" },
  { family: "deepseek_v2", source: "examples/configs/deepseek-ai__DeepSeek-V2-Lite/config.json" },
  { family: "deepseek_v3", source: "examples/configs/deepseek-ai__DeepSeek-V3/config.json" },
  { family: "gpt_oss", source: "examples/configs/openai__gpt-oss-20b/config.json" },
];

/** The command that makes an example, as written in examples/tiny/README.md. */
export function tinyCommand(e: TinyExample): string {
  return ["pccxc dev tiny", e.source, "-o", `examples/tiny/${e.family}`, ...(e.args ?? []), "--force"].join(
    " ",
  );
}
