/**
 * GraphBuilder: what architecture plugins use to declare weights and append ops. It assigns op and
 * value ids, infers output shapes from the op signatures (failing fast on a plugin bug), and
 * records provenance: the current layer and the config keys in scope.
 */
import { ExitCode, formatDiagnostic, PccxError } from "../../diag/index.js";
import { type CacheShape, cacheWritten } from "./check-util.js";
import type { ActFn, GluAct, MaskSpec, Op, OpKind, OpOf } from "./ops.js";
import { type CheckContext, checkOp } from "./signature.js";
import type {
  GraphMeta,
  MatrixView,
  ModelGraph,
  ValueDecl,
  ValueId,
  VectorView,
  WeightDecl,
  WeightDType,
  WeightId,
  WeightRole,
} from "./types.js";
import { verifyGraph } from "./verify.js";

/** The fields a plugin gives for an op of kind K (the builder fills id, layer, keys, outputs). */
export type OpFields<K extends OpKind> = Omit<OpOf<K>, "id" | "kind" | "layer" | "keys" | "outputs">;

export interface EmitOptions {
  /** Name hint for the output value(s); the builder prefixes the layer and makes it unique. */
  readonly name?: string | readonly string[];
  /** Config keys behind this op, added to the keys in scope. */
  readonly keys?: readonly string[];
}

export interface WeightInit {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: WeightDType;
  readonly role: WeightRole;
  /** Defaults to the current layer. */
  readonly layer?: number;
  readonly transposed?: boolean;
  readonly unused?: string;
  readonly keys?: readonly string[];
}

const bug = (code: string, message: string) => new PccxError(code, ExitCode.INTERNAL, message);

/** Default names of the outputs of multi-output ops. */
function defaultNames(kind: OpKind, n: number): string[] {
  if (kind === "moe_route") return ["experts", "expert_weights"];
  if (kind === "altup_predict") return Array.from({ length: n }, (_, i) => `altup_pred${i}`);
  if (kind === "altup_correct") return Array.from({ length: n }, (_, i) => `altup_out${i}`);
  return Array.from({ length: n }, (_, i) => (n === 1 ? kind : `${kind}${i}`));
}

export class GraphBuilder {
  /** The token-ids input, shape ["T"]. */
  readonly tokens: ValueId = "tokens";
  private readonly weights: WeightDecl[] = [];
  private readonly weightById = new Map<WeightId, WeightDecl>();
  private readonly values: ValueDecl[] = [];
  private readonly valueById = new Map<ValueId, ValueDecl>();
  private readonly ops: Op[] = [];
  private readonly caches = new Map<number, CacheShape>();
  private layer: number | undefined;
  private scopeKeys: readonly string[] = [];

  constructor(private readonly meta: GraphMeta) {
    this.addValue({ id: this.tokens, shape: ["T"], dtype: "int" });
  }

  /** Runs `fn` with `layer` as the current layer (ops, weights and value names get it). */
  inLayer<R>(layer: number, fn: () => R): R {
    const saved = this.layer;
    this.layer = layer;
    try {
      return fn();
    } finally {
      this.layer = saved;
    }
  }

  /** Runs `fn` with extra config keys recorded on every op and weight it creates. */
  withKeys<R>(keys: readonly string[], fn: () => R): R {
    const saved = this.scopeKeys;
    this.scopeKeys = mergeKeys(saved, keys);
    try {
      return fn();
    } finally {
      this.scopeKeys = saved;
    }
  }

  /** Declares a checkpoint tensor. Its id is its name (a second declaration of a name is a bug). */
  weight(init: WeightInit): WeightId {
    if (this.weightById.has(init.name))
      throw bug("graph/duplicate-weight", `weight "${init.name}" declared twice`);
    const layer = init.layer ?? this.layer;
    const decl: WeightDecl = {
      id: init.name,
      name: init.name,
      shape: [...init.shape],
      dtype: init.dtype,
      role: init.role,
      ...(layer !== undefined ? { layer } : {}),
      ...(init.transposed ? { transposed: true } : {}),
      ...(init.unused ? { unused: init.unused } : {}),
      keys: mergeKeys(this.scopeKeys, init.keys ?? []),
    };
    this.weights.push(decl);
    this.weightById.set(decl.id, decl);
    return decl.id;
  }

