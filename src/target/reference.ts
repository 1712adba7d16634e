/**
 * The target file reference (docs/targets.md, between the generated-section markers), rendered
 * from the JSON Schema so that the documentation cannot lag behind the schema. Regenerate with
 * `npx tsx src/target/regen.ts`; a test fails when the committed copy differs.
 */
import { DERIVED_FORMULAS } from "./derive-formulas.js";
import { isPlainObject } from "./json-path.js";
import { DEFAULT_SOURCE_KEY } from "./schema-common.js";
import { type JsonSchemaNode, targetSchemaRoot } from "./schema-walk.js";

export const REFERENCE_BEGIN =
  "<!-- BEGIN GENERATED: target field reference (npx tsx src/target/regen.ts) -->";
export const REFERENCE_END = "<!-- END GENERATED: target field reference -->";

const BIG = Number.MAX_SAFE_INTEGER;
const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");

function numberType(n: JsonSchemaNode, base: string): string {
  const num = (k: string) =>
    typeof n[k] === "number" && Math.abs(n[k] as number) < BIG ? (n[k] as number) : undefined;
  const lo = num("minimum");
  const xlo = num("exclusiveMinimum");
  const hi = num("maximum");
  if (xlo !== undefined && hi !== undefined) return `${base} in (${xlo}, ${hi}]`;
  if (lo !== undefined && hi !== undefined) return `${base} ${lo}..${hi}`;
  if (xlo !== undefined) return `${base} > ${xlo}`;
  if (lo !== undefined) return `${base} >= ${lo}`;
  return base;
}

function typeOf(n: JsonSchemaNode): string {
  if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``;
  if (Array.isArray(n.enum)) return n.enum.map((v) => `\`${JSON.stringify(v)}\``).join(" or ");
  switch (n.type) {
    case "integer":
      return numberType(n, "integer");
    case "number":
      return numberType(n, "number");
    case "boolean":
      return "boolean";
    case "string":
      return typeof n.pattern === "string" && n.pattern.startsWith("^0x") ? "hex string" : "string";
    case "array":
      return `array of ${isPlainObject(n.items) ? typeOf(n.items) : "values"}`;
    case "object":
      return isPlainObject(n.additionalProperties) ? "object of strings" : "object";
    default:
      return "value";
  }
}

function rows(node: JsonSchemaNode, path: string, required: boolean, out: string[]): void {
  const props = isPlainObject(node.properties)
    ? (node.properties as Record<string, JsonSchemaNode>)
    : undefined;
  if (node.type === "object" && props) {
    const req = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
    for (const [k, child] of Object.entries(props)) rows(child, path ? `${path}.${k}` : k, req.has(k), out);
    return;
  }
  if (node.type === "array" && isPlainObject(node.items) && node.items.type === "object") {
    out.push(row(path, node, required));
    rows(node.items, `${path}[]`, true, out);
    return;
  }
  out.push(row(path, node, required));
}

function row(path: string, n: JsonSchemaNode, required: boolean): string {
  const desc = typeof n.description === "string" ? n.description : "";
  const src = typeof n[DEFAULT_SOURCE_KEY] === "string" ? ` (${n[DEFAULT_SOURCE_KEY]})` : "";
  const dflt =
    n.default !== undefined ? `\`${JSON.stringify(n.default)}\`${src}` : required ? "required" : "optional";
  return `| \`${path}\` | ${cell(typeOf(n))} | ${cell(desc)} | ${cell(dflt)} |`;
}

/** Markdown tables of every field: path, type, meaning, default (with its source) or required. */
export function renderFieldReference(root: JsonSchemaNode = targetSchemaRoot()): string {
  const props = (root.properties ?? {}) as Record<string, JsonSchemaNode>;
  const req = new Set(Array.isArray(root.required) ? (root.required as string[]) : []);
  const header = ["| field | type | meaning | default (source) or required |", "|---|---|---|---|"];
  const top: string[] = [];
  const sections: string[] = [];
  for (const [k, n] of Object.entries(props)) {
    const isGroup = (n.type === "object" && isPlainObject(n.properties)) || k === "ports";
    if (!isGroup) {
      rows(n, k, req.has(k), top);
      continue;
    }
    const lines: string[] = [];
    rows(n, k, req.has(k), lines);
    const title = typeof n.description === "string" ? ` — ${n.description}` : "";
    sections.push(`### \`${k}\`${title}\n\n${[...header, ...lines].join("\n")}\n`);
  }
  const derived = [
    "### Derived values (`target.derived`)\n",
    "`*` stands for a port, an engine (gemm, gemv) or a CVO function name.\n",
    "| value | formula |",
    "|---|---|",
    ...Object.entries(DERIVED_FORMULAS).map(([k, f]) => `| \`${k}\` | ${cell(f)} |`),
  ].join("\n");
  return [`### Top level\n\n${[...header, ...top].join("\n")}\n`, ...sections, `${derived}\n`].join("\n");
}

/** `doc` with the text between the markers replaced by `body`. */
export function spliceReference(doc: string, body: string): string {
  const b = doc.indexOf(REFERENCE_BEGIN);
  const e = doc.indexOf(REFERENCE_END);
  if (b < 0 || e < b)
    throw new Error(`docs/targets.md lacks the markers ${REFERENCE_BEGIN} ... ${REFERENCE_END}`);
  return `${doc.slice(0, b + REFERENCE_BEGIN.length)}\n\n${body}\n${doc.slice(e)}`;
}
