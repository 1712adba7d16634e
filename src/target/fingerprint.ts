/**
 * The target fingerprint: sha256 of the canonical JSON of the validated file's hardware content,
 * shown as `<name>@<first 16 hex>`. Every artifact records it.
 *
 * Hardware content = the validated file (defaults filled in, hex parsed, overrides applied) minus
 * what only documents: the top-level $schema, name, description, extends, notes and sources, and
 * the `meaning` text of CVO functions. So correcting a citation or rewording a note keeps
 * artifacts comparable, a file written flat or with `extends` gives the same hash when it
 * describes the same machine, and key order, formatting, "0xA000_0000" vs "0xa0000000" and an
 * explicit default never matter. Any change to a number, enum or flag changes it.
 */

import { sha256Hex } from "../util/hash.js";
import { canonicalJson } from "../util/json.js";
import { isPlainObject } from "./json-path.js";
import { DOC_ONLY_KEYS, DOC_ONLY_TOP_KEYS, type TargetFile } from "./schema.js";

const DOC_TOP = new Set<string>(DOC_ONLY_TOP_KEYS);
const DOC_ANY = new Set<string>(DOC_ONLY_KEYS);

function stripDocs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDocs);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!DOC_ANY.has(k)) out[k] = stripDocs(x);
    return out;
  }
  return v;
}

/** The part of a target file the fingerprint covers. */
export function hardwareContent(file: TargetFile): unknown {
  const top: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(file)) if (!DOC_TOP.has(k)) top[k] = v;
  return stripDocs(top);
}

/** Full sha256 hex of the hardware content. */
export function targetHash(file: TargetFile): string {
  return sha256Hex(canonicalJson(hardwareContent(file)));
}

export const FINGERPRINT_HEX_DIGITS = 16;

/** `<name>@<16 hex>`: the string artifacts carry. */
export function formatFingerprint(name: string, hash: string): string {
  return `${name}@${hash.slice(0, FINGERPRINT_HEX_DIGITS)}`;
}
