/**
 * pccx_host_ops.c, part 2: element-wise and normalisation host functions (activation, glu, add,
 * mean, mul, mul_weight, rms_norm, rms_scale, layer_norm, magnitude_match, gaussian_topk, softcap,
 * scale, slice, argmax), as src/validate/sim/host-ops.ts computes them.
 */
export const HOST_OPS_ELEMENTWISE = `/* ---- element-wise and normalisation functions (sim host-ops.ts) ---- */

static float act(int fn, float x) {
  switch (fn) {
  case PCCX_ATTR_ACTIVATION_FN_SILU: return x / (1.0f + (float)exp(-(double)x));
  case PCCX_ATTR_ACTIVATION_FN_GELU: return (0.5f * x) * (1.0f + (float)erf((double)(x / 1.41421353816986083984375f)));
  case PCCX_ATTR_ACTIVATION_FN_GELU_TANH: {
    float inner = 0.79788458347320556640625f * (x + (float)(0.044715 * (double)((x * x) * x)));
    return (0.5f * x) * (1.0f + (float)tanh((double)inner));
  }
  case PCCX_ATTR_ACTIVATION_FN_RELU: return isnan(x) ? x : (x > 0.0f ? x : 0.0f);
  case PCCX_ATTR_ACTIVATION_FN_TANH: return (float)tanh((double)x);
  default: return 1.0f / (1.0f + (float)exp(-(double)x));
  }
}

static pccx_status op_activation(C *c) {
  int fn = (int)num(c, PCCX_ATTR_ACTIVATION_FN, 0);
  pccx_view *x = &c->in[0], *y = &c->out[0];
  if (!same_shape(x, y)) return err(c, PCCX_ERR_HOST_OP, "operands of %ux%u and %ux%u elements do not match", x->rows, x->width, y->rows, y->width);
  for (uint32_t t = 0; t < y->rows; t++) {
    for (uint32_t j = 0; j < y->width; j++) pccx_view_set(y, t, j, act(fn, pccx_view_get(x, t, j)));
  }
  return PCCX_OK;
}

static pccx_status op_glu(C *c) {
  int fn = (int)num(c, PCCX_ATTR_GLU_FN, 0);
  int inter = num(c, PCCX_ATTR_GLU_INTERLEAVED, 0) != 0.0;
  pccx_view *g = &c->in[0], *u = inter ? g : (c->n_in > 1 ? &c->in[1] : NULL), *y = &c->out[0];
  if (!u) return err(c, PCCX_ERR_HOST_OP, "needs an up operand unless interleaved");
  double alpha = fn == PCCX_ATTR_GLU_FN_CLAMPED_SWIGLU ? num(c, PCCX_ATTR_GLU_ALPHA, 0) : 0.0;
  double limit = fn == PCCX_ATTR_GLU_FN_CLAMPED_SWIGLU ? num(c, PCCX_ATTR_GLU_LIMIT, 0) : 0.0;
  for (uint32_t t = 0; t < y->rows; t++) {
    for (uint32_t j = 0; j < y->width; j++) {
      float gate = inter ? pccx_view_get(g, t, 2u * j) : pccx_view_get(g, t, j);
      float up = inter ? pccx_view_get(g, t, 2u * j + 1u) : pccx_view_get(u, t, j);
      float r;
      if (fn == PCCX_ATTR_GLU_FN_CLAMPED_SWIGLU) {
        double gg = fmin((double)gate, limit), uu = fmin(fmax((double)up, -limit), limit);
        float num_ = (float)((float)(uu + 1.0) * gg);
        float den = 1.0f + (float)exp((double)(float)(-alpha * gg));
        r = num_ / den;
      } else {
        r = act(fn, gate) * up;
      }
      pccx_view_set(y, t, j, r);
    }
  }
  return PCCX_OK;
}

static pccx_status op_mul(C *c) {
  pccx_view *a = &c->in[0], *b = &c->in[1], *y = &c->out[0];
  int bc = num(c, PCCX_ATTR_MUL_BROADCAST, 0) != 0.0;
  for (uint32_t t = 0; t < y->rows; t++) {
    for (uint32_t j = 0; j < y->width; j++) pccx_view_set(y, t, j, pccx_view_get(a, t, j) * pccx_view_get(b, t, bc ? 0u : j));
  }
  return PCCX_OK;
}

static pccx_status op_add(C *c) {
  pccx_view *a = &c->in[0], *b = &c->in[1], *y = &c->out[0];
  if (!same_shape(a, b)) return err(c, PCCX_ERR_HOST_OP, "operands of %ux%u and %ux%u elements do not match", a->rows, a->width, b->rows, b->width);
  for (uint32_t t = 0; t < y->rows; t++) {
    for (uint32_t j = 0; j < y->width; j++) pccx_view_set(y, t, j, pccx_view_get(a, t, j) + pccx_view_get(b, t, j));
  }
  return PCCX_OK;
}

static pccx_status op_mean(C *c) {
  uint32_t n = (uint32_t)num(c, PCCX_ATTR_MEAN_N, 0);
  if (n == 0 || n > c->n_in) return err(c, PCCX_ERR_HOST_OP, "n = %u of %u inputs", n, c->n_in);
  pccx_view *y = &c->out[0];
  float inv = (float)(1.0 / (double)n);
  for (uint32_t t = 0; t < y->rows; t++) {
    for (uint32_t j = 0; j < y->width; j++) {
      float s = 0.0f;
      for (uint32_t k = 0; k < n; k++) s = s + pccx_view_get(&c->in[k], t, j);
      pccx_view_set(y, t, j, s * inv);
    }
  }
  return PCCX_OK;
}

static pccx_status op_mul_weight(C *c) {
  pccx_view *x = &c->in[0], *w = &c->in[1], *y = &c->out[0];
  for (uint32_t t = 0; t < y->rows; t++) {
    for (uint32_t j = 0; j < y->width; j++) pccx_view_set(y, t, j, pccx_view_get(x, t, j) * pccx_view_get(w, 0, w->width == 1u ? 0u : j));
  }
  return PCCX_OK;
}

static float sum_sq(const float *r, uint32_t from, uint32_t to) {
  float s = 0.0f;
  for (uint32_t i = from; i < to; i++) s = s + r[i] * r[i];
  return s;
}

static float sum(const float *r, uint32_t n) {
  float s = 0.0f;
  for (uint32_t i = 0; i < n; i++) s = s + r[i];
  return s;
}

static pccx_status op_rms_norm(C *c) {
  pccx_view *w = num(c, PCCX_ATTR_RMS_NORM_HASWEIGHT, 0) != 0.0 ? &c->in[1] : NULL;
  double eps = num(c, PCCX_ATTR_RMS_NORM_EPS, 0), off = num(c, PCCX_ATTR_RMS_NORM_WEIGHTOFFSET, 0);
  uint32_t gs = (uint32_t)num(c, PCCX_ATTR_RMS_NORM_GROUPSIZE, 0);
  pccx_view *x = &c->in[0], *y = &c->out[0];
  if (gs == 0 || x->width % gs) return err(c, PCCX_ERR_HOST_OP, "width %u is not a multiple of groupSize %u", x->width, gs);
  for (uint32_t t = 0; t < y->rows; t++) {
    float *row = row_of(x, t);
    if (!row) return err(c, PCCX_ERR_NOMEM, "no memory");
    for (uint32_t g0 = 0; g0 < x->width; g0 += gs) {
      float ms = sum_sq(row, g0, g0 + gs) / (float)gs;
      float r = 1.0f / (float)sqrt((double)(float)((double)ms + eps));
      for (uint32_t j = g0; j < g0 + gs; j++) {
        float xr = row[j] * r;
        pccx_view_set(y, t, j, w ? xr * (float)(off + (double)pccx_view_get(w, 0, j - g0)) : xr);
      }
    }
    free(row);
  }
  return PCCX_OK;
}

static pccx_status op_rms_scale(C *c) {
  float *row = row_of(&c->in[0], 0);
  if (!row) return err(c, PCCX_ERR_NOMEM, "no memory");
  double eps = num(c, PCCX_ATTR_RMS_SCALE_EPS, 0);
  float ms = sum_sq(row, 0, c->in[0].width) / (float)c->in[0].width;
  pccx_view_set(&c->out[0], 0, 0, 1.0f / (float)sqrt((double)(float)((double)ms + eps)));
  free(row);
  return PCCX_OK;
}

static pccx_status op_layer_norm(C *c) {
  unsigned k = 1;
  pccx_view *w = num(c, PCCX_ATTR_LAYER_NORM_HASWEIGHT, 0) != 0.0 ? &c->in[k++] : NULL;
  pccx_view *b = num(c, PCCX_ATTR_LAYER_NORM_HASBIAS, 0) != 0.0 ? &c->in[k++] : NULL;
  double eps = num(c, PCCX_ATTR_LAYER_NORM_EPS, 0);
  pccx_view *x = &c->in[0], *y = &c->out[0];
  for (uint32_t t = 0; t < y->rows; t++) {
    float *row = row_of(x, t);
    if (!row) return err(c, PCCX_ERR_NOMEM, "no memory");
    uint32_t n = x->width;
    float mu = sum(row, n) / (float)n, v = 0.0f;
    for (uint32_t j = 0; j < n; j++) v = v + (row[j] - mu) * (row[j] - mu);
    float inv = (float)sqrt((double)(float)((double)(v / (float)n) + eps));
    for (uint32_t j = 0; j < n; j++) {
      float o = (row[j] - mu) / inv;
      if (w) o = o * pccx_view_get(w, 0, j);
      if (b) o = o + pccx_view_get(b, 0, j);
      pccx_view_set(y, t, j, o);
    }
    free(row);
  }
  return PCCX_OK;
}

static pccx_status op_magnitude_match(C *c) {
  double eps = num(c, PCCX_ATTR_MAGNITUDE_MATCH_EPS, 0);
  pccx_view *x = &c->in[0], *ref = &c->in[1], *y = &c->out[0];
  for (uint32_t t = 0; t < y->rows; t++) {
    float *xr = row_of(x, t), *rr = row_of(ref, t);
    if (!xr || !rr) {
      free(xr);
      free(rr);
      return err(c, PCCX_ERR_NOMEM, "no memory");
    }
    float target = (float)sqrt((double)(sum_sq(rr, 0, ref->width) / (float)ref->width));
    float cur = (float)sqrt(fmax((double)(sum_sq(xr, 0, x->width) / (float)x->width), eps));
    for (uint32_t j = 0; j < x->width; j++) pccx_view_set(y, t, j, (xr[j] * target) / cur);
    free(xr);
    free(rr);
  }
  return PCCX_OK;
}

static pccx_status op_gaussian_topk(C *c) {
  double z = num(c, PCCX_ATTR_GAUSSIAN_TOPK_Z, 0);
  pccx_view *x = &c->in[0], *y = &c->out[0];
  for (uint32_t t = 0; t < y->rows; t++) {
    float *row = row_of(x, t);
    if (!row) return err(c, PCCX_ERR_NOMEM, "no memory");
    uint32_t n = x->width;
    float mu = sum(row, n) / (float)n, v = 0.0f;
    for (uint32_t j = 0; j < n; j++) v = v + (row[j] - mu) * (row[j] - mu);
    float sd = (float)sqrt((double)(v / (float)n));
    float cut = mu + (float)((double)sd * z);
    for (uint32_t j = 0; j < n; j++) {
      float d = row[j] - cut;
      pccx_view_set(y, t, j, isnan(d) ? d : (d > 0.0f ? d : 0.0f));
    }
    free(row);
  }
  return PCCX_OK;
}

static pccx_status op_softcap(C *c) {
  double cap = num(c, PCCX_ATTR_SOFTCAP_CAP, 0);
  pccx_view *x = &c->in[0], *y = &c->out[0];
  /* attention scores: the operands' elements are relocated to the visible part */
  for (uint32_t t = 0; t < y->rows; t++) {
    for (uint32_t j = 0; j < x->width && j < y->width; j++) {
      float q = (float)((double)pccx_view_get(x, t, j) / cap);
      pccx_view_set(y, t, j, (float)(cap * (double)(float)tanh((double)q)));
    }
  }
  return PCCX_OK;
}

static pccx_status op_scale(C *c) {
  double k = num(c, PCCX_ATTR_SCALE_FACTOR, 0);
  pccx_view *x = &c->in[0], *y = &c->out[0];
  if (!same_shape(x, y)) return err(c, PCCX_ERR_HOST_OP, "operands of %ux%u and %ux%u elements do not match", x->rows, x->width, y->rows, y->width);
  for (uint32_t t = 0; t < y->rows; t++) {
    for (uint32_t j = 0; j < y->width; j++) pccx_view_set(y, t, j, (float)((double)pccx_view_get(x, t, j) * k));
  }
  return PCCX_OK;
}

static pccx_status op_slice(C *c) {
  uint32_t start = (uint32_t)num(c, PCCX_ATTR_SLICE_START, 0), count = (uint32_t)num(c, PCCX_ATTR_SLICE_COUNT, 0);
  pccx_view *x = &c->in[0], *y = &c->out[0];
  for (uint32_t t = 0; t < y->rows; t++) {
    for (uint32_t j = 0; j < count; j++) pccx_view_set(y, t, j, pccx_view_get(x, t, start + j));
  }
  return PCCX_OK;
}

static pccx_status op_argmax(C *c) {
  pccx_view *x = &c->in[0];
  uint32_t t = x->rows - 1u, best = 0;
  float bv = pccx_view_get(x, t, 0);
  for (uint32_t i = 1; i < x->width; i++) {
    float v = pccx_view_get(x, t, i);
    if (v > bv) {
      best = i;
      bv = v;
    }
  }
  pccx_view_set(&c->out[0], 0, 0, (float)best);
  return PCCX_OK;
}

`;
