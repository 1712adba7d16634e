/**
 * Checkpoint checks run before any byte of the image is written: every tensor the graph reads is
 * in the checkpoint (one error listing all missing ones), has the shape the config implies (one
 * error per mismatch, expected vs found), and a dtype pccxc can read; checkpoint tensors the graph
 * does not use are reported as one warning listing them.
 */
import { type Diagnostic, ExitCode, PccxError } from "../../diag/index.js";
import type { ModelGraph } from "../../resolver/graph/index.js";
import type { TensorPolicy } from "../types.js";
import {
  checkDecodable,
  checkFp8Scale,
  findSource,
  sourceLabel,
  sourceNames,
  storedGeometry,
  type WeightSource,
} from "./source.js";

interface Needed {
  readonly name: string;
  readonly shape: readonly number[];
  readonly transposed: boolean;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** The stored shape an MXFP4 pair must reproduce: the logical [..., out, in] of the declaration. */
function logicalShape(n: Needed): number[] {
  if (!n.transposed || n.shape.length < 2) return [...n.shape];
  const s = [...n.shape];
  const l = s.length;
  [s[l - 2], s[l - 1]] = [s[l - 1]!, s[l - 2]!];
  return s;
}

const list = (xs: readonly string[], max = 20) =>
  xs.length > max ? `${xs.slice(0, max).join(", ")}, … (${xs.length - max} more)` : xs.join(", ");

function check(needed: readonly Needed[], src: WeightSource): Diagnostic[] {
  const out: Diagnostic[] = [];
  const missing: string[] = [];
  const read = new Set<string>();
  const seen = new Set<string>();
  for (const n of needed) {
    if (seen.has(n.name)) continue;
    seen.add(n.name);
    const s = findSource(src, n.name);
    if (!s) {
      missing.push(n.name);
      continue;
    }
    for (const x of sourceNames(s)) read.add(x);
    let found: readonly number[];
    try {
      checkDecodable(n.name, s);
      if (s.kind === "fp8") checkFp8Scale(s);
      found = storedGeometry(s).shape;
    } catch (e) {
      if (!(e instanceof PccxError)) throw e;
      out.push(e.toDiagnostic());
      continue;
    }
    const expected = s.kind === "mxfp4" ? logicalShape(n) : n.shape;
    if (!sameShape(expected, found)) {
      const file = s.kind === "mxfp4" ? s.blocks.file : s.entry.file;
      out.push({
        code: "layout/shape-mismatch",
        severity: "error",
        message:
          `tensor ${n.name}: the config implies [${expected.join(", ")}] but the checkpoint has ` +
          `[${found.join(", ")}] (${sourceLabel(s)})`,
        at: { file },
        fix: "the config.json and the weights do not belong together: download both from the same revision",
      });
    }
  }
  if (missing.length) {
    out.unshift({
      code: "layout/missing-tensor",
      severity: "error",
      message: `${missing.length} tensor(s) the model needs are not in the checkpoint: ${list(missing)}`,
      fix: "check that the weight files are complete and match the config (`pccxc inspect <model> --all-tensors`)",
    });
  }
  const unused = src
    .names()
    .filter((x) => !read.has(x))
    .sort();
  if (unused.length) {
    out.push({
      code: "layout/unused-tensor",
      severity: "warning",
      message: `${unused.length} checkpoint tensor(s) are not used by the model and not in the image: ${list(unused)}`,
    });
  }
  return out;
}

/** Checks the checkpoint against every weight the graph reads. */
export function validateCheckpoint(graph: ModelGraph, src: WeightSource): Diagnostic[] {
  const needed = graph.weights
    .filter((w) => w.unused === undefined && w.tiedTo === undefined)
    .map((w) => ({ name: w.name, shape: w.shape, transposed: w.transposed ?? false }));
  return check(needed, src);
}

/** The same checks for the tensors of a layout plan (what the image writer reads). */
export function validatePlanSources(tensors: readonly TensorPolicy[], src: WeightSource): Diagnostic[] {
  return check(
    tensors
      .filter((p) => p.shape !== undefined)
      .map((p) => ({ name: p.tensor, shape: p.shape!, transposed: p.transposed ?? false })),
    src,
  );
}

/** Checkpoint problems are invalid input (exit 2), except a dtype pccxc cannot read (exit 3). */
const EXIT: Readonly<Record<string, ExitCode>> = { "layout/source-dtype": ExitCode.UNSUPPORTED };

/** Throws the first error with the others as notes; returns the warnings. */
export function throwOnCheckpointErrors(diags: readonly Diagnostic[]): Diagnostic[] {
  const errors = diags.filter((d) => d.severity === "error");
  if (errors.length) {
    const [first, ...rest] = errors;
    throw new PccxError(first!.code, EXIT[first!.code] ?? ExitCode.INVALID_INPUT, first!.message, {
      ...(first!.at ? { at: first!.at } : {}),
      notes: [...(first!.notes ?? []), ...rest.map((d) => `${d.code}: ${d.message}`)],
      ...(first!.fix ? { fix: first!.fix } : {}),
    });
  }
  return diags.filter((d) => d.severity !== "error");
}
