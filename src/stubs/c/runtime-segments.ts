/**
 * pccx_runtime.c, part 2: replaying a segment (relocations applied step by step, each step
 * executed, every channel drained at the end), the driver variables of a run (docs/program.md
 * section 2, as the simulator's driverVariables sets them), pccx_init/pccx_close and loading the
 * weight image (file or memory) followed by the load segment(s).
 */
export const RUNTIME_SEGMENTS = `/* ---- segments ---- */

static uint32_t first_reloc(const pccx_program *p, uint32_t step) {
  uint32_t lo = 0, hi = p->n_relocs;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2u;
    if (p->relocs[mid].step < step) lo = mid + 1u;
    else hi = mid;
  }
  return lo;
}

static pccx_status drain_all(pccx_ctx *c) {
  for (unsigned port = 0; port < PCCX_DM_PORTS; port++) {
    pccx_status s = pop_n(c, port, c->dm[port].count, "the end of the segment");
    if (s != PCCX_OK) return s;
  }
  return wait_npu_idle(c);
}

static pccx_status run_segment(pccx_ctx *c, uint32_t seg) {
  const pccx_program *p = c->p;
  const pccx_segment *sg = &p->segments[seg];
  note(c, "run %u segment %s pos %llu", c->runs++, sg->name, (unsigned long long)c->pos);
  for (uint32_t v = 0; v < p->n_vars; v++) {
    if (c->var_set[v]) note(c, "var %s %lld", p->vars[v].name, (long long)c->vars[v]);
  }
  uint32_t r = first_reloc(p, sg->first_step);
  step_state ss;
  for (uint32_t i = 0; i < sg->step_count; i++) {
    uint32_t gi = sg->first_step + i;
    ss.step = p->steps[gi];
    ss.word = ss.step.kind == PCCX_STEP_NPU ? p->words[ss.step.arg] : 0u;
    if (ss.step.kind == PCCX_STEP_HOST) {
      const pccx_host *h = &p->hosts[ss.step.arg];
      for (uint32_t k = 0; k < (uint32_t)h->n_in + h->n_out && k < PCCX_HOST_MAX_OPERANDS; k++) {
        ss.in_off[k] = p->operands[h->op_first + k].offset;
        ss.in_el[k] = p->operands[h->op_first + k].elements;
      }
    }
    pccx_status s = PCCX_OK;
    for (; r < p->n_relocs && p->relocs[r].step == gi && s == PCCX_OK; r++) s = apply_reloc(c, &p->relocs[r], &ss);
    if (s != PCCX_OK) return s;
    switch (ss.step.kind) {
    case PCCX_STEP_NPU: pccx_hal_npu_write64(c->hal, PCCX_NPU_INSTR_OFFSET, ss.word); break;
    case PCCX_STEP_DMA:
      if (ss.step.bytes > 0) s = push_dma(c, &ss.step); /* 0 bytes: relocated to nothing */
      break;
    case PCCX_STEP_HOST: s = run_host(c, &ss, gi); break;
    case PCCX_STEP_WAIT:
      if (ss.step.wait == PCCX_WAIT_NPU_IDLE) s = wait_npu_idle(c);
      else if (ss.step.wait == PCCX_WAIT_DMA) s = wait_dma(c, ss.step.port, ss.step.tag);
      break;
    default: s = fail(c, PCCX_ERR_STATE, "step %u: unknown step kind %u", gi, ss.step.kind);
    }
    if (s == PCCX_OK) s = hal_check(c);
    if (s != PCCX_OK) {
      size_t len = strlen(c->err);
      snprintf(c->err + len, sizeof c->err - len, " [segment %s step %u]", sg->name, i);
      return s;
    }
  }
  pccx_status s = drain_all(c);
  note(c, "end %s", sg->name);
  return s;
}

/* Driver variables of a run over tokens[0..n) at position pos (docs/program.md section 2). */
static void set_driver_vars(pccx_ctx *c, const int32_t *tokens, uint32_t n) {
  const pccx_program *p = c->p;
  memset(c->var_set, 0, p->n_vars ? p->n_vars : 1u);
  if (!tokens) return; /* load runs: no variables */
  int64_t pos = (int64_t)c->pos;
  for (uint32_t k = 0; k < p->n_dvars; k++) {
    const pccx_dvar *d = &p->dvars[k];
    int64_t v = 0;
    switch (d->role) {
    case PCCX_DVAR_POS: v = pos; break;
    case PCCX_DVAR_TOKEN: v = tokens[0]; break;
    case PCCX_DVAR_TOKEN_I: v = d->index < n ? tokens[d->index] : 0; break;
    case PCCX_DVAR_CHUNK_LEN: v = n; break;
    case PCCX_DVAR_KV_LEN: {
      int64_t len = pos + (int64_t)n;
      v = d->window >= 0 && d->window < len ? d->window : len;
      break;
    }
    case PCCX_DVAR_KV_SLOT: {
      int64_t slots = d->slots >= 0 ? d->slots : d->window;
      int64_t sink = d->sink >= 0 ? d->sink : 0;
      v = slots < 0 || pos < slots ? pos : sink + (pos - sink) % (slots - sink);
      break;
    }
    default: continue;
    }
    c->vars[d->var] = v;
    c->var_set[d->var] = 1;
  }
}

/* ---- lifecycle ---- */

/* Exact shadows after a byte-level write of [off, off + len): values from the bytes, no codes. */
static void exact_reset(pccx_buf *b, size_t off, size_t len) {
  if (!b->wide) return;
  pccx_wide_refresh(b->wide, (const uint8_t *)b->virt, off, len);
  for (size_t k = 2u * off; k < 2u * (off + len); k++) b->codes[k] = NAN;
}

pccx_status pccx_init(pccx_ctx **out, const pccx_config *cfg) {
  if (!out) return PCCX_ERR_ARG;
  *out = NULL;
  const pccx_program *p = &pccx_program_tables;
  pccx_ctx *c = calloc(1, sizeof *c);
  if (!c) return PCCX_ERR_NOMEM;
  c->p = p;
  if (cfg) c->cfg = *cfg;
  else pccx_config_default(&c->cfg);
  if (!c->cfg.timeout_us) c->cfg.timeout_us = PCCX_DEFAULT_TIMEOUT_US;
  c->rng = c->cfg.seed;
  c->pending = -1;
  *out = c;
  if (strcmp(p->fingerprint, PCCX_TARGET_FINGERPRINT) != 0) {
    return fail(c, PCCX_ERR_TARGET, "the program was compiled for %s, this driver's HAL header for %s: regenerate the driver", p->fingerprint,
                PCCX_TARGET_FINGERPRINT);
  }
  c->bufs = calloc(p->n_regions ? p->n_regions : 1u, sizeof *c->bufs);
  c->vars = calloc(p->n_vars ? p->n_vars : 1u, sizeof *c->vars);
  c->var_set = calloc(p->n_vars ? p->n_vars : 1u, 1u);
  c->logits = calloc(p->logits_count ? p->logits_count : 1u, sizeof *c->logits);
  if (!c->bufs || !c->vars || !c->var_set || !c->logits) return fail(c, PCCX_ERR_NOMEM, "no memory for the driver context");
  int hs = pccx_hal_open(&c->hal, c->cfg.hal_spec);
  if (hs != PCCX_OK) {
    c->hal = NULL;
    return fail(c, (pccx_status)hs, "cannot open the %s HAL (spec %s)", pccx_hal_name(), c->cfg.hal_spec ? c->cfg.hal_spec : "default");
  }
  const char *dev = pccx_hal_device_fingerprint(c->hal);
  if (dev && strcmp(dev, p->fingerprint) != 0) {
    return fail(c, PCCX_ERR_TARGET, "the device implements target %s, the program was compiled for %s", dev, p->fingerprint);
  }
  for (uint32_t i = 0; i < p->n_regions; i++) {
    const pccx_region *r = &p->regions[i];
    int s = pccx_hal_buf_alloc(c->hal, r->name, (size_t)(r->bytes ? r->bytes : 1u), &c->bufs[i]);
    if (s != PCCX_OK) return fail(c, (pccx_status)s, "cannot allocate %llu DMA bytes for region %s", (unsigned long long)r->bytes, r->name);
#ifdef PCCX_EXACT
    /* exact co-simulation: float32 per 2-byte slot, INT4 code per nibble (docs/driver.md) */
    c->bufs[i].wide = calloc((size_t)(r->bytes + 3u) / 2u, sizeof(float));
    c->bufs[i].codes = malloc((size_t)(2u * r->bytes + 2u) * sizeof(float));
    if (!c->bufs[i].wide || !c->bufs[i].codes) return fail(c, PCCX_ERR_NOMEM, "no memory for the exact shadows of region %s", r->name);
    exact_reset(&c->bufs[i], 0, (size_t)r->bytes);
#endif
    if (c->bufs[i].phys + r->bytes > (1ull << PCCX_DM_CMD_ADDR_BITS)) {
      return fail(c, PCCX_ERR_HAL, "region %s got bus address 0x%llX, beyond the DataMover's %u-bit reach", r->name,
                  (unsigned long long)c->bufs[i].phys, PCCX_DM_CMD_ADDR_BITS);
    }
  }
  note(c, "init model %s target %s", p->model, p->target);
  return PCCX_OK;
}

void pccx_close(pccx_ctx *c) {
  if (!c) return;
  if (c->hal) {
    for (uint32_t i = 0; c->bufs && i < c->p->n_regions; i++) {
      free(c->bufs[i].wide);
      free(c->bufs[i].codes);
      if (c->bufs[i].virt) pccx_hal_buf_free(c->hal, &c->bufs[i]);
    }
    pccx_hal_close(c->hal);
  }
#ifndef PCCX_NO_STDIO
  if (c->file) fclose(c->file);
#endif
  free(c->bufs);
  free(c->vars);
  free(c->var_set);
  free(c->logits);
  free(c);
}

/* FNV-1a 64 of a byte range (the manifest's region checksums). */
static uint64_t fnv1a64(const uint8_t *b, size_t n) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
  return h;
}

static pccx_status load_with(pccx_ctx *c, image_reader read, void *src, uint64_t image_bytes) {
  const pccx_program *p = c->p;
  if (image_bytes < p->image_bytes) {
    return fail(c, PCCX_ERR_IMAGE, "the weight image has %llu bytes, the program needs %llu: give the weights.bin written with this program",
                (unsigned long long)image_bytes, (unsigned long long)p->image_bytes);
  }
  for (uint32_t i = 0; i < p->n_regions; i++) {
    const pccx_region *r = &p->regions[i];
    uint8_t *dst = c->bufs[i].virt;
    memset(dst, 0, (size_t)r->bytes);
    if (r->image && r->file_offset < image_bytes) {
      uint64_t n = image_bytes - r->file_offset < r->bytes ? image_bytes - r->file_offset : r->bytes;
      if (read(src, r->file_offset, dst, (size_t)n) != 0) return fail(c, PCCX_ERR_IO, "cannot read bytes of region %s from the weight image", r->name);
      if (r->has_hash && c->cfg.verify_image && fnv1a64(dst, (size_t)r->bytes) != r->hash) {
        return fail(c, PCCX_ERR_IMAGE, "region %s: checksum differs from the manifest: the weight image is not the one this driver was generated for",
                    r->name);
      }
    }
    exact_reset(&c->bufs[i], 0, (size_t)r->bytes);
    pccx_hal_cache_flush(c->hal, &c->bufs[i], 0, (size_t)r->bytes);
  }
  c->read = read;
  c->src = src;
  c->image_size = image_bytes;
  set_driver_vars(c, NULL, 0);
  for (uint32_t s = 0; s < p->n_segments; s++) {
    if (p->segments[s].kind != PCCX_SEGMENT_LOAD) continue;
    pccx_status st = run_segment(c, s);
    if (st != PCCX_OK) return st;
  }
  c->loaded = 1;
  c->pos = 0;
  c->pending = -1;
  c->have_logits = 0;
  return PCCX_OK;
}

static int read_mem(void *src, uint64_t offset, void *dst, size_t len) {
  memcpy(dst, ((const mem_image *)src)->bytes + offset, len);
  return 0;
}

pccx_status pccx_load_image(pccx_ctx *c, const void *image, size_t bytes) {
  if (!c || (!image && bytes)) return PCCX_ERR_ARG;
  c->mem.bytes = (const uint8_t *)image; /* kept: host functions may read tensors from it later */
  return load_with(c, read_mem, &c->mem, bytes);
}

#ifndef PCCX_NO_STDIO
static int read_file(void *src, uint64_t offset, void *dst, size_t len) {
  FILE *f = src;
  if (fseek(f, (long)offset, SEEK_SET) != 0) return -1;
  return fread(dst, 1, len, f) == len ? 0 : -1;
}

pccx_status pccx_load(pccx_ctx *c, const char *weights_path) {
  if (!c || !weights_path) return PCCX_ERR_ARG;
  FILE *f = fopen(weights_path, "rb");
  if (!f) return fail(c, PCCX_ERR_IO, "cannot open the weight image %s", weights_path);
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
  if (size < 0) {
    fclose(f);
    return fail(c, PCCX_ERR_IO, "cannot size the weight image %s", weights_path);
  }
  if (c->file) fclose(c->file);
  c->file = f; /* kept open: host functions may read tensors from it later */
  return load_with(c, read_file, f, (uint64_t)size);
}
#endif

`;
