/**
 * The host functions a program may call (docs/program.md §5), as data: name, operands, attributes,
 * the exact float32 formula, the variables a function reads and sets, and its cost class for the
 * timing model. The simulator (TypeScript) and the generated C driver implement exactly this list.
 *
 * Common rules for every function:
 * - Operands are DDR ranges (HostOperand). `bf16` operands are converted to float32 on read; every
 *   arithmetic operation is float32 (round to nearest even after each operation, as Math.fround);
 *   results stored to `bf16` operands are rounded to nearest even. An output is written up to the
 *   end of its last 16-byte L2 word, zeros in the padding (so its L2 copy is fully defined).
 * - A `rows`/`blocks` operand holds `rows` token rows as column blocks (docs/program.md §5): element
 *   (t, j) of block b (columns [s_b, s_b + w_b)) is at Σ_{b'<b} rows·pad(w_b') + t·pad(w_b) + (j − s_b),
 *   pad(w) = w rounded up to a whole L2 word. Without `rows`, an operand is one row of `elements`.
 *   Functions work row by row over the operand's rows; padding elements are never read or written.
 * - `row` attributes count rows inside the segment's chunk: the position of row t is pos + row + t.
 */

export type HostAttrType = "number" | "string" | "boolean" | "number[]";
export type HostCost = "copy" | "elementwise" | "transcendental" | "reduction";

export interface HostOperandSpec {
  readonly name: string;
  readonly doc: string;
  readonly optional?: boolean;
  /** The operand may appear several times (N AltUp streams). */
  readonly repeated?: boolean;
}

export interface HostAttrSpec {
  readonly name: string;
  readonly type: HostAttrType;
  readonly doc: string;
  readonly optional?: boolean;
}

export interface HostFnSpec {
  readonly name: string;
  readonly summary: string;
  readonly inputs: readonly HostOperandSpec[];
  readonly outputs: readonly HostOperandSpec[];
  readonly attrs: readonly HostAttrSpec[];
  /** The exact float32 formula, per row unless stated. */
  readonly formula: string;
  /** Program variables the function reads. */
  readonly reads?: readonly string[];
  /** Program variables the function sets, with their formula. */
  readonly sets?: readonly { readonly variable: string; readonly formula: string }[];
  readonly cost: HostCost;
}

const op = (name: string, doc: string, extra: Partial<HostOperandSpec> = {}): HostOperandSpec => ({
  name,
  doc,
  ...extra,
});
const at = (name: string, type: HostAttrType, doc: string, optional = false): HostAttrSpec => ({
  name,
  type,
  doc,
  ...(optional ? { optional } : {}),
});

const ROWS = at("rows", "number", "token rows processed (the operands' rows)", true);

