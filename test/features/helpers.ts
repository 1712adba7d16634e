/** Shared helpers of the feature tests: configs → parsed → graph → ledger, with the built-in targets. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type FeatureResult, runFeatures } from "../../src/features/index.js";
import { type ParsedConfig, parseConfigObject, parseConfigText } from "../../src/parser/config/index.js";
import { type ModelGraph, resolve } from "../../src/resolver/index.js";
import { loadTarget, type Target } from "../../src/target/index.js";
import {
  EXAMPLE_CONFIGS as EXAMPLES,
  REPO_ROOT as ROOT,
  SHARED_CONFIGS as SHARED,
} from "../helpers/paths.js";

export { EXAMPLES, ROOT, SHARED };

export const BASE: Target = loadTarget("kv260-v002");
export const EXT: Target = loadTarget("kv260-v002-ext");

/** `<org>__<model>` folders holding a config.json. */
export function configDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => existsSync(join(dir, d, "config.json")))
    .sort();
}

const examples = new Map<string, ParsedConfig>();

/** A shipped example config, parsed once per test file (treat it as read-only). */
export function example(name: string): ParsedConfig {
  const file = join(EXAMPLES, name, "config.json");
  const hit = examples.get(file) ?? parseConfigText(readFileSync(file, "utf8"), file);
  examples.set(file, hit);
  return hit;
}

/** The raw JSON of an example config, to edit. */
// biome-ignore lint/suspicious/noExplicitAny: tests edit arbitrary config JSON
export function exampleJson(name: string): Record<string, any> {
  return JSON.parse(readFileSync(join(EXAMPLES, name, "config.json"), "utf8"));
}

export function parsedFrom(raw: unknown, file = "config.json"): ParsedConfig {
  return parseConfigObject(raw, file);
}

export function featuresOf(
  parsed: ParsedConfig,
  target: Target = BASE,
): FeatureResult & { input: ModelGraph } {
  const { graph } = resolve(parsed);
  return { ...runFeatures(graph, parsed, target), input: graph };
}

export { rejected as catchPccxAsync, thrown as catchPccx } from "../helpers/errors.js";
