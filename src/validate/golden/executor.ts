/**
 * The golden executor: runs a ModelGraph op by op in float64 for T tokens at the session's next
 * positions, keeping one KV (or MLA latent) cache per attention layer across calls. A prefill is a
 * call with the prompt; a decode step is a call with one token.
 */
import { ExitCode, invalidInput, PccxError } from "../../diag/index.js";
import type { ModelGraph, Op, OpOf, ValueId } from "../../resolver/graph/index.js";
import { ropeAttentionFactor, ropeInvFreq } from "../../resolver/graph/index.js";
import { altupCorrect, altupPredict, magnitudeMatch } from "./altup.js";
import { type KvCache, type MlaCache, runAttention, runMlaAttention } from "./attention.js";
import { activate, gaussianTopk, gluElement, layerNorm, rmsNorm, ropeRotate, softcap } from "./kernels.js";
import { type RouteParams, route, runExperts } from "./moe.js";
import { type Mat, mapMat, matVec, rowOf, zeros } from "./tensor.js";
import { LoadedWeights, type WeightReader } from "./weights.js";

/** A graph with its weights loaded: the factory of sessions. */
export class GoldenModel {
  private constructor(
    readonly graph: ModelGraph,
    readonly weights: LoadedWeights,
  ) {}

  static async load(graph: ModelGraph, reader: WeightReader): Promise<GoldenModel> {
    return new GoldenModel(graph, await LoadedWeights.load(graph, reader));
  }

  /** A fresh sequence: empty caches, next position 0. */
  session(): GoldenSession {
    return new GoldenSession(this.graph, this.weights);
  }
}

type Env = Map<ValueId, Mat>;

/** Builds a new [T, cols] matrix row by row. */
function perRow(m: Mat, cols: number, f: (row: Float64Array, t: number) => ArrayLike<number>): Mat {
  const out = zeros(m.rows, cols);
  for (let t = 0; t < m.rows; t++) out.data.set(f(rowOf(m, t), t), t * cols);
  return out;
}

export class GoldenSession {
  /** Position of the next token. */
  position = 0;
  private readonly kv = new Map<number, KvCache>();
  private readonly mla = new Map<number, MlaCache>();

  constructor(
    private readonly graph: ModelGraph,
    private readonly w: LoadedWeights,
  ) {}

  /** Runs the graph for `tokens` at positions position … position+T−1; returns logits [T, vocab]. */
  forward(tokens: readonly number[]): Mat {
    if (tokens.length === 0) throw invalidInput("golden/empty-input", "forward needs at least one token");
    const env: Env = new Map([
      [this.graph.tokens, { rows: tokens.length, cols: 1, data: Float64Array.from(tokens) }],
    ]);
    const p0 = this.position;
    for (const op of this.graph.ops) {
      const outs = this.run(op, env, p0);
      for (const [i, id] of op.outputs.entries()) env.set(id, outs[i]!);
    }
    this.position += tokens.length;
    return env.get(this.graph.logits)!;
  }

  private get(env: Env, id: ValueId): Mat {
    const m = env.get(id);
    if (!m)
      throw new PccxError(
        "golden/undefined-value",
        ExitCode.INTERNAL,
        `value "${id}" read before it was computed`,
      );
    return m;
  }

