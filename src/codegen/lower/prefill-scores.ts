/**
 * Prefill Q·Kᵀ of one query row as a single GEMM over every reachable ring slot (docs/codegen.md §4
 * "Prefill attention").
 *
 * A GEMV takes at most `tileRows` weight rows per call, so the decode lowering splits a head's scores
 * into one GEMV per 2,048-slot chunk of the ring, each with two DMA pieces (K rows, scale beats) per
 * port and a command-slot wait per piece: ~9 steps per chunk, per row, per head. The GEMM has no N
 * limit in the contract (only K ≤ the activation cache), so in prefill — where the GEMM ports are the
 * projections' and a row's M = 1 call fits anywhere — one GEMM with N = kv_len replaces the chunks.
 *
 * Its tile is the head's first kv_len K rows (slot order, row-major, one scale beat per row), split
 * over the GEMM ports in `ceil(N/P)`-row ranges. The port split must be linear in host-set variables:
 * the `kv_rows[l][c][j]` that kv_write / kv_view set for the GEMV chunks give it as a sum over the
 * chunks, Σ_c kv_rows[l][c][j] = port j's rows of N = kv_len, exactly when the GEMM has the same port
 * count P as the GEMV, P ≤ 2 and the chunk is a multiple of P (every full chunk then splits evenly and
 * only the last chunk's ceil matters; with P > 2 the per-chunk ceils no longer add up). Otherwise the
 * chunked GEMVs stay. The scores, e_max (findemax) and the softmax that follows are the same values.
 */
import type { L2Addr, TileUse } from "../draft.js";
import type { Lower } from "./context.js";
import type { KvCache } from "./kv.js";
import { kvLenVar, kvRowsVar } from "./vars.js";

/**
 * Whether `scoresGemm` applies: prefill segment, an NPU ring read in more than one GEMV chunk, and a
 * GEMM port split that the GEMV chunks' kv_rows variables express (see the header).
 */
export function prefillScoresByGemm(L: Lower, c: KvCache, chunks: number): boolean {
  if (L.seg.kind !== "prefill" || c.format !== "int4_tiles" || chunks < 2) return false;
  const P = L.m.enginePorts.gemm.length;
  return P === c.ports && P >= 1 && P <= 2 && c.chunk % P === 0;
}

/**
 * One GEMM (M = 1, N = kv_len, K = headDim) writing the scores of the query at `qa` against KV head
 * `g` of ring `c` to `dest`; `findemax` as the chunked GEMVs would set it.
 */
export function scoresGemm(
  L: Lower,
  c: KvCache,
  g: number,
  qa: L2Addr,
  dest: L2Addr,
  findemax: boolean,
  chunks: number,
  label: string,
): void {
  const m = L.m;
  const len = kvLenVar(L, c.layer);
  const reach = Math.min(c.capacity, chunks * c.chunk);
  const rowsOf = portRowVars(L, c, chunks);
  const tiles: TileUse[] = m.enginePorts.gemm.map((port, j) => {
    const before = rowsOf.slice(0, j).flat();
    const mine = rowsOf[j]!;
    return {
      port,
      pieces: [
        {
          region: c.region,
          offset: L.rx(
            g * c.kHeadBytes,
            before.map((v) => [v, c.kRowBytes] as const),
          ),
          bytes: L.rx(
            0,
            mine.map((v) => [v, c.kRowBytes] as const),
          ),
        },
        {
          region: c.region,
          offset: L.rx(
            g * c.kHeadBytes + c.kScaleOffset,
            before.map((v) => [v, m.beatBytes] as const),
          ),
          bytes: L.rx(
            0,
            mine.map((v) => [v, m.beatBytes] as const),
          ),
        },
      ],
    };
  });
  L.push({
    kind: "gemv",
    engine: "GEMM",
    dest,
    src: qa,
    findemax,
    accm: false,
    shape: L.fmap(1, L.rx(0, [[len, 1]], 0, reach), c.headDim),
    wshape: L.wshape(0, c.kGroup),
    tiles,
    origin: L.origin(`scores ${label}`),
  });
}

const rowVarsMemo = new WeakMap<KvCache, Map<number, readonly (readonly string[])[]>>();

/**
 * Port j's rows are Σ over the reachable chunks of kv_rows[l][ch][j]: the variable names per port,
 * declared once per ring (a prefill segment asks for them rows × heads times).
 */
function portRowVars(L: Lower, c: KvCache, chunks: number): readonly (readonly string[])[] {
  let byChunks = rowVarsMemo.get(c);
  if (!byChunks) {
    byChunks = new Map();
    rowVarsMemo.set(c, byChunks);
  }
  let names = byChunks.get(chunks);
  if (!names) {
    names = L.m.enginePorts.gemm.map((_, j) =>
      Array.from({ length: chunks }, (_, ch) => kvRowsVar(L, c.layer, ch, j)),
    );
    byChunks.set(chunks, names);
  }
  return names;
}
