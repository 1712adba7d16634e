/**
 * Walking the generated JSON Schema by a JSON path: the one place that knows how the schema nests
 * (object properties, array items). Used for default-value sources (provenance), field suggestions
 * in error messages and the field reference in docs/targets.md.
 */
import { isPlainObject, type PathSeg } from "./json-path.js";
import { targetJsonSchema } from "./schema.js";

export type JsonSchemaNode = Record<string, unknown>;

let cached: JsonSchemaNode | undefined;

/** The target JSON Schema, built once per process. */
export function targetSchemaRoot(): JsonSchemaNode {
  cached ??= targetJsonSchema();
  return cached;
}

/** The schema node describing the value at `segs`, or undefined when the schema has none. */
export function schemaNodeAt(
  segs: readonly PathSeg[],
  root = targetSchemaRoot(),
): JsonSchemaNode | undefined {
  let node: JsonSchemaNode | undefined = root;
  for (const seg of segs) {
    if (!node) return undefined;
    if (typeof seg === "number") {
      node = isPlainObject(node.items) ? node.items : undefined;
    } else {
      const props: unknown = node.properties;
      node = isPlainObject(props) && isPlainObject(props[seg]) ? props[seg] : undefined;
    }
  }
  return node;
}

/** Property names the schema allows at an object path. */
export function knownKeysAt(segs: readonly PathSeg[]): string[] {
  const node = schemaNodeAt(segs);
  return node && isPlainObject(node.properties) ? Object.keys(node.properties) : [];
}

/** The closest known key to a misspelt one (edit distance <= 2, or a prefix/suffix match). */
export function suggestKey(wrong: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(wrong.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  if (best) return best;
  return known.find((k) => k.startsWith(wrong) || wrong.startsWith(k));
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}