/** Every host function, in name order. */
export const HOST_FUNCTIONS: readonly HostFnSpec[] = [
  {
    name: "activation",
    summary: "element-wise activation the SFU lacks (or computes only approximately)",
    inputs: [op("x", "input")],
    outputs: [op("y", "output, same layout as x")],
    attrs: [at("fn", "string", "silu | gelu | gelu_tanh | relu | tanh | sigmoid"), ROWS],
    formula:
      "silu: y = x/(1+exp(-x)); gelu: y = 0.5·x·(1+erf(x/√2)); gelu_tanh: y = 0.5·x·(1+tanh(√(2/π)·(x+0.044715·x³))); relu: y = max(x, 0); tanh: y = tanh(x); sigmoid: y = 1/(1+exp(-x))",
    cost: "transcendental",
  },
  {
    name: "add",
    summary: "element-wise sum (when both operands are already on the host)",
    inputs: [op("a", "input"), op("b", "input, same layout")],
    outputs: [op("y", "output")],
    attrs: [ROWS],
    formula: "y = a + b",
    cost: "elementwise",
  },
  {
    name: "altup_correct",
    summary: "Gemma 3n AltUp correction of N streams",
    inputs: [
      op("pred", "the N predictions", { repeated: true }),
      op("activated", "output of the layer's active stream"),
      op("modalities", "N router values (one row per token)"),
      op("coefs", "correction_coefs [N, N] (bf16, DDR vectors)"),
    ],
    outputs: [op("out", "the N corrected streams", { repeated: true })],
    attrs: [
      at("n", "number", "number of streams N"),
      at("activeIndex", "number", "index of the active stream"),
      at("coefClip", "number", "clip of the coefficients (absent: none)", true),
      ROWS,
    ],
    formula:
      "c[j] = Σ_i clip(coefs[j][i], ±coefClip)·m[i] + 1; innov = activated − pred[activeIndex]; out_j = pred_j + c[j]·innov",
    cost: "elementwise",
  },
  {
    name: "altup_predict",
    summary: "Gemma 3n AltUp prediction of N streams",
    inputs: [
      op("x", "the N streams", { repeated: true }),
      op("modalities", "N router values"),
      op("coefs", "prediction_coefs [N², N] (bf16, DDR vectors)"),
    ],
    outputs: [op("pred", "the N predictions", { repeated: true })],
    attrs: [at("n", "number", "number of streams N"), ROWS],
    formula: "c[k] = Σ_i coefs[k][i]·m[i] (k < N²); pred_j = x_j + Σ_i c[j·N + i]·x_i",
    cost: "elementwise",
  },
  {
    name: "argmax",
    summary: "greedy sampling: the index of the largest logit",
    inputs: [op("logits", "the logits of the last row")],
    outputs: [op("token", "one i32: the index (lowest index on ties)")],
    attrs: [],
    formula: "token = min { i : logits[i] = max_j logits[j] }",
    cost: "reduction",
  },
  {
    name: "attention",
    summary:
      "attention of one query row over a bf16 KV ring, on the host (fallback when the NPU path cannot be used)",
    inputs: [
      op("q", "query row (heads·headDim)"),
      op("k", "K ring: capacity × kvHeads·headDim bf16 rows"),
      op("v", "V ring: capacity × kvHeads·vHeadDim bf16 rows"),
      op("sinks", "per-head sink logits (bf16)", { optional: true }),
    ],
    outputs: [op("out", "heads·vHeadDim")],
    attrs: [
      at("layer", "number", "the layer whose ring is read (its kv_len variable)"),
      at("heads", "number", "query heads"),
      at("kvHeads", "number", "KV heads (query head h reads KV head ⌊h·kvHeads/heads⌋)"),
      at("headDim", "number", "q/k head width"),
      at("vHeadDim", "number", "v head width"),
      at("scale", "number", "score scale"),
      at("softcap", "number", "score soft-cap (absent: none)", true),
      at("row", "number", "row of q inside the operand (prefill)", true),
    ],
    formula:
      "for each visible slot j < kv_len[layer]: s_j = scale·Σ_d q_h[d]·K[j][g][d]; s_j = softcap·tanh(s_j/softcap) if softcap; m = max(max_j s_j, sinks[h] if sinks); p_j = exp(s_j − m)/(Σ_j exp(s_j − m) + exp(sinks[h] − m) if sinks); out_h = Σ_j p_j·V[j][g]",
    reads: ["kv_len[layer]"],
    cost: "transcendental",
  },
  {
    name: "fill",
    summary: "writes constants (the L2 constant table): zeros, with runs of one value",
    inputs: [],
    outputs: [op("out", "the constant table")],
    attrs: [at("runs", "number[]", "triples (first element, count, value)")],
    formula: "out[e] = 0 for all e; then for each triple (s, n, v): out[s..s+n) = bf16(v)",
    cost: "copy",
  },
  {
    name: "gather_rows",
    summary: "embedding rows the NPU cannot copy: INT4 table rows (dequantised) or a table off DDR",
    inputs: [op("table", "the table: a DDR region, or region `offddr` (the off-DDR part of weights.bin)")],
    outputs: [op("out", "rows × width, BF16")],
    attrs: [
      at("tensor", "string", "HF tensor name of the table (for messages)"),
      at("tokens", "string", "comma-separated variable names, one per row (e.g. token or token[0],token[1])"),
      at("scale", "number", "multiplier (1: none)"),
      at("width", "number", "row width"),
      at("format", "string", "int4_table | bf16"),
      at("rowStride", "number", "bytes from one row to the next"),
      at("group", "number", "int4_table: scale group along the row (0: one scale per row)"),
    ],
    formula:
      "row r = tokens[t] at table + r·rowStride. bf16: x[j] = row[j]. int4_table (layout's table rows): the row's codes (two's complement nibbles, low nibble = even element) padded to a beat, then its scales (the target's scale dtype, one per `group` elements or one per row) padded to a beat; x[j] = code[j]·scale[⌊j/group⌋]. out[t][j] = bf16(scale·x[j])",
    reads: ["token", "token[t]"],
    cost: "copy",
  },
  {
    name: "gaussian_topk",
    summary: "Gemma 3n activation sparsity",
    inputs: [op("x", "input")],
    outputs: [op("y", "output")],
    attrs: [at("z", "number", "Φ⁻¹(sparsity), computed by the compiler"), ROWS],
    formula: "μ = Σx/n; σ = sqrt(Σ(x−μ)²/n); y = max(x − (μ + σ·z), 0)",
    cost: "reduction",
  },
  {
    name: "glu",
    summary: "gated MLP activation act(gate)·up",
    inputs: [
      op("gate", "gate projection (or gate and up interleaved, attr interleaved)"),
      op("up", "up projection", { optional: true }),
    ],
    outputs: [op("y", "output")],
    attrs: [
      at("fn", "string", "silu | gelu | gelu_tanh | relu | tanh | sigmoid | clamped_swiglu"),
      at("alpha", "number", "clamped_swiglu alpha", true),
      at("limit", "number", "clamped_swiglu limit", true),
      at("interleaved", "boolean", "gate and up are the even and odd columns of the first operand", true),
      ROWS,
    ],
    formula:
      "y = act(gate)·up (act as in `activation`); clamped_swiglu: g = min(gate, limit), u = clamp(up, −limit, limit), y = (u + 1)·g/(1+exp(−alpha·g))",
    cost: "transcendental",
  },
  {
    name: "kv_view",
    summary: "sets the visible-row variables of a cache for one prefill row of a layer that shares it",
    inputs: [],
    outputs: [],
    attrs: [
      at("layer", "number", "the layer that owns the cache"),
      at("row", "number", "row inside the chunk"),
      at("capacity", "number", "ring slots used"),
      at("chunk", "number", "int4_tiles: slots per attention chunk", true),
      at("ports", "number", "int4_tiles: GEMV ports", true),
    ],
    formula: "see sets",
    reads: ["pos"],
    sets: [
      { variable: "kv_len[layer]", formula: "min(pos + row + 1, capacity)" },
      { variable: "kv_blocks[layer]", formula: "ceil(kv_len[layer] / 32)" },
      {
        variable: "kv_rows[layer][c][j]",
        formula:
          "int4_tiles: N = clamp(kv_len − c·chunk, 0, chunk), r = ceil(N / ports), clamp(N − j·r, 0, r)",
      },
    ],
    cost: "copy",
  },
  {
    name: "kv_write",
    summary: "KV quantisation: writes one token's K and V rows into a layer's ring",
    inputs: [
      op("k", "the K rows (kvHeads·headDim per row)"),
      op("v", "the V rows (kvHeads·vHeadDim per row)"),
    ],
    outputs: [
      op("kcache", "K part of the ring region kv.L<layer>"),
      op("vcache", "V part of the ring region"),
    ],
    attrs: [
      at("layer", "number", "the layer that owns the cache"),
      at("row", "number", "row of k/v inside the operands and of the token inside the chunk"),
      at("capacity", "number", "ring slots used (the window for sliding layers)"),
      at("kvHeads", "number", "KV heads"),
      at("headDim", "number", "K head width"),
      at("vHeadDim", "number", "V head width"),
      at("kScale", "number", "factor applied to K before storing (the attention scale)"),
      at("format", "string", "int4_tiles (NPU attention) | bf16_rows (host attention)"),
      at("chunk", "number", "int4_tiles: slots per attention chunk (GEMV call)", true),
      at("ports", "number", "int4_tiles: GEMV ports P", true),
      at(
        "kHeadBytes",
        "number",
        "int4_tiles: bytes of one KV head's K area (capacity rows, then capacity scale beats)",
        true,
      ),
      at("kScaleOffset", "number", "int4_tiles: offset of the scale beats inside a head's K area", true),
      at(
        "vBase",
        "number",
        "int4_tiles: offset of the V part in the ring region (the K part starts at 0)",
        true,
      ),
      at("vParts", "number[]", "int4_tiles: V features carried by each port (P contiguous ranges)", true),
      at(
        "vPortOffsets",
        "number[]",
        "int4_tiles: offset of each port's V sub-tiles inside a head's V area",
        true,
      ),
      at("vHeadBytes", "number", "int4_tiles: bytes of one KV head's V area", true),
    ],
    formula:
      "slot = (pos + row) mod capacity. bf16_rows: K[slot] = bf16(kScale·k), V[slot] = bf16(v), rows of kvHeads·width. int4_tiles (docs/program.md §4.3 KV tiles), per KV head g: K: x = kScale·k_g; for each group of G = headDim/S elements (S = scales per beat = beat bytes / scale bytes) s = scale(max|x|/7), q = clamp(rne(x/s), −8, 7) (q = 0 when s = 0); the row's nibbles at g·kHeadBytes + slot·rowBytes (rowBytes = headDim/2 padded to a beat), its S scales at g·kHeadBytes + kScaleOffset + slot·beat. V: block b = ⌊slot/32⌋, lane i = slot mod 32; port j's features d ∈ [Σ_{j'<j} vParts, +vParts[j]) live at vBase + g·vHeadBytes + vPortOffsets[j] + b·blockBytes_j (blockBytes_j = vParts[j] beats + their scales padded to a beat): for each such d the block's 32 values are the dequantised old values (q·s) with lane i replaced by v_g[d]; s' = scale(max|values|/7); all 32 requantised with s'. Slots never written hold 0; scale() rounds to the target's scale dtype.",
    reads: ["pos"],
    sets: [
      { variable: "kv_slot[layer]", formula: "(pos + row) mod capacity" },
      { variable: "kv_len[layer]", formula: "min(pos + row + 1, capacity)" },
      { variable: "kv_blocks[layer]", formula: "ceil(kv_len[layer] / 32)" },
      {
        variable: "kv_rows[layer][c][j]",
        formula:
          "int4_tiles: N = clamp(kv_len − c·chunk, 0, chunk), r = ceil(N / ports), clamp(N − j·r, 0, r)",
      },
    ],
    cost: "elementwise",
  },
  {
    name: "layer_norm",
    summary: "LayerNorm over each row",
    inputs: [
      op("x", "input"),
      op("weight", "w (bf16)", { optional: true }),
      op("bias", "b (bf16)", { optional: true }),
    ],
    outputs: [op("y", "output")],
    attrs: [
      at("eps", "number", "epsilon"),
      at("hasWeight", "boolean", "w given"),
      at("hasBias", "boolean", "b given"),
      ROWS,
    ],
    formula: "μ = Σx/n; σ² = Σ(x−μ)²/n; y = (x−μ)/sqrt(σ² + eps)·w + b",
    cost: "reduction",
  },
  {
    name: "magnitude_match",
    summary: "Gemma 3n AltUp stream magnitude matching",
    inputs: [op("x", "input"), op("ref", "reference")],
    outputs: [op("y", "output")],
    attrs: [at("eps", "number", "epsilon"), ROWS],
    formula: "y = x·sqrt(Σref²/n)/sqrt(max(Σx²/n, eps))",
    cost: "reduction",
  },
  {
    name: "mean",
    summary: "element-wise mean of N operands",
    inputs: [op("x", "the N inputs", { repeated: true })],
    outputs: [op("y", "output")],
    attrs: [at("n", "number", "N"), ROWS],
    formula: "y = (Σ_i x_i)·(1/N), summed in operand order",
    cost: "elementwise",
  },
  {
    name: "moe_route",
    summary: "MoE top-k routing: chooses the experts and their weights",
    inputs: [
      op("logits", "router logits (E)"),
      op("bias", "selection bias (E, bf16)", { optional: true }),
      op("expertScale", "per-expert weight scale (E, bf16)", { optional: true }),
    ],
    outputs: [op("weights", "k weights, one per L2 word (k rows of 1 element, word padded)")],
    attrs: [
      at("layer", "number", "the layer (its expert[layer][j] variables)"),
      at("numExperts", "number", "E"),
      at("topK", "number", "k"),
      at("scoring", "string", "softmax | sigmoid"),
      at("normalize", "boolean", "divide the k weights by their sum"),
      at("routedScale", "number", "final multiplier"),
      at("groups", "number[]", "[count, topk, score: 0 max | 1 top2_sum] (absent: no groups)", true),
      at("hasBias", "boolean", "selection bias given"),
      at("hasExpertScale", "boolean", "per-expert scale given"),
      at("row", "number", "row of the logits inside the operand", true),
    ],
    formula: "docs/graph.md §2.1 exactly (ties: lower index first; indices in descending score order)",
    sets: [{ variable: "expert[layer][j]", formula: "the j-th chosen expert index, j < k" }],
    cost: "reduction",
  },
  {
    name: "mul",
    summary: "element-wise product (b may hold one value per row, broadcast)",
    inputs: [op("a", "input"), op("b", "input (same layout, or one element per row)")],
    outputs: [op("y", "output")],
    attrs: [at("broadcast", "boolean", "b has one element per row"), ROWS],
    formula: "y = a·b",
    cost: "elementwise",
  },
  {
    name: "mul_weight",
    summary: "x times a stored vector (or stored scalar)",
    inputs: [op("x", "input"), op("w", "the vector (bf16, DDR vectors), n or 1 elements")],
    outputs: [op("y", "output")],
    attrs: [ROWS],
    formula: "y = x·w (w broadcast when it has one element)",
    cost: "elementwise",
  },
  {
    name: "rms_norm",
    summary: "RMSNorm with the weight applied (when the norm cannot be split between host and SFU)",
    inputs: [op("x", "input"), op("weight", "w (bf16)", { optional: true })],
    outputs: [op("y", "output")],
    attrs: [
      at("eps", "number", "epsilon"),
      at("groupSize", "number", "features per normalised group"),
      at("weightOffset", "number", "0: x̂·w; 1: x̂·(1+w)"),
      at("hasWeight", "boolean", "w given"),
      ROWS,
    ],
    formula: "per group: r = 1/sqrt(Σx²/groupSize + eps); y = x·r·(weightOffset + w) (no weight: y = x·r)",
    cost: "reduction",
  },
  {
    name: "rms_scale",
    summary: "the RMSNorm statistic only; the SFU applies it with SCALE",
    inputs: [op("x", "input (one row)")],
    outputs: [op("r", "one element")],
    attrs: [at("eps", "number", "epsilon")],
    formula: "r = 1/sqrt(Σx²/n + eps)",
    cost: "reduction",
  },
  {
    name: "rope",
    summary: "rotary embedding (the pair rotation the SFU lacks)",
    inputs: [
      op("x", "heads·headDim per row"),
      op("table", "the rope table: per position cos then sin (rotaryDim/2 each, word padded, bf16)"),
    ],
    outputs: [op("y", "output (may be the same range as x)")],
    attrs: [
      at("heads", "number", "heads"),
      at("headDim", "number", "head width"),
      at("offset", "number", "first rotated feature inside a head"),
      at("rotaryDim", "number", "rotated features"),
      at("style", "string", "half | interleaved"),
      at("row", "number", "first row's index inside the chunk"),
      at("tableRowBytes", "number", "bytes of one table row"),
      ROWS,
    ],
    formula:
      "p = pos + row + t; c_i, s_i = table[p] (i < rotaryDim/2); pair (a, b) = (i, i + rotaryDim/2) for half, (2i, 2i+1) for interleaved, inside [offset, offset+rotaryDim) of each head: a' = a·c_i − b·s_i, b' = b·c_i + a·s_i; other features copied",
    reads: ["pos"],
    cost: "transcendental",
  },
  {
    name: "rope_table",
    summary: "fills a RoPE cos/sin table, one row per position (load segment)",
    inputs: [],
    outputs: [
      op("table", "positions rows of [cos | sin], rotaryDim/2 BF16 each, each half padded to halfBytes"),
    ],
    attrs: [
      at("mode", "string", "fixed | switch (two frequency sets) | dynamic (NTK, per position)"),
      at("invFreq", "number[]", "inverse frequencies (fixed; switch: up to switchAt)"),
      at(
        "invFreqLong",
        "number[]",
        "switch: inverse frequencies for positions p with p + 1 > switchAt",
        true,
      ),
      at("switchAt", "number", "switch: the length where the long set starts", true),
      at("theta", "number", "dynamic: base θ", true),
      at("factor", "number", "dynamic: scaling factor", true),
      at("maxPos", "number", "dynamic: max_position_embeddings", true),
      at("attentionFactor", "number", "multiplies cos and sin"),
      at("rotaryDim", "number", "rotated features (d)"),
      at("positions", "number", "rows"),
      at("halfBytes", "number", "bytes of each half of a row"),
    ],
    formula:
      "row p, i < d/2: f_i = invFreq[i] (switch: invFreqLong[i] when p + 1 > switchAt; dynamic: θ' = θ·(factor·L/maxPos − (factor − 1))^(d/(d−2)) with L = max(p + 1, maxPos), f_i = θ'^(−2i/d)); a = p·f_i (float32); cos[i] = bf16(cos(a)·attentionFactor), sin[i] = bf16(sin(a)·attentionFactor)",
    cost: "transcendental",
  },
  {
    name: "scale",
    summary: "x times a constant (used where the SFU cannot reach the operand)",
    inputs: [op("x", "input")],
    outputs: [op("y", "output")],
    attrs: [at("factor", "number", "the constant"), ROWS],
    formula: "y = x·factor",
    cost: "elementwise",
  },
  {
    name: "slice",
    summary: "copies columns [start, start+count) of each row (re-alignment for a misaligned slice)",
    inputs: [op("x", "input")],
    outputs: [op("y", "output (count columns)")],
    attrs: [
      at("start", "number", "first column"),
      at("count", "number", "columns"),
      at("row", "number", "copy only row `row` of x into the (one-row) output", true),
      ROWS,
    ],
    formula: "y[t][j] = x[t][start + j] (with `row`: y[0][j] = x[row][start + j])",
    cost: "copy",
  },
  {
    name: "softcap",
    summary: "cap·tanh(x/cap)",
    inputs: [op("x", "input")],
    outputs: [op("y", "output")],
    attrs: [at("cap", "number", "the cap"), ROWS],
    formula:
      "y = cap·tanh(x/cap) (attention scores: the operands' `elements` are relocated to the visible blocks)",
    cost: "transcendental",
  },
  {
    name: "spread_words",
    summary: "one value per L2 word: word i = [v_i, fill × 7] (attention sink words)",
    inputs: [op("v", "n values (bf16)")],
    outputs: [op("out", "n words")],
    attrs: [at("fill", "string", "the other lanes: -inf | 0")],
    formula: "out[8i] = v[i]; out[8i+1..8i+7] = fill",
    cost: "copy",
  },
];

const byName = new Map(HOST_FUNCTIONS.map((f) => [f.name, f]));

/** The spec of host function `name`, or undefined. */
export function hostFunction(name: string): HostFnSpec | undefined {
  return byName.get(name);
}