  /** Declares `role` as reading the same stored tensor as `target` (e.g. a tied LM head). */
  tie(target: WeightId, role: WeightRole, keys: readonly string[] = []): WeightId {
    const t = this.weightById.get(target);
    if (!t) throw bug("graph/missing-weight", `cannot tie to undeclared weight "${target}"`);
    const id = `${t.name}@${role}`;
    if (this.weightById.has(id)) throw bug("graph/duplicate-weight", `weight "${id}" declared twice`);
    const decl: WeightDecl = { ...t, id, role, tiedTo: t.id, keys: mergeKeys(this.scopeKeys, keys) };
    this.weights.push(decl);
    this.weightById.set(id, decl);
    return id;
  }

  /** Appends an op of any kind and returns its output values. */
  emit<K extends OpKind>(kind: K, fields: OpFields<K>, opts: EmitOptions = {}): ValueId[] {
    const draft = {
      id: `op${this.ops.length}`,
      kind,
      ...(this.layer !== undefined ? { layer: this.layer } : {}),
      keys: mergeKeys(this.scopeKeys, opts.keys ?? []),
      outputs: [] as ValueId[],
      ...fields,
    } as unknown as Op;
    const specs = checkOp(draft, this.context(), (code, message, path) => {
      const where = `${kind} op ${draft.id}${this.layer !== undefined ? ` (layer ${this.layer})` : ""}, ${path}`;
      throw bug(code, `${message} [${where}]`);
    });
    if (!specs) throw bug("graph/shape-mismatch", `cannot infer the outputs of ${kind} op ${draft.id}`);
    const hints =
      typeof opts.name === "string" ? [opts.name] : (opts.name ?? defaultNames(kind, specs.length));
    const outputs = specs.map((s, i) => {
      const id = this.uniqueValueId(hints[i] ?? `${hints[0] ?? kind}${i}`);
      this.addValue({ id, shape: s.shape, dtype: s.dtype });
      return id;
    });
    const op = { ...draft, outputs } as Op;
    this.ops.push(op);
    const written = cacheWritten(op);
    if (written) this.caches.set(written.layer, written.shape);
    return outputs;
  }

  // Typed shorthands for the common single-output ops.

