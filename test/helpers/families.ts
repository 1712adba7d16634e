/** The model families pccxc supports, sorted: what the shipped examples and tiny models must cover once each. */
export const SUPPORTED_FAMILIES: readonly string[] = [
  "deepseek_v2",
  "deepseek_v3",
  "gemma2",
  "gemma3",
  "gemma3n",
  "gemma4",
  "gpt2",
  "gpt_oss",
  "llama",
  "mistral",
  "mixtral",
  "phi3",
  "qwen2",
  "qwen3",
  "qwen3_moe",
];
