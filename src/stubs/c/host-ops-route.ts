/**
 * pccx_host_ops.c, part 5: MoE top-k routing, and the dispatch of a host call to its function
 * (with the out-of-operand check every call ends with).
 */
export const HOST_OPS_ROUTE = `typedef struct prob_ix {
  float s;
  uint32_t i;
} prob_ix;

static int by_score_desc(const void *a, const void *b) {
  const prob_ix *x = a, *y = b;
  if (x->s != y->s) return x->s < y->s ? 1 : -1;
  return x->i < y->i ? -1 : 1;
}

static pccx_status op_moe_route(C *c) {
  uint32_t e = (uint32_t)num(c, PCCX_ATTR_MOE_ROUTE_NUMEXPERTS, 0), k = (uint32_t)num(c, PCCX_ATTR_MOE_ROUTE_TOPK, 0);
  uint32_t row = (uint32_t)num(c, PCCX_ATTR_MOE_ROUTE_ROW, 0);
  int sigmoid = (int)num(c, PCCX_ATTR_MOE_ROUTE_SCORING, 0) == PCCX_ATTR_MOE_ROUTE_SCORING_SIGMOID;
  unsigned next = 1;
  float *bias = num(c, PCCX_ATTR_MOE_ROUTE_HASBIAS, 0) != 0.0 ? row_of(&c->in[next++], 0) : NULL;
  float *per = num(c, PCCX_ATTR_MOE_ROUTE_HASEXPERTSCALE, 0) != 0.0 ? row_of(&c->in[next++], 0) : NULL;
  float *lg = row_of(&c->in[0], row), *s = malloc((e ? e : 1u) * sizeof *s);
  prob_ix *ch = malloc((e ? e : 1u) * sizeof *ch);
  pccx_status st = PCCX_OK;
  if (!lg || !s || !ch) st = err(c, PCCX_ERR_NOMEM, "no memory");
  if (st == PCCX_OK && (k > e || e > c->in[0].width)) st = err(c, PCCX_ERR_HOST_OP, "topK %u of %u experts", k, e);
  if (st == PCCX_OK) {
    if (sigmoid) {
      for (uint32_t i = 0; i < e; i++) s[i] = 1.0f / (1.0f + (float)exp(-(double)lg[i]));
    } else {
      float m = -INFINITY, total = 0.0f;
      for (uint32_t i = 0; i < e; i++) m = fmaxf(m, lg[i]);
      for (uint32_t i = 0; i < e; i++) {
        s[i] = (float)exp((double)(lg[i] - m));
        total = total + s[i];
      }
      for (uint32_t i = 0; i < e; i++) s[i] = s[i] / total;
    }
    for (uint32_t i = 0; i < e; i++) {
      ch[i].s = bias ? s[i] + bias[i] : s[i];
      ch[i].i = i;
    }
    const pccx_attr *ga = attr(c, PCCX_ATTR_MOE_ROUTE_GROUPS);
    if (ga->present && ga->arr_count >= 3u) {
      uint32_t count = (uint32_t)c->p->attr_arrays[ga->arr_first], keep = (uint32_t)c->p->attr_arrays[ga->arr_first + 1u];
      int top2 = c->p->attr_arrays[ga->arr_first + 2u] != 0.0;
      uint32_t size = count ? e / count : e;
      prob_ix gs[256];
      for (uint32_t g = 0; g < count && g < 256u; g++) {
        float a = -INFINITY, b = -INFINITY;
        for (uint32_t i = g * size; i < (g + 1u) * size; i++) {
          float v = ch[i].s;
          if (v > a) {
            b = a;
            a = v;
          } else if (v > b) {
            b = v;
          }
        }
        gs[g].s = top2 ? a + b : a;
        gs[g].i = g;
      }
      qsort(gs, count, sizeof *gs, by_score_desc);
      for (uint32_t i = 0; i < e; i++) {
        int kept = 0;
        for (uint32_t g = 0; g < keep && g < count; g++) kept |= gs[g].i == i / size;
        if (!kept) ch[i].s = -INFINITY;
      }
    }
    qsort(ch, e, sizeof *ch, by_score_desc);
    float total = 1.0f;
    int norm = num(c, PCCX_ATTR_MOE_ROUTE_NORMALIZE, 0) != 0.0;
    if (norm) {
      total = 0.0f;
      for (uint32_t j = 0; j < k; j++) total = total + s[ch[j].i];
    }
    double rs = num(c, PCCX_ATTR_MOE_ROUTE_ROUTEDSCALE, 1);
    pccx_view *out = &c->out[0];
    for (uint32_t j = 0; j < k; j++) {
      float w = s[ch[j].i];
      if (norm) w = w / total;
      float scaled = (float)((double)w * rs);
      if (per) scaled = scaled * per[ch[j].i];
      if (out->rows >= k) pccx_view_set(out, j, 0, scaled);
      else pccx_view_flat_set(out, (uint64_t)j * c->p->l2_elems_per_word, scaled);
      set_var(c, j, ch[j].i);
    }
  }
  free(bias);
  free(per);
  free(lg);
  free(s);
  free(ch);
  return st;
}

static pccx_status dispatch(pccx_hcall *c);

pccx_status pccx_host_run(pccx_hcall *c) {
  pccx_status s = dispatch(c);
  for (uint32_t i = 0; s == PCCX_OK && i < c->n_in + c->n_out; i++) {
    const pccx_view *v = i < c->n_in ? &c->in[i] : &c->out[i - c->n_in];
    if (!v->oob) continue;
    if (v->oob_t == UINT64_MAX) {
      s = err(c, PCCX_ERR_HOST_OP, "element %llu is outside operand %u of %llu elements", (unsigned long long)v->oob_j, i, (unsigned long long)v->span);
    } else {
      s = err(c, PCCX_ERR_HOST_OP, "element (%llu, %llu) is outside operand %u of %u x %u", (unsigned long long)v->oob_t, (unsigned long long)v->oob_j, i,
              v->rows, v->width);
    }
  }
  return s;
}

static pccx_status dispatch(pccx_hcall *c) {
  switch (c->h->fn) {
  case PCCX_HOST_ACTIVATION: return op_activation(c);
  case PCCX_HOST_ADD: return op_add(c);
  case PCCX_HOST_ALTUP_CORRECT: return op_altup_correct(c);
  case PCCX_HOST_ALTUP_PREDICT: return op_altup_predict(c);
  case PCCX_HOST_ARGMAX: return op_argmax(c);
  case PCCX_HOST_ATTENTION: return op_attention(c);
  case PCCX_HOST_FILL: return op_fill(c);
  case PCCX_HOST_GATHER_ROWS: return op_gather_rows(c);
  case PCCX_HOST_GAUSSIAN_TOPK: return op_gaussian_topk(c);
  case PCCX_HOST_GLU: return op_glu(c);
  case PCCX_HOST_KV_VIEW: return op_kv_view(c);
  case PCCX_HOST_KV_WRITE: return op_kv_write(c);
  case PCCX_HOST_LAYER_NORM: return op_layer_norm(c);
  case PCCX_HOST_MAGNITUDE_MATCH: return op_magnitude_match(c);
  case PCCX_HOST_MEAN: return op_mean(c);
  case PCCX_HOST_MOE_ROUTE: return op_moe_route(c);
  case PCCX_HOST_MUL: return op_mul(c);
  case PCCX_HOST_MUL_WEIGHT: return op_mul_weight(c);
  case PCCX_HOST_RMS_NORM: return op_rms_norm(c);
  case PCCX_HOST_RMS_SCALE: return op_rms_scale(c);
  case PCCX_HOST_ROPE: return op_rope(c);
  case PCCX_HOST_ROPE_TABLE: return op_rope_table(c);
  case PCCX_HOST_SCALE: return op_scale(c);
  case PCCX_HOST_SLICE: return op_slice(c);
  case PCCX_HOST_SOFTCAP: return op_softcap(c);
  case PCCX_HOST_SPREAD_WORDS: return op_spread_words(c);
  default: return err(c, PCCX_ERR_HOST_OP, "unknown function id %u", c->h->fn);
  }
}
`;