  private run(op: Op, env: Env, p0: number): Mat[] {
    const x = (id: ValueId) => this.get(env, id);
    switch (op.kind) {
      case "embedding":
        return [this.embedding(op, x(op.tokens))];
      case "position_embedding": {
        const { decl, data } = this.w.tensor(op.table);
        const [rows, cols] = decl.shape as [number, number];
        return [
          perRow(x(op.input), cols, (r, t) => {
            const p = p0 + t;
            if (p >= rows)
              throw invalidInput(
                "golden/position-range",
                `position ${p} is beyond the ${rows} learned positions of "${decl.name}"`,
              );
            return r.map((v, i) => v + data[p * cols + i]!);
          }),
        ];
      }
      case "rms_norm": {
        const w = op.weight ? this.w.vector(op.weight) : undefined;
        const g = op.groupSize;
        return [
          perRow(x(op.input), x(op.input).cols, (r) => {
            const out = new Float64Array(r.length);
            for (let s = 0; s < r.length; s += g)
              out.set(rmsNorm(r.subarray(s, s + g), w, op.weightOffset, op.eps), s);
            return out;
          }),
        ];
      }
      case "layer_norm": {
        const w = op.weight ? this.w.vector(op.weight) : undefined;
        const b = op.bias ? this.w.vector(op.bias) : undefined;
        return [perRow(x(op.input), x(op.input).cols, (r) => layerNorm(r, w, b, op.eps))];
      }
      case "linear": {
        const m = this.w.matrix(op.weight);
        const b = op.bias ? this.w.vector(op.bias) : undefined;
        return [perRow(x(op.input), m.rows, (r) => matVec(m, r, b))];
      }
      case "rope":
        return [this.rope(op, x(op.input), p0)];
      case "attention":
        return [this.attention(op, env, p0)];
      case "mla_attention":
        return [this.mlaAttention(op, env, p0)];
      case "activation":
        return [mapMat(x(op.input), (v) => activate(op.fn, v))];
      case "glu": {
        const up = x(op.up);
        return [mapMat(x(op.gate), (g, i) => gluElement(op.act, g, up.data[i]!))];
      }
      case "add": {
        const b = x(op.b);
        return [mapMat(x(op.a), (v, i) => v + b.data[i]!)];
      }
      case "mul": {
        const b = x(op.b);
        const a = x(op.a);
        return [mapMat(a, (v, i) => v * (b.cols === 1 ? b.data[Math.floor(i / a.cols)]! : b.data[i]!))];
      }
      case "mul_weight": {
        const w = this.w.vector(op.weight);
        const a = x(op.input);
        return [mapMat(a, (v, i) => v * (w.length === 1 ? w[0]! : w[i % a.cols]!))];
      }
      case "scale":
        return [mapMat(x(op.input), (v) => v * op.factor)];
      case "softcap":
        return [mapMat(x(op.input), (v) => softcap(v, op.cap))];
      case "slice":
        return [perRow(x(op.input), op.count, (r) => r.subarray(op.start, op.start + op.count))];
      case "moe_route":
        return this.moeRoute(op, x(op.logits));
      case "moe_experts": {
        const idx = x(op.indices);
        const wts = x(op.weights);
        return [
          perRow(x(op.input), x(op.input).cols, (r, t) =>
            runExperts(op, this.w, r, rowOf(idx, t), rowOf(wts, t)),
          ),
        ];
      }
      case "altup_predict":
        return this.altup(op.streams.map(x), x(op.modalities), (s, m) =>
          altupPredict(s, m, this.w.matrix(op.coefs)),
        );
      case "altup_correct": {
        const act = x(op.activated);
        const coefs = this.w.matrix(op.coefs);
        return this.altup(op.predictions.map(x), x(op.modalities), (s, m, t) =>
          altupCorrect(s, rowOf(act, t), m, coefs, op.coefClip, op.activeIndex),
        );
      }
      case "magnitude_match": {
        const ref = x(op.reference);
        return [perRow(x(op.input), x(op.input).cols, (r, t) => magnitudeMatch(r, rowOf(ref, t), op.eps))];
      }
      case "mean": {
        const ins = op.inputs.map(x);
        return [mapMat(ins[0]!, (_, i) => ins.reduce((s, m) => s + m.data[i]!, 0) / ins.length)];
      }
      case "gaussian_topk":
        return [perRow(x(op.input), x(op.input).cols, (r) => gaussianTopk(r, op.sparsity))];
    }
  }

  private embedding(op: OpOf<"embedding">, tokens: Mat): Mat {
    const { decl, data } = this.w.tensor(op.table);
    const [vocab, cols] = decl.shape as [number, number];
    const scale = op.scale ?? 1;
    return perRow(tokens, cols, (r) => {
      const tok = r[0]!;
      if (!Number.isInteger(tok) || tok < 0 || tok >= vocab) {
        throw invalidInput(
          "golden/token-range",
          `token id ${tok} is outside the ${vocab} rows of "${decl.name}"`,
        );
      }
      return data.subarray(tok * cols, (tok + 1) * cols).map((v) => v * scale);
    });
  }

