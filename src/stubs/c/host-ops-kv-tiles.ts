/**
 * pccx_host_ops.c, part 3b: `kv_write` in the `int4_tiles` format, as src/validate/sim/kv-tiles.ts
 * writes it (hardware mode; docs/program.md §4.3 KV tiles): per KV head, K row `slot` quantized in
 * S = beat/scaleBytes groups with its scale beat at kScaleOffset + slot·beat, and for each V
 * feature of each GEMV port the 32-lane beat of block ⌊slot/32⌋ requantized with lane slot mod 32
 * replaced. Scales round once from float32 to the target's scale dtype (ties to even, overflow to
 * infinity) and are stored little-endian; NaN scales are stored as the simulator's canonical NaN.
 *
 * Offsets: the K part is addressed from the K operand (vBase does not apply to it); the V part from
 * the region at vBase (default: the V operand's own offset), as the simulator does.
 */
export const KV_TILES = `/* ---- kv_write int4_tiles (sim kv-tiles.ts) ---- */

/* A non-negative float32 (or NaN) rounded once to F16 bits: ties to even, subnormals kept, overflow to infinity. */
static uint16_t f16_bits_of(float x) {
  double a = (double)x;
  if (a != a) return 0x7E00u;
  if (a == 0.0) return 0u;
  if (a >= 65520.0) return 0x7C00u;
  if (a < ldexp(1.0, -14)) return (uint16_t)rint(ldexp(a, 24));
  int ex = 0;
  (void)frexp(a, &ex); /* a = f * 2^ex, f in [0.5, 1): the exponent is ex - 1 */
  int e = ex - 1;
  uint32_t mant = (uint32_t)rint(ldexp(a, 10 - e)); /* 1024..2048; 2048 carries into the exponent */
  return (uint16_t)((uint32_t)(e + 15) * 1024u + (mant - 1024u));
}

/* roundScale + encodeScales: stores max/7 as the target's scale dtype at p; returns the stored value. */
static float kv_put_scale(uint8_t *p, float x) {
  uint32_t u;
  if (PCCX_SCALE_DTYPE == 2) {
    memcpy(&u, &x, 4u);
    if (x != x) u = 0x7FC00000u;
    for (unsigned k = 0; k < 4u; k++) p[k] = (uint8_t)(u >> (8u * k));
    return x;
  }
  uint16_t h = PCCX_SCALE_DTYPE == 1 ? f16_bits_of(x) : (x != x ? (uint16_t)0x7FC0u : pccx_f32_to_bf16(x));
  p[0] = (uint8_t)(h & 0xFFu);
  p[1] = (uint8_t)(h >> 8);
  return PCCX_SCALE_DTYPE == 1 ? f16_to_f32(h) : pccx_bf16_to_f32(h);
}

static int kv_nibble(const uint8_t *b, uint32_t i) { return (int)(((b[i >> 1] >> ((i & 1u) ? 4 : 0)) & 15u) ^ 8u) - 8; }

static void kv_set_nibble(uint8_t *b, uint32_t i, int q) {
  uint8_t v = (uint8_t)((unsigned)q & 15u), *p = &b[i >> 1];
  *p = (i & 1u) ? (uint8_t)((*p & 0x0Fu) | (v << 4)) : (uint8_t)((*p & 0xF0u) | v);
}

/* The simulator's quantize(): s = scale(max|x|/7) (NaN propagates as Math.max does), q = clamp(rne(x/s), -8, 7),
 * q = 0 when s = 0 (and for NaN quotients, as JS's q & 15). Element i goes to nibble first + i of nib. */
static void kv_quantize(const float *x, uint32_t n, uint8_t *nib, uint32_t first, uint8_t *scale_at) {
  float m = 0.0f;
  for (uint32_t i = 0; i < n; i++) {
    float a = fabsf(x[i]);
    if (a != a || m != m) m = NAN;
    else if (a > m) m = a;
  }
  float s = kv_put_scale(scale_at, m / 7.0f);
  for (uint32_t i = 0; i < n; i++) {
    int q = 0;
    if (s != 0.0f) {
      double r = rint((double)(x[i] / s));
      q = r != r ? 0 : r > 7.0 ? 7 : r < -8.0 ? -8 : (int)r;
    }
    kv_set_nibble(nib, first + i, q);
  }
}

/* Exact co-simulation (PCCX_EXACT): as kv_quantize on unrounded values (double, as the simulator's
 * exact mode computes them), and each nibble's unrounded code x/s goes to codes[first + i] (NaN
 * codes: none recorded). */
static void kv_quantize_exact(const double *x, uint32_t n, uint8_t *nib, uint32_t first, uint8_t *scale_at, float *codes) {
  double m = 0.0;
  for (uint32_t i = 0; i < n; i++) {
    double a = fabs(x[i]);
    if (a != a || m != m) m = NAN;
    else if (a > m) m = a;
  }
  float s = kv_put_scale(scale_at, (float)(m / 7.0));
  for (uint32_t i = 0; i < n; i++) {
    int q = 0;
    float code = 0.0f;
    if (s != 0.0f) {
      code = (float)(x[i] / (double)s);
      double r = rint((double)code);
      q = r != r ? 0 : r > 7.0 ? 7 : r < -8.0 ? -8 : (int)r;
    }
    kv_set_nibble(nib, first + i, q);
    codes[first + i] = code;
  }
}

static pccx_status kv_write_tiles(C *c, uint32_t slot, uint32_t row) {
  uint32_t kvh = (uint32_t)num(c, PCCX_ATTR_KV_WRITE_KVHEADS, 0), hd = (uint32_t)num(c, PCCX_ATTR_KV_WRITE_HEADDIM, 0);
  uint32_t vhd = (uint32_t)num(c, PCCX_ATTR_KV_WRITE_VHEADDIM, 0);
  double ks = num(c, PCCX_ATTR_KV_WRITE_KSCALE, 0);
  uint64_t k_head = (uint64_t)num(c, PCCX_ATTR_KV_WRITE_KHEADBYTES, 0), k_scale_off = (uint64_t)num(c, PCCX_ATTR_KV_WRITE_KSCALEOFFSET, 0);
  uint64_t v_head = (uint64_t)num(c, PCCX_ATTR_KV_WRITE_VHEADBYTES, 0);
  const pccx_attr *parts = attr(c, PCCX_ATTR_KV_WRITE_VPARTS), *port_offs = attr(c, PCCX_ATTR_KV_WRITE_VPORTOFFSETS);
  pccx_view *ko = &c->out[0], *vo = &c->out[1];
  uint64_t v_base = has(c, PCCX_ATTR_KV_WRITE_VBASE) ? (uint64_t)num(c, PCCX_ATTR_KV_WRITE_VBASE, 0) : vo->region_off;
  const uint32_t codes = PCCX_BEAT_CODES, beat = PCCX_BEAT_BYTES, per_beat = PCCX_BEAT_BYTES / PCCX_SCALE_BYTES;
  if (hd % per_beat) return err(c, PCCX_ERR_HOST_OP, "headDim %u does not split into %u scale groups", hd, per_beat);
  uint32_t vsum = 0;
  for (uint32_t j = 0; j < parts->arr_count; j++) vsum += (uint32_t)c->p->attr_arrays[parts->arr_first + j];
  if (!parts->present || parts->arr_count != port_offs->arr_count || vsum != vhd) {
    return err(c, PCCX_ERR_HOST_OP, "vParts (%u ports, %u features) do not split vHeadDim %u over %u port offsets", parts->arr_count, vsum, vhd,
               port_offs->arr_count);
  }
  if (c->in[0].width < kvh * hd || c->in[1].width < kvh * vhd) return err(c, PCCX_ERR_HOST_OP, "the K/V rows are narrower than kvHeads x headDim");
  uint32_t g = hd / per_beat;
  uint64_t k_row = (uint64_t)((hd + codes - 1u) / codes) * beat;
  if ((uint64_t)kvh * k_head > ko->avail) return err(c, PCCX_ERR_HOST_OP, "%u K heads of %llu bytes are past the ring region", kvh, (unsigned long long)k_head);
  if (v_base < vo->region_off) return err(c, PCCX_ERR_HOST_OP, "vBase %llu is before the V operand", (unsigned long long)v_base);
  float *kx = row_of(&c->in[0], row), *vx = row_of(&c->in[1], row), vals[PCCX_BEAT_CODES];
  if (!kx || !vx) {
    free(kx);
    free(vx);
    return err(c, PCCX_ERR_NOMEM, "no memory");
  }
  pccx_status st = PCCX_OK;
  for (uint32_t h = 0; h < kvh; h++) {
    uint8_t *base = ko->base + (uint64_t)h * k_head;
    if ((uint64_t)slot * k_row + k_row > k_head || k_scale_off + (uint64_t)slot * beat + beat > k_head) {
      st = err(c, PCCX_ERR_HOST_OP, "slot %u is past a K head area of %llu bytes", slot, (unsigned long long)k_head);
      break;
    }
    for (uint32_t e = 0; e < hd; e++) kx[h * hd + e] = (float)(ks * (double)kx[h * hd + e]);
    for (uint32_t q0 = 0; q0 < per_beat; q0++) {
      uint8_t *sat = base + k_scale_off + (uint64_t)slot * beat + (uint64_t)PCCX_SCALE_BYTES * q0;
      if (ko->codes) {
        double xs[PCCX_BEAT_CODES * 8u];
        if (g > sizeof xs / sizeof xs[0]) {
          st = err(c, PCCX_ERR_HOST_OP, "a K scale group of %u values", g);
          break;
        }
        for (uint32_t e = 0; e < g; e++) xs[e] = (double)kx[h * hd + q0 * g + e];
        kv_quantize_exact(xs, g, base + (uint64_t)slot * k_row, q0 * g, sat, ko->codes + 2u * ((uint64_t)h * k_head + (uint64_t)slot * k_row));
      } else {
        kv_quantize(kx + h * hd + q0 * g, g, base + (uint64_t)slot * k_row, q0 * g, sat);
      }
    }
    if (st != PCCX_OK) break;
    pccx_wide_refresh(ko->wide, ko->base, (uint64_t)h * k_head + (uint64_t)slot * k_row, k_row);
    pccx_wide_refresh(ko->wide, ko->base, (uint64_t)h * k_head + k_scale_off + (uint64_t)slot * beat, beat);
    dirty(c, 0, (uint64_t)h * k_head + (uint64_t)slot * k_row, k_row);
    dirty(c, 0, (uint64_t)h * k_head + k_scale_off + (uint64_t)slot * beat, beat);
  }
  uint32_t lane = slot % codes, block = slot / codes;
  uint8_t *region = vo->base - vo->region_off;
  /* exact shadows of the whole region (the V part is addressed from the region at vBase) */
  float *rcodes = vo->codes ? vo->codes - 2u * vo->region_off : NULL;
  float *rwide = vo->wide ? vo->wide - vo->region_off / 2u : NULL;
  double xv[PCCX_BEAT_CODES];
  uint64_t region_end = vo->region_off + vo->avail;
  for (uint32_t h = 0; h < kvh && st == PCCX_OK; h++) {
    uint32_t d0 = 0;
    for (uint32_t j = 0; j < parts->arr_count && st == PCCX_OK; j++) {
      uint32_t n = (uint32_t)c->p->attr_arrays[parts->arr_first + j];
      uint64_t block_bytes = (uint64_t)n * beat + ((uint64_t)n * PCCX_SCALE_BYTES + beat - 1u) / beat * beat;
      uint64_t off = v_base + (uint64_t)h * v_head + (uint64_t)c->p->attr_arrays[port_offs->arr_first + j] + (uint64_t)block * block_bytes;
      if (n > 0 && off + block_bytes > region_end) {
        st = err(c, PCCX_ERR_HOST_OP, "V block %u of port %u (bytes %llu..) is past the ring region", block, j, (unsigned long long)off);
        break;
      }
      for (uint32_t dl = 0; dl < n; dl++) {
        uint8_t *bt = region + off + (uint64_t)dl * beat, *sc = region + off + (uint64_t)n * beat + (uint64_t)PCCX_SCALE_BYTES * dl;
        float old = scale_at(sc, PCCX_SCALE_DTYPE);
        if (rcodes) {
          float *bc = rcodes + 2u * (off + (uint64_t)dl * beat);
          for (uint32_t l = 0; l < codes; l++) {
            double q = bc[l] == bc[l] ? (double)bc[l] : (double)kv_nibble(bt, l); /* the exact code when recorded */
            xv[l] = l == lane ? (double)vx[h * vhd + d0 + dl] : q * (double)old;
          }
          kv_quantize_exact(xv, codes, bt, 0u, sc, bc);
        } else {
          for (uint32_t l = 0; l < codes; l++) vals[l] = l == lane ? vx[h * vhd + d0 + dl] : (float)kv_nibble(bt, l) * old;
          kv_quantize(vals, codes, bt, 0u, sc);
        }
      }
      if (n > 0) {
        dirty(c, 1, off - vo->region_off, block_bytes);
        pccx_wide_refresh(rwide, region, off, block_bytes);
      }
      d0 += n;
    }
  }
  free(kx);
  free(vx);
  return st;
}
`;
