/**
 * pccx_hal.h: the only hardware interface of the generated driver (docs/driver.md, "HAL contract"),
 * with every register fact it needs taken from the target file: the NPU page and its instruction
 * and status registers, the DataMover channels (pages, direction, command and status layouts) and
 * the command-queue depths. Three implementations (Linux UIO, Xilinx standalone, simulation)
 * implement the same calls.
 */
import type { Target } from "../target/index.js";
import { cComment, cIdent, cString, hex64 } from "./c-text.js";

/** C enum name of a DataMover channel, e.g. PCCX_PORT_ACP_FMAP. */
export const portEnum = (name: string): string => `PCCX_PORT_${cIdent(name).toUpperCase()}`;

/** Channel names of the target in the C port order (the order of `datamover.channels`). */
export function portNames(t: Target): string[] {
  return t.file.datamover.channels.map((c) => c.name);
}

const bit = (n: number): string => `(1ull << ${n})`;

function portBlock(t: Target): string[] {
  const chans = t.file.datamover.channels;
  return [
    "/* DataMover channels, in target order; the C port index is the position. */",
    "enum pccx_port {",
    ...chans.map(
      (c, i) =>
        `  ${portEnum(c.name)} = ${i}, /* ${c.direction === "ddr_to_pl" ? "DDR -> PL" : "PL -> DDR"}, port ${cComment(c.port)} */`,
    ),
    "};",
    `#define PCCX_DM_PORTS ${chans.length}`,
    `#define PCCX_DM_PAGE_BYTES ${t.file.datamover.page_bytes}u`,
    "/* Physical address of each channel's register page, indexed by enum pccx_port. */",
    `#define PCCX_DM_PAGES { ${chans.map((c) => hex64(c.page)).join(", ")} }`,
    "/* 1 where the channel writes DDR (PL -> DDR): the driver invalidates its range when the status arrives. */",
    `#define PCCX_DM_TO_DDR { ${chans.map((c) => (c.direction === "pl_to_ddr" ? 1 : 0)).join(", ")} }`,
    `#define PCCX_DM_PORT_NAMES { ${chans.map((c) => cString(c.name)).join(", ")} }`,
  ];
}

function commandBlock(t: Target): string[] {
  const c = t.file.datamover.command;
  const s = t.file.datamover.status;
  return [
    "/* DataMover command word (Xilinx PG022 layout with the target's widths), written as two 64-bit",
    " * stores: bits 63:0 at PCCX_DM_CMD_OFFSET, bits above 63 at PCCX_DM_CMD_OFFSET + 8 (this store",
    " * pushes the command). */",
    `#define PCCX_DM_CMD_OFFSET 0x${c.register_offset.toString(16).toUpperCase()}u`,
    `#define PCCX_DM_CMD_BITS ${c.word_bits}u`,
    `#define PCCX_DM_CMD_BTT_LSB ${c.btt_lsb}u`,
    `#define PCCX_DM_CMD_BTT_BITS ${c.btt_bits}u`,
    `#define PCCX_DM_CMD_INCR_BIT ${c.incr_bit}u`,
    `#define PCCX_DM_CMD_EOF_BIT ${c.eof_bit}u`,
    `#define PCCX_DM_CMD_ADDR_LSB ${c.address_lsb}u`,
    `#define PCCX_DM_CMD_ADDR_BITS ${c.address_bits}u`,
    `#define PCCX_DM_CMD_TAG_LSB ${c.tag_lsb}u`,
    `#define PCCX_DM_CMD_TAG_BITS ${c.tag_bits}u`,
    `#define PCCX_DM_MAX_BYTES ${t.derived.datamover.max_command_bytes}u`,
    `#define PCCX_DM_TAGS ${t.derived.datamover.tags}u`,
    `#define PCCX_DM_MAX_OUTSTANDING ${t.file.datamover.max_outstanding_commands}u`,
    "/* DataMover status byte, popped from PCCX_DM_STATUS_OFFSET. A byte with none of OKAY, SLVERR,",
    " * DECERR, INTERR set means the status FIFO is empty (every real status sets one of them). */",
    `#define PCCX_DM_STATUS_OFFSET 0x${s.register_offset.toString(16).toUpperCase()}u`,
    `#define PCCX_DM_STATUS_OKAY (1u << ${s.okay_bit})`,
    `#define PCCX_DM_STATUS_SLVERR (1u << ${s.slverr_bit})`,
    `#define PCCX_DM_STATUS_DECERR (1u << ${s.decerr_bit})`,
    `#define PCCX_DM_STATUS_INTERR (1u << ${s.interr_bit})`,
    `#define PCCX_DM_STATUS_TAG_LSB ${s.tag_lsb}u`,
    `#define PCCX_DM_STATUS_TAG_MASK 0x${(2 ** s.tag_bits - 1).toString(16).toUpperCase()}u`,
    "#define PCCX_DM_STATUS_ANY (PCCX_DM_STATUS_OKAY | PCCX_DM_STATUS_SLVERR | PCCX_DM_STATUS_DECERR | PCCX_DM_STATUS_INTERR)",
  ];
}

function npuBlock(t: Target): string[] {
  const m = t.file.mmio;
  return [
    "/* The NPU's register page: one 64-bit store of an instruction word at the instruction offset;",
    " * a 64-bit load of the status word (BUSY, DONE sticky until the next instruction). */",
    `#define PCCX_NPU_PAGE ${hex64(m.npu_page)}`,
    `#define PCCX_NPU_PAGE_BYTES ${m.page_bytes}u`,
    `#define PCCX_NPU_INSTR_OFFSET 0x${m.instruction_offset.toString(16).toUpperCase()}u`,
    `#define PCCX_NPU_STATUS_OFFSET 0x${m.status_offset.toString(16).toUpperCase()}u`,
    `#define PCCX_NPU_STATUS_BUSY ${bit(m.busy_bit)}`,
    `#define PCCX_NPU_STATUS_DONE ${bit(m.done_bit)}`,
    `#define PCCX_NPU_COMMAND_FIFO_DEPTH ${m.command_fifo_depth}u`,
    `#define PCCX_L2_WORD_BYTES ${t.file.l2.word_bytes}u`,
  ];
}

