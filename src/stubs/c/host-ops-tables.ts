/**
 * pccx_host_ops.c, part 4: RoPE from a cos/sin table, AltUp prediction and correction, table row
 * gathers (from DDR or from weights.bin), RoPE table fills, constant fills and sink-word spreads.
 */
export const HOST_OPS_TABLES = `static pccx_status op_rope(C *c) {
  uint32_t heads = (uint32_t)num(c, PCCX_ATTR_ROPE_HEADS, 0), hd = (uint32_t)num(c, PCCX_ATTR_ROPE_HEADDIM, 0);
  uint32_t off = (uint32_t)num(c, PCCX_ATTR_ROPE_OFFSET, 0), rd = (uint32_t)num(c, PCCX_ATTR_ROPE_ROTARYDIM, 0);
  int half_style = (int)num(c, PCCX_ATTR_ROPE_STYLE, 0) == PCCX_ATTR_ROPE_STYLE_HALF;
  uint32_t row0 = (uint32_t)num(c, PCCX_ATTR_ROPE_ROW, 0);
  uint64_t row_bytes = (uint64_t)num(c, PCCX_ATTR_ROPE_TABLEROWBYTES, 0);
  pccx_view *x = &c->in[0], *tab = &c->in[1], *y = &c->out[0];
  uint32_t half = rd / 2u, epw = c->p->l2_elems_per_word;
  uint32_t sin_at = (half + epw - 1u) / epw * epw;
  int64_t pos = 0;
  pccx_status s = get_var(c, 0, &pos);
  if (s != PCCX_OK) return s;
  for (uint32_t t = 0; t < y->rows; t++) {
    uint64_t base = ((uint64_t)(pos + row0 + t) * row_bytes) / 2u;
    if (base + sin_at + half > tab->span) return err(c, PCCX_ERR_HOST_OP, "position %lld is past the rope table", (long long)(pos + row0 + t));
    float *src = row_of(x, t), *dst = row_of(x, t);
    if (!src || !dst) {
      free(src);
      free(dst);
      return err(c, PCCX_ERR_NOMEM, "no memory");
    }
    for (uint32_t h = 0; h < heads; h++) {
      for (uint32_t i = 0; i < half; i++) {
        uint32_t a = h * hd + off + (half_style ? i : 2u * i), b = h * hd + off + (half_style ? i + half : 2u * i + 1u);
        float cs = pccx_view_flat(tab, base + i), sn = pccx_view_flat(tab, base + sin_at + i);
        dst[a] = src[a] * cs - src[b] * sn;
        dst[b] = src[b] * cs + src[a] * sn;
      }
    }
    for (uint32_t j = 0; j < y->width; j++) pccx_view_set(y, t, j, dst[j]);
    free(src);
    free(dst);
  }
  return PCCX_OK;
}

static pccx_status op_altup_predict(C *c) {
  uint32_t n = (uint32_t)num(c, PCCX_ATTR_ALTUP_PREDICT_N, 0);
  if (n == 0 || n > 8u || c->n_in < n + 2u) return err(c, PCCX_ERR_HOST_OP, "n = %u streams", n);
  pccx_view *mods = &c->in[n], *coefs = &c->in[n + 1u];
  uint32_t width = c->in[0].width;
  float co[64], *rx[8] = {0}, *out = malloc((width ? width : 1u) * sizeof *out);
  pccx_status st = out ? PCCX_OK : err(c, PCCX_ERR_NOMEM, "no memory");
  for (uint32_t t = 0; t < c->out[0].rows && st == PCCX_OK; t++) {
    float *m = row_of(mods, t);
    if (!m) {
      st = err(c, PCCX_ERR_NOMEM, "no memory");
      break;
    }
    for (uint32_t k = 0; k < n * n; k++) {
      float acc = 0.0f;
      for (uint32_t i = 0; i < n; i++) acc = acc + pccx_view_flat(coefs, (uint64_t)k * n + i) * m[i];
      co[k] = acc;
    }
    free(m);
    for (uint32_t i = 0; i < n; i++) rx[i] = row_of(&c->in[i], t);
    for (uint32_t j = 0; j < n; j++) {
      for (uint32_t e = 0; e < width; e++) {
        float acc = rx[j][e];
        for (uint32_t i = 0; i < n; i++) acc = acc + co[j * n + i] * rx[i][e];
        out[e] = acc;
      }
      for (uint32_t e = 0; e < width; e++) pccx_view_set(&c->out[j], t, e, out[e]);
    }
    for (uint32_t i = 0; i < n; i++) {
      free(rx[i]);
      rx[i] = NULL;
    }
  }
  free(out);
  return st;
}

static pccx_status op_altup_correct(C *c) {
  uint32_t n = (uint32_t)num(c, PCCX_ATTR_ALTUP_CORRECT_N, 0), active = (uint32_t)num(c, PCCX_ATTR_ALTUP_CORRECT_ACTIVEINDEX, 0);
  if (n == 0 || n > 8u || active >= n || c->n_in < n + 3u) return err(c, PCCX_ERR_HOST_OP, "n = %u streams, active %u", n, active);
  int clipped = has(c, PCCX_ATTR_ALTUP_CORRECT_COEFCLIP);
  double clip = num(c, PCCX_ATTR_ALTUP_CORRECT_COEFCLIP, 0);
  pccx_view *activated = &c->in[n], *mods = &c->in[n + 1u], *coefs = &c->in[n + 2u];
  uint32_t width = activated->width;
  float co[8];
  for (uint32_t t = 0; t < c->out[0].rows; t++) {
    float *m = row_of(mods, t), *a = row_of(activated, t), *pa = row_of(&c->in[active], t);
    if (!m || !a || !pa) {
      free(m);
      free(a);
      free(pa);
      return err(c, PCCX_ERR_NOMEM, "no memory");
    }
    for (uint32_t j = 0; j < n; j++) {
      float acc = 0.0f;
      for (uint32_t i = 0; i < n; i++) {
        double w = pccx_view_flat(coefs, (uint64_t)j * n + i);
        if (clipped) w = fmin(fmax(w, -clip), clip);
        acc = acc + (float)(w * (double)m[i]);
      }
      co[j] = acc + 1.0f;
    }
    for (uint32_t e = 0; e < width; e++) a[e] = a[e] - pa[e]; /* innovation */
    for (uint32_t j = 0; j < n; j++) {
      for (uint32_t e = 0; e < width; e++) pccx_view_set(&c->out[j], t, e, pccx_view_get(&c->in[j], t, e) + co[j] * a[e]);
    }
    free(m);
    free(a);
    free(pa);
  }
  return PCCX_OK;
}

/* len bytes at byte offset off of an input: from its DDR buffer, or from weights.bin. */
static pccx_status input_bytes(C *c, const pccx_view *v, uint64_t off, void *dst, size_t len) {
  if (v->in_file) {
    if (!c->fetch || c->fetch(c->fetch_ctx, v->file_offset + off, dst, len) != 0) {
      return err(c, PCCX_ERR_IO, "cannot read %zu bytes at %llu of the weight image", len, (unsigned long long)(v->file_offset + off));
    }
    return PCCX_OK;
  }
  if (off > v->avail || len > v->avail - off) return err(c, PCCX_ERR_HOST_OP, "bytes %llu..%llu are past the operand's region", (unsigned long long)off, (unsigned long long)(off + len));
  memcpy(dst, v->base + off, len);
  return PCCX_OK;
}

/* Rows by token: row r at table + r * rowStride, BF16 or an INT4 table row (codes padded to a beat,
 * then the row's scales in the target's scale dtype, one per group elements or per row). */
static pccx_status op_gather_rows(C *c) {
  uint32_t width = (uint32_t)num(c, PCCX_ATTR_GATHER_ROWS_WIDTH, 0), group = (uint32_t)num(c, PCCX_ATTR_GATHER_ROWS_GROUP, 0);
  double scale = num(c, PCCX_ATTR_GATHER_ROWS_SCALE, 1);
  uint64_t stride = (uint64_t)num(c, PCCX_ATTR_GATHER_ROWS_ROWSTRIDE, 0);
  int bf16 = (int)num(c, PCCX_ATTR_GATHER_ROWS_FORMAT, 0) == PCCX_ATTR_GATHER_ROWS_FORMAT_BF16;
  uint64_t codes = (uint64_t)((width + PCCX_BEAT_CODES - 1u) / PCCX_BEAT_CODES) * PCCX_BEAT_BYTES;
  uint64_t len = bf16 ? 2u * (uint64_t)width : codes + (uint64_t)PCCX_SCALE_BYTES * (group ? (width + group - 1u) / group : 1u);
  uint8_t *b = malloc((size_t)(len ? len : 1u));
  if (!b) return err(c, PCCX_ERR_NOMEM, "no memory");
  pccx_status s = PCCX_OK;
  for (uint32_t t = 0; t < c->h->var_count && s == PCCX_OK; t++) {
    int64_t tok = 0;
    s = get_var(c, t, &tok);
    if (s == PCCX_OK && tok < 0) s = err(c, PCCX_ERR_HOST_OP, "token %lld", (long long)tok);
    if (s == PCCX_OK) s = input_bytes(c, &c->in[0], (uint64_t)tok * stride, b, (size_t)len);
    for (uint32_t j = 0; j < width && s == PCCX_OK; j++) {
      float x;
      if (bf16) {
        x = pccx_bf16_to_f32((uint16_t)(b[2u * j] | (b[2u * j + 1u] << 8)));
      } else {
        unsigned nib = ((j & 1u) ? b[j >> 1] >> 4 : b[j >> 1]) & 15u;
        x = (float)((int)(nib ^ 8u) - 8) * scale_at(b + codes + PCCX_SCALE_BYTES * (group ? j / group : 0u), PCCX_SCALE_DTYPE);
      }
      pccx_view_set(&c->out[0], t, j, PCCX_FORMULA_BF16((float)(scale * (double)x)));
    }
  }
  free(b);
  return s;
}

/* A RoPE cos/sin table, one row per position: [cos | sin], each half padded to halfBytes. */
static pccx_status op_rope_table(C *c) {
  int mode = (int)num(c, PCCX_ATTR_ROPE_TABLE_MODE, 0);
  uint32_t d = (uint32_t)num(c, PCCX_ATTR_ROPE_TABLE_ROTARYDIM, 0), positions = (uint32_t)num(c, PCCX_ATTR_ROPE_TABLE_POSITIONS, 0);
  uint64_t half = (uint64_t)num(c, PCCX_ATTR_ROPE_TABLE_HALFBYTES, 0);
  double af = num(c, PCCX_ATTR_ROPE_TABLE_ATTENTIONFACTOR, 1), switch_at = num(c, PCCX_ATTR_ROPE_TABLE_SWITCHAT, 0);
  double theta = num(c, PCCX_ATTR_ROPE_TABLE_THETA, 0), factor = num(c, PCCX_ATTR_ROPE_TABLE_FACTOR, 1), max_pos = num(c, PCCX_ATTR_ROPE_TABLE_MAXPOS, 1);
  const pccx_attr *inv = attr(c, PCCX_ATTR_ROPE_TABLE_INVFREQ), *inv_long = attr(c, PCCX_ATTR_ROPE_TABLE_INVFREQLONG);
  pccx_view *o = &c->out[0];
  uint64_t total = (uint64_t)positions * 2u * half;
  if (total > o->avail) return err(c, PCCX_ERR_HOST_OP, "%u positions of %llu bytes are past the output region", positions, (unsigned long long)(2u * half));
  if ((mode != PCCX_ATTR_ROPE_TABLE_MODE_DYNAMIC && inv->arr_count < d / 2u) ||
      (mode == PCCX_ATTR_ROPE_TABLE_MODE_SWITCH && inv_long->arr_count < d / 2u)) {
    return err(c, PCCX_ERR_HOST_OP, "needs %u inverse frequencies", d / 2u);
  }
  for (uint32_t p = 0; p < positions; p++) {
    float base = 0.0f;
    if (mode == PCCX_ATTR_ROPE_TABLE_MODE_DYNAMIC) {
      double len = (double)(p + 1u) > max_pos ? (double)(p + 1u) : max_pos;
      float r = (float)((double)(float)(factor * len) / max_pos) - (float)(factor - 1.0);
      base = (float)(theta * (double)(float)pow((double)r, (double)(float)((double)d / (double)(d - 2u))));
    }
    for (uint32_t i = 0; i < d / 2u; i++) {
      float fr;
      if (mode == PCCX_ATTR_ROPE_TABLE_MODE_SWITCH && (double)(p + 1u) > switch_at) fr = (float)c->p->attr_arrays[inv_long->arr_first + i];
      else if (mode != PCCX_ATTR_ROPE_TABLE_MODE_DYNAMIC) fr = (float)c->p->attr_arrays[inv->arr_first + i];
      else fr = (float)pow((double)base, (double)(float)((-2.0 * i) / (double)d));
      float a = (float)p * fr;
      float cv = (float)((double)(float)cos((double)a) * af), sv = (float)((double)(float)sin((double)a) * af);
      uint16_t cs = pccx_f32_to_bf16(cv);
      uint16_t sn = pccx_f32_to_bf16(sv);
      uint64_t k = (uint64_t)p * 2u * half + 2u * i;
      uint8_t *at = o->base + k;
      at[0] = (uint8_t)(cs & 0xFFu);
      at[1] = (uint8_t)(cs >> 8);
      at[half] = (uint8_t)(sn & 0xFFu);
      at[half + 1u] = (uint8_t)(sn >> 8);
      if (o->wide) { /* exact: the values, unrounded (halfBytes is even) */
        o->wide[k >> 1] = cv;
        o->wide[(k + half) >> 1] = sv;
      }
    }
  }
  dirty(c, 0, 0, total);
  return PCCX_OK;
}

/* Zeros, then runs (first element, count, value) of one value each. */
static pccx_status op_fill(C *c) {
  const pccx_attr *runs = attr(c, PCCX_ATTR_FILL_RUNS);
  pccx_view *out = &c->out[0];
  if (runs->arr_count % 3u) return err(c, PCCX_ERR_HOST_OP, "runs holds %u numbers, not triples", runs->arr_count);
  for (uint64_t e = 0; e < out->span; e++) pccx_view_flat_set(out, e, 0.0f);
  for (uint32_t k = 0; k < runs->arr_count; k += 3u) {
    const double *r = &c->p->attr_arrays[runs->arr_first + k];
    if (r[0] < 0 || r[1] < 0 || r[0] + r[1] > (double)out->span) {
      return err(c, PCCX_ERR_HOST_OP, "run %g..%g is past the %llu-element output", r[0], r[0] + r[1] - 1, (unsigned long long)out->span);
    }
    float v = PCCX_FORMULA_BF16((float)r[2]);
    for (uint64_t e = (uint64_t)r[0]; e < (uint64_t)(r[0] + r[1]); e++) pccx_view_flat_set(out, e, v);
  }
  return PCCX_OK;
}

static pccx_status op_spread_words(C *c) {
  float fillv = (int)num(c, PCCX_ATTR_SPREAD_WORDS_FILL, 0) == PCCX_ATTR_SPREAD_WORDS_FILL_NEG_INF ? -INFINITY : 0.0f;
  pccx_view *v = &c->in[0], *out = &c->out[0];
  uint32_t epw = c->p->l2_elems_per_word;
  for (uint64_t i = 0; i < v->span; i++) {
    pccx_view_flat_set(out, i * epw, pccx_view_flat(v, i));
    for (uint32_t e = 1; e < epw; e++) pccx_view_flat_set(out, i * epw + e, fillv);
  }
  return PCCX_OK;
}

`;