  embedding(tokens: ValueId, table: WeightId, scale?: number, o?: EmitOptions): ValueId {
    return this.one("embedding", { tokens, table, ...(scale !== undefined ? { scale } : {}) }, o);
  }
  linear(
    input: ValueId,
    weight: WeightId | MatrixView,
    bias?: WeightId | VectorView,
    o?: EmitOptions,
  ): ValueId {
    const w = typeof weight === "string" ? { weight } : weight;
    const b = typeof bias === "string" ? { weight: bias } : bias;
    return this.one("linear", { input, weight: w, ...(b ? { bias: b } : {}) }, o);
  }
  rmsNorm(
    input: ValueId,
    a: { weight?: WeightId | VectorView; eps: number; weightOffset?: 0 | 1; groupSize?: number },
    o?: EmitOptions,
  ): ValueId {
    const width = this.width(input);
    const w = typeof a.weight === "string" ? { weight: a.weight } : a.weight;
    const fields = { input, eps: a.eps, weightOffset: a.weightOffset ?? 0, groupSize: a.groupSize ?? width };
    return this.one("rms_norm", w ? { ...fields, weight: w } : fields, o);
  }
  layerNorm(input: ValueId, weight: WeightId, bias: WeightId, eps: number, o?: EmitOptions): ValueId {
    return this.one("layer_norm", { input, weight: { weight }, bias: { weight: bias }, eps }, o);
  }
  rope(input: ValueId, a: Omit<OpFields<"rope">, "input">, o?: EmitOptions): ValueId {
    return this.one("rope", { ...a, input }, o);
  }
  attention(a: OpFields<"attention">, o?: EmitOptions): ValueId {
    return this.one("attention", a, o);
  }
  activation(input: ValueId, fn: ActFn, o?: EmitOptions): ValueId {
    return this.one("activation", { input, fn }, o);
  }
  glu(gate: ValueId, up: ValueId, act: GluAct, o?: EmitOptions): ValueId {
    return this.one("glu", { gate, up, act }, o);
  }
  add(a: ValueId, b: ValueId, o?: EmitOptions): ValueId {
    return this.one("add", { a, b }, o);
  }
  mul(a: ValueId, b: ValueId, o?: EmitOptions): ValueId {
    return this.one("mul", { a, b }, o);
  }
  mulWeight(input: ValueId, weight: WeightId | VectorView, o?: EmitOptions): ValueId {
    return this.one("mul_weight", { input, weight: typeof weight === "string" ? { weight } : weight }, o);
  }
  scale(input: ValueId, factor: number, o?: EmitOptions): ValueId {
    return this.one("scale", { input, factor }, o);
  }
  softcap(input: ValueId, cap: number, o?: EmitOptions): ValueId {
    return this.one("softcap", { input, cap }, o);
  }
  slice(input: ValueId, start: number, count: number, o?: EmitOptions): ValueId {
    return this.one("slice", { input, start, count }, o);
  }

  /** A causal or sliding mask spec (sugar for plugins). */
  static mask(window?: number | null): MaskSpec {
    return window ? { kind: "sliding", window } : { kind: "causal" };
  }

  /** Shape helpers for plugins. */
  width(id: ValueId): number {
    const v = this.valueById.get(id);
    const n = v?.shape[1];
    if (typeof n !== "number")
      throw bug("graph/undefined-value", `value "${id}" is not a defined [T, n] value`);
    return n;
  }
  hasWeight(id: WeightId): boolean {
    return this.weightById.has(id);
  }

  /** The finished graph; verified unless `verify: false` (only tests build broken graphs). */
  finish(logits: ValueId, opts: { verify?: boolean } = {}): ModelGraph {
    const g: ModelGraph = {
      meta: this.meta,
      tokens: this.tokens,
      logits,
      weights: [...this.weights],
      values: [...this.values],
      ops: [...this.ops],
    };
    if (opts.verify ?? true) {
      const errors = verifyGraph(g).filter((d) => d.severity === "error");
      if (errors.length > 0) {
        throw new PccxError(
          "graph/invalid",
          ExitCode.INTERNAL,
          `the ${this.meta.plugin} plugin built an invalid graph`,
          {
            notes: errors.slice(0, 20).map(formatDiagnostic),
          },
        );
      }
    }
    return g;
  }

  private one<K extends OpKind>(kind: K, fields: OpFields<K>, o?: EmitOptions): ValueId {
    return this.emit(kind, fields, o)[0]!;
  }

  private addValue(v: ValueDecl): void {
    this.values.push(v);
    this.valueById.set(v.id, v);
  }

  private uniqueValueId(hint: string): ValueId {
    const base = this.layer !== undefined ? `L${this.layer}.${hint}` : hint;
    if (!this.valueById.has(base)) return base;
    for (let i = 2; ; i++) if (!this.valueById.has(`${base}#${i}`)) return `${base}#${i}`;
  }

  private context(): CheckContext {
    return {
      value: (id) => this.valueById.get(id),
      weight: (id) => this.weightById.get(id),
      cache: (layer) => this.caches.get(layer),
    };
  }
}

function mergeKeys(a: readonly string[], b: readonly string[]): readonly string[] {
  if (b.length === 0) return a;
  return [...new Set([...a, ...b])];
}