const API = `
/* A DataMover command word: bits 63:0 in lo, bits above 63 in hi. */
typedef struct pccx_dm_cmd {
  uint64_t lo;
  uint64_t hi;
} pccx_dm_cmd;

static inline void pccx_dm_put(pccx_dm_cmd *c, unsigned lsb, unsigned bits, uint64_t v) {
  v &= bits >= 64u ? ~0ull : ((1ull << bits) - 1u);
  if (lsb >= 64u) {
    c->hi |= v << (lsb - 64u);
  } else {
    c->lo |= v << lsb;
    if (lsb + bits > 64u) c->hi |= v >> (64u - lsb);
  }
}

/* The command that moves bytes (1..PCCX_DM_MAX_BYTES) at physical address phys, with a tag. */
static inline pccx_dm_cmd pccx_dm_command(uint64_t phys, uint32_t bytes, unsigned tag) {
  pccx_dm_cmd c = {0u, 0u};
  pccx_dm_put(&c, PCCX_DM_CMD_BTT_LSB, PCCX_DM_CMD_BTT_BITS, bytes);
  pccx_dm_put(&c, PCCX_DM_CMD_INCR_BIT, 1u, 1u);
  pccx_dm_put(&c, PCCX_DM_CMD_EOF_BIT, 1u, 1u);
  pccx_dm_put(&c, PCCX_DM_CMD_ADDR_LSB, PCCX_DM_CMD_ADDR_BITS, phys);
  pccx_dm_put(&c, PCCX_DM_CMD_TAG_LSB, PCCX_DM_CMD_TAG_BITS, tag);
  return c;
}

/* A DMA-able buffer: CPU pointer, bus (physical) address, size; impl is the HAL's own handle.
 * wide/codes: exact co-simulation shadows (a PCCX_EXACT build with the simulation HAL only, NULL
 * otherwise): a float32 value per 2-byte slot and an unrounded INT4 code per nibble (NaN: none). */
typedef struct pccx_buf {
  void *virt;
  uint64_t phys;
  size_t bytes;
  intptr_t impl;
  float *wide;
  float *codes;
} pccx_buf;

typedef struct pccx_hal pccx_hal; /* opaque: each implementation defines it */

/* Opens the device. spec is implementation specific (NULL: defaults; see docs/driver.md). */
int pccx_hal_open(pccx_hal **out, const char *spec);
void pccx_hal_close(pccx_hal *h);
/* Which implementation this is: "uio", "baremetal" or "sim". */
const char *pccx_hal_name(void);
/* The fingerprint of the target the device (or simulator) implements, or NULL when unknown. */
const char *pccx_hal_device_fingerprint(pccx_hal *h);

/* NPU page: one 64-bit store / load at a byte offset of the page (never split). */
void pccx_hal_npu_write64(pccx_hal *h, uint32_t offset, uint64_t value);
uint64_t pccx_hal_npu_read64(pccx_hal *h, uint32_t offset);

/* DataMover: push one command on a channel; pop one status byte (returns 1) or find the status
 * FIFO empty (returns 0). */
void pccx_hal_dm_push(pccx_hal *h, unsigned port, pccx_dm_cmd cmd);
int pccx_hal_dm_pop_status(pccx_hal *h, unsigned port, uint8_t *status);

/* DMA-able memory: physically contiguous, bus address below 2^PCCX_DM_CMD_ADDR_BITS; name says
 * what it holds (a DDR region of the program). Returns a pccx_status. */
int pccx_hal_buf_alloc(pccx_hal *h, const char *name, size_t bytes, pccx_buf *out);
void pccx_hal_buf_free(pccx_hal *h, pccx_buf *b);
/* Cache maintenance of [off, off + len) of a buffer: flush after the CPU wrote data a device
 * reads; invalidate before the CPU reads data a device wrote. */
void pccx_hal_cache_flush(pccx_hal *h, const pccx_buf *b, size_t off, size_t len);
void pccx_hal_cache_invalidate(pccx_hal *h, const pccx_buf *b, size_t off, size_t len);

/* Monotonic time in microseconds (timeouts). */
uint64_t pccx_hal_time_us(pccx_hal *h);
/* Sticky error of the HAL itself (0 when healthy): a lost simulator, a bus error. */
int pccx_hal_error(pccx_hal *h);
/* A note for logs (segment starts, variables); the simulation HAL forwards it, others drop it. */
void pccx_hal_note(pccx_hal *h, const char *text);
`;

export function renderHalHeader(t: Target): string {
  return [
    `/* pccx HAL contract for target ${cComment(t.file.name)}: generated by pccxc (src/stubs/hal-header.ts), do not edit. */`,
    "#ifndef PCCX_HAL_H",
    "#define PCCX_HAL_H",
    "",
    "#include <stddef.h>",
    "#include <stdint.h>",
    "",
    '#include "pccx_status.h"',
    "",
    `#define PCCX_TARGET_NAME ${cString(t.file.name)}`,
    `#define PCCX_TARGET_FINGERPRINT ${cString(t.fingerprint)}`,
    "",
    ...npuBlock(t),
    "",
    ...portBlock(t),
    "",
    ...commandBlock(t),
    API,
    "#endif /* PCCX_HAL_H */",
    "",
  ].join("\n");
}
