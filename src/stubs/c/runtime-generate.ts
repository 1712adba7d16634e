/**
 * pccx_runtime.c, part 3: generation — reading the logits, feeding prompt chunks and decode tokens
 * in the simulator's order, greedy argmax or seeded temperature/top-p sampling, pccx_reset.
 */
export const RUNTIME_GENERATE = `/* ---- generation ---- */

static pccx_status read_logits(pccx_ctx *c) {
  const pccx_program *p = c->p;
  const uint8_t *b = (const uint8_t *)c->bufs[p->logits_region].virt + p->logits_offset;
  for (uint32_t i = 0; i < p->logits_count; i++) {
    if (p->logits_dtype == PCCX_DTYPE_F32) {
      float x;
      memcpy(&x, b + 4u * i, 4u);
      c->logits[i] = x;
    } else {
      const float *w = c->bufs[p->logits_region].wide; /* exact co-simulation: the unrounded value */
      c->logits[i] = w && !(p->logits_offset & 1u) ? w[p->logits_offset / 2u + i] : pccx_bf16_to_f32((uint16_t)(b[2u * i] | (b[2u * i + 1u] << 8)));
    }
  }
  c->have_logits = 1;
  return PCCX_OK;
}

static int find_segment(const pccx_program *p, uint8_t kind) {
  for (uint32_t s = 0; s < p->n_segments; s++) {
    if (p->segments[s].kind == kind) return (int)s;
  }
  return -1;
}

static pccx_status check_tokens(pccx_ctx *c, const int32_t *t, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (t[i] < 0 || (c->p->vocab && (uint32_t)t[i] >= c->p->vocab)) {
      return fail(c, PCCX_ERR_ARG, "token %zu = %d is outside the vocabulary (0..%u)", i, t[i], c->p->vocab ? c->p->vocab - 1u : 0u);
    }
  }
  if (c->p->context && c->pos + n > c->p->context) {
    return fail(c, PCCX_ERR_STATE, "%zu more tokens at position %llu exceed the context of %u", n, (unsigned long long)c->pos, c->p->context);
  }
  return PCCX_OK;
}

/* Feeds tokens through the prefill segment in chunks (prompt) or the decode segment one by one. */
static pccx_status feed(pccx_ctx *c, const int32_t *tokens, size_t n, int prompt) {
  const pccx_program *p = c->p;
  int pre = find_segment(p, PCCX_SEGMENT_PREFILL);
  int dec = find_segment(p, PCCX_SEGMENT_DECODE);
  if (dec < 0) return fail(c, PCCX_ERR_STATE, "the program has no decode segment");
  int seg = prompt && pre >= 0 ? pre : dec;
  uint32_t chunk = seg == pre && p->prefill_chunk ? p->prefill_chunk : 1u;
  int64_t max_pos = seg == pre ? p->segments[pre].max_pos : PCCX_NO_MAX_POS;
  for (size_t i = 0; i < n;) {
    /* whole chunks through prefill while the chunk's position is at most the segment's max_pos; a
     * tail shorter than a chunk, and everything past max_pos, token by token through decode (the
     * simulator's promptRuns; a partial chunk would leave the logits of its last, unused row, and a
     * chunk past max_pos would wrap a shared sliding-window ring: docs/program.md section 2) */
    int full = seg == pre && n - i >= chunk && max_pos >= 0 && c->pos <= (uint64_t)max_pos;
    uint32_t k = full ? chunk : 1u;
    set_driver_vars(c, tokens + i, k);
    pccx_status s = run_segment(c, (uint32_t)(full ? seg : dec));
    if (s != PCCX_OK) return s;
    c->pos += k;
    i += k;
  }
  return read_logits(c);
}

pccx_status pccx_prefill(pccx_ctx *c, const int32_t *tokens, size_t n) {
  if (!c || !tokens || n == 0) return PCCX_ERR_ARG;
  if (!c->loaded) return fail(c, PCCX_ERR_STATE, "pccx_prefill before pccx_load");
  pccx_status s = check_tokens(c, tokens, n);
  if (s != PCCX_OK) return s;
  if (c->pending >= 0) {
    /* the last sampled token was never fed: it comes first */
    int32_t t = c->pending;
    c->pending = -1;
    if ((s = feed(c, &t, 1, 0)) != PCCX_OK) return s;
  }
  return feed(c, tokens, n, 1);
}

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static int32_t argmax(const float *x, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t i = 1; i < n; i++) {
    if (x[i] > x[best]) best = i;
  }
  return (int32_t)best;
}

typedef struct prob_ix {
  double p;
  uint32_t i;
} prob_ix;

static int by_prob_desc(const void *a, const void *b) {
  const prob_ix *x = a, *y = b;
  if (x->p != y->p) return x->p < y->p ? 1 : -1;
  return x->i < y->i ? -1 : 1;
}

/* Temperature + top-p (nucleus) sampling with the context's seeded PRNG. */
static pccx_status sample(pccx_ctx *c, int32_t *tok) {
  uint32_t n = c->p->logits_count;
  if (c->cfg.temperature <= 0.0f) {
    *tok = argmax(c->logits, n);
    return PCCX_OK;
  }
  prob_ix *px = malloc((size_t)n * sizeof *px);
  if (!px) return fail(c, PCCX_ERR_NOMEM, "no memory for sampling");
  double m = c->logits[argmax(c->logits, n)], total = 0.0;
  for (uint32_t i = 0; i < n; i++) {
    px[i].p = exp(((double)c->logits[i] - m) / c->cfg.temperature);
    px[i].i = i;
    total += px[i].p;
  }
  qsort(px, n, sizeof *px, by_prob_desc);
  double top = c->cfg.top_p > 0.0f && c->cfg.top_p < 1.0f ? c->cfg.top_p * total : total, kept = 0.0;
  uint32_t k = 0;
  while (k < n && (k == 0 || kept < top)) kept += px[k++].p;
  double u = (double)(splitmix64(&c->rng) >> 11) * (1.0 / 9007199254740992.0) * kept, acc = 0.0;
  *tok = (int32_t)px[k - 1u].i;
  for (uint32_t j = 0; j < k; j++) {
    acc += px[j].p;
    if (u < acc) {
      *tok = (int32_t)px[j].i;
      break;
    }
  }
  free(px);
  return PCCX_OK;
}

pccx_status pccx_decode_step(pccx_ctx *c, int32_t *token) {
  if (!c || !token) return PCCX_ERR_ARG;
  if (!c->have_logits) return fail(c, PCCX_ERR_STATE, "pccx_decode_step before pccx_prefill");
  if (c->pending >= 0) {
    int32_t t = c->pending;
    pccx_status s = check_tokens(c, &t, 1);
    if (s != PCCX_OK) return s;
    c->pending = -1;
    if ((s = feed(c, &t, 1, 0)) != PCCX_OK) return s;
  }
  pccx_status s = sample(c, token);
  if (s == PCCX_OK) c->pending = *token;
  return s;
}

pccx_status pccx_reset(pccx_ctx *c) {
  if (!c) return PCCX_ERR_ARG;
  for (uint32_t i = 0; i < c->p->n_regions; i++) {
    if (c->p->regions[i].kind != PCCX_REGION_KV) continue;
    memset(c->bufs[i].virt, 0, (size_t)c->p->regions[i].bytes);
    exact_reset(&c->bufs[i], 0, (size_t)c->p->regions[i].bytes);
    pccx_hal_cache_flush(c->hal, &c->bufs[i], 0, (size_t)c->p->regions[i].bytes);
  }
  c->pos = 0;
  c->pending = -1;
  c->have_logits = 0;
  c->rng = c->cfg.seed;
  note(c, "reset");
  return PCCX_OK;
}

const float *pccx_logits(const pccx_ctx *c, size_t *n) {
  if (n) *n = c && c->have_logits ? c->p->logits_count : 0u;
  return c && c->have_logits ? c->logits : NULL;
}

uint64_t pccx_position(const pccx_ctx *c) { return c ? c->pos : 0u; }
`;
