/**
 * verifyGraph: the checks that run between stages (after a plugin, after each feature rewrite, on a
 * graph read from JSON). Every value is defined once before it is read, every op's shapes and
 * attributes fit its signature, every referenced weight exists with the expected shape, and every
 * declared weight is read by some op unless marked `unused`. Returns diagnostics, never throws.
 */
import type { Diagnostic } from "../../diag/index.js";
import { type CacheShape, cacheWritten } from "./check-util.js";
import { type CheckContext, checkOp, opWeightRefs } from "./signature.js";
import type { ModelGraph, ValueDecl, WeightDecl } from "./types.js";

function diag(code: string, message: string, jsonPath: string, fix?: string): Diagnostic {
  return { code, severity: "error", message, at: { jsonPath }, ...(fix ? { fix } : {}) };
}

function checkWeights(g: ModelGraph, out: Diagnostic[]): Map<string, WeightDecl> {
  const byId = new Map<string, WeightDecl>();
  const byName = new Map<string, WeightDecl>();
  g.weights.forEach((w, i) => {
    const path = `weights[${i}]`;
    if (byId.has(w.id))
      out.push(diag("graph/duplicate-weight", `weight id "${w.id}" is declared twice`, path));
    byId.set(w.id, w);
    if (!w.shape.every((d) => Number.isInteger(d) && d > 0)) {
      out.push(
        diag("graph/weight-shape", `weight "${w.id}" has an invalid shape [${w.shape}]`, `${path}.shape`),
      );
    }
    if (w.tiedTo === undefined) {
      if (byName.has(w.name)) {
        out.push(
          diag(
            "graph/duplicate-weight",
            `tensor "${w.name}" is declared twice without a tie`,
            path,
            "declare the second use with tie()",
          ),
        );
      }
      byName.set(w.name, w);
    }
  });
  g.weights.forEach((w, i) => {
    if (w.tiedTo === undefined) return;
    const t = byId.get(w.tiedTo);
    const ok =
      t !== undefined && t.tiedTo === undefined && t.name === w.name && t.shape.join() === w.shape.join();
    if (!ok) {
      out.push(
        diag(
          "graph/bad-tie",
          `weight "${w.id}" is tied to "${w.tiedTo}", which is not an untied tensor of the same name and shape`,
          `weights[${i}].tiedTo`,
        ),
      );
    }
  });
  return byId;
}

function checkValues(g: ModelGraph, out: Diagnostic[]): Map<string, ValueDecl> {
  const byId = new Map<string, ValueDecl>();
  g.values.forEach((v, i) => {
    if (byId.has(v.id))
      out.push(diag("graph/duplicate-value", `value "${v.id}" is declared twice`, `values[${i}]`));
    byId.set(v.id, v);
  });
  const t = byId.get(g.tokens);
  if (t?.dtype !== "int" || t.shape.length !== 1 || t.shape[0] !== "T") {
    out.push(
      diag("graph/tokens", `the tokens input "${g.tokens}" must be a declared int [T] value`, "tokens"),
    );
  }
  return byId;
}

function checkOps(
  g: ModelGraph,
  weights: Map<string, WeightDecl>,
  values: Map<string, ValueDecl>,
  out: Diagnostic[],
) {
  const defined = new Set<string>([g.tokens]);
  const caches = new Map<number, CacheShape>();
  const ctx: CheckContext = {
    value: (id) => (defined.has(id) ? values.get(id) : undefined),
    weight: (id) => weights.get(id),
    cache: (layer) => caches.get(layer),
  };
  const opIds = new Set<string>();
  g.ops.forEach((op, i) => {
    const path = `ops[${i}]`;
    if (opIds.has(op.id)) out.push(diag("graph/duplicate-op", `op id "${op.id}" is used twice`, path));
    opIds.add(op.id);
    const where = `${op.kind} ${op.id}${op.layer !== undefined ? ` (layer ${op.layer})` : ""}`;
    const specs = checkOp(op, ctx, (code, message, p) =>
      out.push(diag(code, `${where}: ${message}`, `${path}.${p}`)),
    );
    if (specs && specs.length !== op.outputs.length) {
      out.push(
        diag(
          "graph/outputs",
          `${where} has ${op.outputs.length} outputs, its kind defines ${specs.length}`,
          `${path}.outputs`,
        ),
      );
    }
    op.outputs.forEach((id, j) => {
      const decl = values.get(id);
      const p = `${path}.outputs[${j}]`;
      if (!decl) out.push(diag("graph/undefined-value", `${where} outputs undeclared value "${id}"`, p));
      else if (defined.has(id))
        out.push(diag("graph/redefined-value", `${where} redefines value "${id}"`, p));
      const s = specs?.[j];
      if (decl && s && (decl.dtype !== s.dtype || decl.shape.join() !== s.shape.join())) {
        out.push(
          diag(
            "graph/shape-mismatch",
            `${where} outputs "${id}" declared [${decl.shape}] ${decl.dtype}, the op yields [${s.shape}] ${s.dtype}`,
            p,
          ),
        );
      }
      defined.add(id);
    });
    const written = cacheWritten(op);
    if (written) caches.set(written.layer, written.shape);
  });
  g.values.forEach((v, i) => {
    if (!defined.has(v.id))
      out.push(
        diag("graph/orphan-value", `value "${v.id}" is declared but no op defines it`, `values[${i}]`),
      );
  });
  const logits = values.get(g.logits);
  if (!logits || !defined.has(g.logits))
    out.push(diag("graph/logits", `the logits value "${g.logits}" is never defined`, "logits"));
  else if (logits.shape[1] !== g.meta.vocabSize) {
    out.push(
      diag(
        "graph/logits",
        `logits have shape [${logits.shape}], expected [T, ${g.meta.vocabSize}]`,
        "logits",
      ),
    );
  }
}

function checkUnused(g: ModelGraph, weights: Map<string, WeightDecl>, out: Diagnostic[]) {
  const read = new Set<string>();
  for (const op of g.ops) for (const r of opWeightRefs(op)) read.add(r.weight);
  // Reading a tie reads its target tensor too.
  for (const id of [...read]) {
    const t = weights.get(id)?.tiedTo;
    if (t) read.add(t);
  }
  g.weights.forEach((w, i) => {
    if (!read.has(w.id) && w.unused === undefined) {
      out.push(
        diag(
          "graph/unused-weight",
          `weight "${w.id}" is declared but no op reads it`,
          `weights[${i}]`,
          "reference it from an op, or declare it with `unused: <reason>`",
        ),
      );
    }
  });
}

export function verifyGraph(g: ModelGraph): Diagnostic[] {
  const out: Diagnostic[] = [];
  const weights = checkWeights(g, out);
  const values = checkValues(g, out);
  checkOps(g, weights, values, out);
  checkUnused(g, weights, out);
  return out;
}