  private rope(op: OpOf<"rope">, x: Mat, p0: number): Mat {
    // Length-dependent schedules (dynamic NTK, longrope) use the call's max position + 1, as HF does.
    const invFreq = ropeInvFreq(op.rope, op.rotaryDim, p0 + x.rows);
    const factor = ropeAttentionFactor(op.rope);
    return perRow(x, x.cols, (r, t) => {
      const out = Float64Array.from(r);
      for (let h = 0; h < op.heads; h++) {
        const head = r.subarray(h * op.headDim, (h + 1) * op.headDim);
        out.set(ropeRotate(head, op.offset, invFreq, p0 + t, op.style, factor), h * op.headDim);
      }
      return out;
    });
  }

  private attention(op: OpOf<"attention">, env: Env, p0: number): Mat {
    let cache: KvCache;
    if (op.kv.source === "own") {
      const layer = op.layer!;
      cache = this.kv.get(layer) ?? { k: [], v: [] };
      this.kv.set(layer, cache);
      const k = this.get(env, op.kv.k);
      const v = this.get(env, op.kv.v);
      for (let t = 0; t < k.rows; t++) {
        cache.k.push(Float64Array.from(rowOf(k, t)));
        cache.v.push(Float64Array.from(rowOf(v, t)));
      }
    } else {
      const shared = this.kv.get(op.kv.layer);
      if (!shared)
        throw new PccxError(
          "golden/kv-source",
          ExitCode.INTERNAL,
          `layer ${op.layer} reads the cache of layer ${op.kv.layer}, which is empty`,
        );
      cache = shared;
    }
    const sinks = op.sinks ? this.w.vector(op.sinks) : undefined;
    return runAttention(op, this.get(env, op.q), cache, p0, sinks);
  }

  private mlaAttention(op: OpOf<"mla_attention">, env: Env, p0: number): Mat {
    const layer = op.layer!;
    const cache = this.mla.get(layer) ?? { latent: [], kRope: [] };
    this.mla.set(layer, cache);
    const latent = this.get(env, op.latent);
    const kRope = this.get(env, op.kRope);
    for (let t = 0; t < latent.rows; t++) {
      cache.latent.push(Float64Array.from(rowOf(latent, t)));
      cache.kRope.push(Float64Array.from(rowOf(kRope, t)));
    }
    return runMlaAttention(op, this.get(env, op.q), cache, this.w.matrix(op.kvB), p0);
  }

  private moeRoute(op: OpOf<"moe_route">, logits: Mat): Mat[] {
    const params: RouteParams = {
      numExperts: op.numExperts,
      topK: op.topK,
      scoring: op.scoring,
      normalize: op.normalize,
      routedScale: op.routedScale,
      ...(op.groups ? { groups: op.groups } : {}),
      ...(op.correctionBias ? { correctionBias: this.w.vector(op.correctionBias) } : {}),
      ...(op.perExpertScale ? { perExpertScale: this.w.vector(op.perExpertScale) } : {}),
    };
    const indices = zeros(logits.rows, op.topK);
    const weights = zeros(logits.rows, op.topK);
    for (let t = 0; t < logits.rows; t++) {
      const r = route(Array.from(rowOf(logits, t)), params);
      indices.data.set(r.indices, t * op.topK);
      weights.data.set(r.weights, t * op.topK);
    }
    return [indices, weights];
  }

  /** Applies a per-token function over N streams and returns N outputs. */
  private altup(
    streams: Mat[],
    modalities: Mat,
    f: (s: Float64Array[], m: Float64Array, t: number) => Float64Array[],
  ): Mat[] {
    const outs = streams.map((s) => zeros(s.rows, s.cols));
    for (let t = 0; t < modalities.rows; t++) {
      const res = f(
        streams.map((s) => rowOf(s, t)),
        rowOf(modalities, t),
        t,
      );
      for (const [j, r] of res.entries()) outs[j]!.data.set(r, t * r.length);
    }
    return outs;
  }
}
