/**
 * pccx_host_ops.c, part 3: attention over a BF16 KV ring, kv_view and kv_write (bf16_rows, and
 * int4_tiles from host-ops-kv-tiles.ts), as src/validate/sim/host-ops-model.ts computes them.
 */
import { KV_TILES } from "./host-ops-kv-tiles.js";

export const HOST_OPS_KV = `/* ---- model-level functions (sim host-ops-model.ts) ---- */

static pccx_status op_attention(C *c) {
  uint32_t heads = (uint32_t)num(c, PCCX_ATTR_ATTENTION_HEADS, 0), kvh = (uint32_t)num(c, PCCX_ATTR_ATTENTION_KVHEADS, 0);
  uint32_t hd = (uint32_t)num(c, PCCX_ATTR_ATTENTION_HEADDIM, 0), vhd = (uint32_t)num(c, PCCX_ATTR_ATTENTION_VHEADDIM, 0);
  double scale = num(c, PCCX_ATTR_ATTENTION_SCALE, 0);
  int capped = has(c, PCCX_ATTR_ATTENTION_SOFTCAP);
  double cap = num(c, PCCX_ATTR_ATTENTION_SOFTCAP, 0);
  uint32_t row = (uint32_t)num(c, PCCX_ATTR_ATTENTION_ROW, 0);
  int64_t len64 = 0;
  pccx_status s = get_var(c, 0, &len64);
  if (s != PCCX_OK) return s;
  uint32_t len = (uint32_t)len64;
  pccx_view *qv = &c->in[0], *kv = &c->in[1], *vv = &c->in[2], *out = &c->out[0];
  pccx_view *sv = c->n_in > 3 ? &c->in[3] : NULL;
  if ((uint64_t)len * kvh * hd > kv->span || (uint64_t)len * kvh * vhd > vv->span) {
    return err(c, PCCX_ERR_HOST_OP, "kv_len = %u rows exceed the ring operands", len);
  }
  uint32_t out_row = out->rows > row ? row : 0u;
  float *q = row_of(qv, row), *sc = malloc((len ? len : 1u) * sizeof *sc), *sinks = sv ? row_of(sv, 0) : NULL;
  if (!q || !sc || (sv && !sinks)) {
    free(q);
    free(sc);
    free(sinks);
    return err(c, PCCX_ERR_NOMEM, "no memory");
  }
  for (uint32_t h = 0; h < heads; h++) {
    uint32_t g = (uint32_t)(((uint64_t)h * kvh) / heads);
    float m = sinks ? sinks[h] : -INFINITY;
    for (uint32_t j = 0; j < len; j++) {
      float dot = 0.0f;
      uint64_t kb = ((uint64_t)j * kvh + g) * hd;
      for (uint32_t d = 0; d < hd; d++) dot = dot + q[h * hd + d] * pccx_view_flat(kv, kb + d);
      float v = (float)(scale * (double)dot);
      if (capped) v = (float)(cap * (double)(float)tanh((double)(float)((double)v / cap)));
      sc[j] = v;
      m = fmaxf(m, v);
    }
    float den = 0.0f;
    for (uint32_t j = 0; j < len; j++) {
      sc[j] = (float)exp((double)(sc[j] - m));
      den = den + sc[j];
    }
    if (sinks) den = den + (float)exp((double)(sinks[h] - m));
    for (uint32_t d = 0; d < vhd; d++) {
      float acc = 0.0f;
      for (uint32_t j = 0; j < len; j++) acc = acc + (sc[j] / den) * pccx_view_flat(vv, ((uint64_t)j * kvh + g) * vhd + d);
      pccx_view_set(out, out_row, h * vhd + d, acc);
    }
  }
  free(q);
  free(sc);
  free(sinks);
  return PCCX_OK;
}

/* kv_len / kv_blocks for a token at pos + row (vars: 0 pos, then kv_len and kv_blocks at len_k), and
 * for NPU tiles (chunk, ports present) kv_rows[layer][ch][j] at len_k + 2 + ch*ports + j: the K rows
 * of attention chunk ch carried by GEMV port j. */
static pccx_status kv_length(C *c, uint32_t row, double capacity, unsigned len_k, unsigned chunk_attr, unsigned ports_attr) {
  int64_t pos = 0;
  pccx_status s = get_var(c, 0, &pos);
  if (s != PCCX_OK) return s;
  int64_t len = pos + (int64_t)row + 1;
  if ((double)len > capacity) len = (int64_t)capacity;
  set_var(c, len_k, len);
  set_var(c, len_k + 1u, (len + PCCX_BEAT_CODES - 1) / PCCX_BEAT_CODES);
  if (!has(c, chunk_attr) || !has(c, ports_attr)) return PCCX_OK;
  int64_t chunk = (int64_t)num(c, chunk_attr, 0), ports = (int64_t)num(c, ports_attr, 0);
  if (chunk < 1 || ports < 1) return err(c, PCCX_ERR_HOST_OP, "chunk %lld, ports %lld", (long long)chunk, (long long)ports);
  int64_t chunks = ((int64_t)capacity + chunk - 1) / chunk;
  for (int64_t ch = 0; ch < chunks; ch++) {
    int64_t n = len - ch * chunk;
    n = n < 0 ? 0 : n > chunk ? chunk : n;
    int64_t r = (n + ports - 1) / ports;
    for (int64_t j = 0; j < ports; j++) {
      int64_t v = n - j * r;
      set_var(c, len_k + 2u + (unsigned)(ch * ports + j), v < 0 ? 0 : v > r ? r : v);
    }
  }
  return PCCX_OK;
}

static pccx_status op_kv_view(C *c) {
  return kv_length(c, (uint32_t)num(c, PCCX_ATTR_KV_VIEW_ROW, 0), num(c, PCCX_ATTR_KV_VIEW_CAPACITY, 0), 1u, PCCX_ATTR_KV_VIEW_CHUNK,
                   PCCX_ATTR_KV_VIEW_PORTS);
}

/* Notes bytes a raw writer wrote: merged with an overlapping or adjacent range of the operand, else
 * a new range (when the list is full, merged into the operand's last range). */
static void dirty(C *c, uint32_t operand, uint64_t off, uint64_t bytes) {
  pccx_dirty *last = NULL;
  for (uint32_t k = 0; k < c->n_dirty; k++) {
    pccx_dirty *d = &c->dirty[k];
    if (d->operand != operand) continue;
    last = d;
    if (off > d->byte_off + d->bytes || d->byte_off > off + bytes) continue;
    break;
  }
  int touches = last && !(off > last->byte_off + last->bytes || last->byte_off > off + bytes);
  if (!touches && c->n_dirty < PCCX_HOST_MAX_DIRTY) {
    c->dirty[c->n_dirty++] = (pccx_dirty){operand, off, bytes};
    return;
  }
  if (!last) return;
  uint64_t lo = last->byte_off < off ? last->byte_off : off, hi = last->byte_off + last->bytes > off + bytes ? last->byte_off + last->bytes : off + bytes;
  last->byte_off = lo;
  last->bytes = hi - lo;
}

${KV_TILES}
static pccx_status op_kv_write(C *c) {
  uint32_t row = (uint32_t)num(c, PCCX_ATTR_KV_WRITE_ROW, 0);
  double capacity = num(c, PCCX_ATTR_KV_WRITE_CAPACITY, 0);
  int64_t pos = 0;
  pccx_status s = get_var(c, 0, &pos);
  if (s != PCCX_OK) return s;
  if (capacity < 1.0) return err(c, PCCX_ERR_HOST_OP, "capacity %g", capacity);
  uint32_t slot = (uint32_t)((pos + (int64_t)row) % (int64_t)capacity);
  int format = (int)num(c, PCCX_ATTR_KV_WRITE_FORMAT, 0);
  if (format == PCCX_ATTR_KV_WRITE_FORMAT_BF16_ROWS) {
    double ks = num(c, PCCX_ATTR_KV_WRITE_KSCALE, 0);
    for (unsigned i = 0; i < 2u; i++) {
      float *x = row_of(&c->in[i], row);
      if (!x) return err(c, PCCX_ERR_NOMEM, "no memory");
      uint32_t n = c->in[i].width;
      pccx_view o = c->out[i];
      o.dtype = PCCX_DTYPE_BF16;
      if ((uint64_t)(slot + 1u) * n * 2u > o.avail) {
        free(x);
        return err(c, PCCX_ERR_HOST_OP, "slot %u of %u values is past the ring operand", slot, n);
      }
      for (uint32_t j = 0; j < n; j++) pccx_view_flat_set(&o, (uint64_t)slot * n + j, i == 0 ? (float)(ks * (double)x[j]) : x[j]);
      dirty(c, i, (uint64_t)slot * n * 2u, (uint64_t)n * 2u);
      free(x);
    }
  } else if (format == PCCX_ATTR_KV_WRITE_FORMAT_INT4_TILES) {
    s = kv_write_tiles(c, slot, row);
    if (s != PCCX_OK) return s;
  } else {
    return err(c, PCCX_ERR_HOST_OP, "unknown format %d", format);
  }
  set_var(c, 1, slot);
  return kv_length(c, row, capacity, 2u, PCCX_ATTR_KV_WRITE_CHUNK, PCCX_ATTR_KV_WRITE_PORTS);
}

`;
