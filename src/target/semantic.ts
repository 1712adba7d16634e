/**
 * Checks a schema cannot state: values that must agree with each other (a port feeding an engine
 * that exists, a DataMover channel on a known port, unique codes, fields fitting their registers,
 * shapes fitting the constant cache). Only target-level facts: cross-checks against the
 * instruction table (src/isa) belong to whoever joins the two.
 */

import type { TargetProblem } from "./issues.js";
import type { PathSeg } from "./json-path.js";
import type { TargetFile } from "./schema.js";

type Check = (t: TargetFile, out: TargetProblem[]) => void;

const problem = (path: PathSeg[], message: string, fix?: string): TargetProblem => ({
  path,
  message,
  showValue: true,
  ...(fix ? { fix } : {}),
});

function duplicates<T>(
  items: readonly T[],
  key: (x: T) => unknown,
  path: PathSeg[],
  field: string,
  out: TargetProblem[],
) {
  const seen = new Map<unknown, number>();
  items.forEach((x, i) => {
    const k = key(x);
    const first = seen.get(k);
    if (first !== undefined)
      out.push(problem([...path, i, field], `duplicate ${field}: also used at index ${first}`));
    else seen.set(k, i);
  });
}

const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

const checkL2: Check = (t, out) => {
  const space = 2 ** t.l2.address_bits;
  if (t.l2.backed_first_word + t.l2.backed_words > space)
    out.push(
      problem(
        ["l2", "backed_words"],
        `backed range ends past the ${space}-word address space (2^address_bits)`,
      ),
    );
  const wordElements = t.l2.word_bytes / 2; // BF16 activations (numeric.activation_l2)
  for (const [cls, a] of Object.entries(t.l2.addressing)) {
    if (a.reach_words > space)
      out.push(
        problem(["l2", "addressing", cls, "reach_words"], `exceeds the ${space}-word L2 address space`),
      );
    if (!isPow2(a.alignment_elements))
      out.push(problem(["l2", "addressing", cls, "alignment_elements"], "expected a power of two"));
    else if (a.unit === "word" && a.alignment_elements % wordElements !== 0)
      out.push(
        problem(
          ["l2", "addressing", cls, "alignment_elements"],
          `word addresses can only start on a word: expected a multiple of ${wordElements} elements`,
        ),
      );
  }
};

const checkConstCache: Check = (t, out) => {
  const cc = t.const_cache;
  duplicates(cc.banks, (b) => b.name, ["const_cache", "banks"], "name", out);
  duplicates(cc.banks, (b) => b.code, ["const_cache", "banks"], "code", out);
  const max = 2 ** cc.value_bits - 1;
  const rows = t.gemv.cores * t.gemv.max_rows_per_lane;
  if (rows > max)
    out.push(
      problem(
        ["gemv", "max_rows_per_lane"],
        `cores x max_rows_per_lane = ${rows} rows per call does not fit a ${cc.value_bits}-bit shape value (max ${max})`,
      ),
    );
  for (const key of ["elements", "k_accumulation_limit"] as const) {
    if (t.activation_cache[key] > max)
      out.push(
        problem(["activation_cache", key], `does not fit a ${cc.value_bits}-bit shape value (max ${max})`),
      );
  }
};

const checkIsa: Check = (t, out) => {
  duplicates(t.isa.opcodes, (o) => o.code, ["isa", "opcodes"], "code", out);
  duplicates(t.isa.opcodes, (o) => o.mnemonic, ["isa", "opcodes"], "mnemonic", out);
  duplicates(t.isa.cvo_functions, (f) => f.code, ["isa", "cvo_functions"], "code", out);
  duplicates(t.isa.cvo_functions, (f) => f.name, ["isa", "cvo_functions"], "name", out);
  t.isa.cvo_functions.forEach((f, i) => {
    const [lo, hi] = f.extension ? [8, 15] : [0, 7];
    if (f.code < lo || f.code > hi)
      out.push(
        problem(
          ["isa", "cvo_functions", i, "code"],
          f.extension
            ? "an extension must use a reserved code 8..15"
            : "a documented v002 function has a code 0..7 (set extension: true for 8..15)",
        ),
      );
  });
  if (t.isa.cvo_functions.length > 0 && !t.isa.opcodes.some((o) => o.unit === "sfu"))
    out.push(problem(["isa", "opcodes"], "CVO functions are listed but no opcode runs on the sfu"));
};

const checkPorts: Check = (t, out) => {
  duplicates(t.ports, (p) => p.name, ["ports"], "name", out);
  t.ports.forEach((p, i) => {
    if (p.gemm_lane !== undefined && !p.feeds.includes("gemm"))
      out.push(problem(["ports", i, "gemm_lane"], "gemm_lane is set but the port does not feed the gemm"));
    if (p.kind === "acp" && !p.feeds.every((f) => f === "l2"))
      out.push(problem(["ports", i, "feeds"], 'an ACP port carries host data: expected ["l2"]'));
  });
  const lanes = t.ports.filter((p) => p.gemm_lane !== undefined);
  duplicates(lanes, (p) => p.gemm_lane, ["ports"], "gemm_lane", out);
  for (const engine of ["gemm", "gemv"] as const) {
    if (!t.ports.some((p) => p.feeds.includes(engine)))
      out.push(problem(["ports"], `no port feeds the ${engine}: its weights could never arrive`));
  }
  const hostDirs = t.memcpy.directions.filter((d) => d !== "l2_to_l2");
  if (hostDirs.length > 0 && !t.ports.some((p) => p.feeds.includes("l2")))
    out.push(problem(["ports"], "MEMCPY moves host data but no port feeds l2"));
};

const checkDataMover: Check = (t, out) => {
  const dm = t.datamover;
  duplicates(dm.channels, (c) => c.name, ["datamover", "channels"], "name", out);
  duplicates(dm.channels, (c) => c.page, ["datamover", "channels"], "page", out);
  const npuEnd = t.mmio.npu_page + t.mmio.page_bytes;
  dm.channels.forEach((c, i) => {
    const at: PathSeg[] = ["datamover", "channels", i];
    const port = t.ports.find((p) => p.name === c.port);
    if (!port) out.push(problem([...at, "port"], `no port named "${c.port}" in $.ports`));
    else if (c.direction === "pl_to_ddr" && !port.feeds.includes("l2"))
      out.push(
        problem([...at, "direction"], `port "${c.port}" feeds only engines: data cannot flow back to DDR`),
      );
    if (c.page % dm.page_bytes !== 0)
      out.push(problem([...at, "page"], `not aligned to the ${dm.page_bytes}-byte page size`));
    if (c.page < npuEnd && c.page + dm.page_bytes > t.mmio.npu_page)
      out.push(problem([...at, "page"], "overlaps the NPU's own register page ($.mmio.npu_page)"));
  });
  t.ports.forEach((p, i) => {
    if (!dm.channels.some((c) => c.port === p.name && c.direction === "ddr_to_pl"))
      out.push(problem(["ports", i, "name"], "no DataMover channel (ddr_to_pl) drives this port"));
  });
  const needs = { host_to_l2: "ddr_to_pl", l2_to_host: "pl_to_ddr" } as const;
  for (const d of t.memcpy.directions) {
    if (d === "l2_to_l2") continue;
    const dir = needs[d];
    const ok = dm.channels.some(
      (c) => c.direction === dir && t.ports.find((p) => p.name === c.port)?.feeds.includes("l2"),
    );
    if (!ok)
      out.push(problem(["memcpy", "directions"], `${d} needs a ${dir} DataMover channel on an l2 port`));
  }
};

const checkDataMoverFormats: Check = (t, out) => {
  const c = t.datamover.command;
  const fields: Array<[string, number, number]> = [
    ["btt_lsb", c.btt_lsb, c.btt_bits],
    ["incr_bit", c.incr_bit, 1],
    ["eof_bit", c.eof_bit, 1],
    ["address_lsb", c.address_lsb, c.address_bits],
    ["tag_lsb", c.tag_lsb, c.tag_bits],
  ];
  checkBitFields(["datamover", "command"], fields, c.word_bits, out);
  const s = t.datamover.status;
  checkBitFields(
    ["datamover", "status"],
    [
      ["okay_bit", s.okay_bit, 1],
      ["slverr_bit", s.slverr_bit, 1],
      ["decerr_bit", s.decerr_bit, 1],
      ["interr_bit", s.interr_bit, 1],
      ["tag_lsb", s.tag_lsb, s.tag_bits],
    ],
    8,
    out,
  );
  if (s.tag_bits !== c.tag_bits)
    out.push(
      problem(
        ["datamover", "status", "tag_bits"],
        `the status echoes the command tag: expected ${c.tag_bits}`,
      ),
    );
  if (t.ddr.bytes > 2 ** c.address_bits)
    out.push(
      problem(["ddr", "bytes"], `DDR is larger than the ${c.address_bits}-bit DataMover address reaches`),
    );
};

/** Fields [lsb, lsb+width) must lie inside `wordBits` and not overlap. */
function checkBitFields(
  at: PathSeg[],
  fields: ReadonlyArray<[string, number, number]>,
  wordBits: number,
  out: TargetProblem[],
) {
  const owner = new Map<number, string>();
  for (const [name, lsb, width] of fields) {
    if (lsb + width > wordBits) {
      out.push(
        problem([...at, name], `field of ${width} bit(s) at bit ${lsb} does not fit ${wordBits} bits`),
      );
      continue;
    }
    for (let b = lsb; b < lsb + width; b++) {
      const other = owner.get(b);
      if (other !== undefined) {
        out.push(problem([...at, name], `overlaps ${other} at bit ${b}`));
        break;
      }
      owner.set(b, name);
    }
  }
}

const checkMmio: Check = (t, out) => {
  const m = t.mmio;
  if (m.npu_page % m.page_bytes !== 0)
    out.push(problem(["mmio", "npu_page"], `not aligned to the ${m.page_bytes}-byte page size`));
  if (m.instruction_offset + m.instruction_store_bits / 8 > m.page_bytes)
    out.push(problem(["mmio", "instruction_offset"], "the instruction store ends past the page"));
  if (m.status_offset + m.status_bits / 8 > m.page_bytes)
    out.push(problem(["mmio", "status_offset"], "the status word ends past the page"));
  for (const key of ["busy_bit", "done_bit"] as const) {
    if (m[key] >= m.status_bits)
      out.push(problem(["mmio", key], `outside the ${m.status_bits}-bit status word`));
  }
  if (m.busy_bit === m.done_bit) out.push(problem(["mmio", "done_bit"], "BUSY and DONE share a bit"));
};

const checkMisc: Check = (t, out) => {
  if (t.ddr.reserved_os_bytes >= t.ddr.bytes)
    out.push(problem(["ddr", "reserved_os_bytes"], "leaves no DDR for weights and the KV cache"));
  const kv = t.numeric.kv_cache;
  if (!kv.dtypes.includes(kv.default))
    out.push(
      problem(["numeric", "kv_cache", "default"], `not one of the listed dtypes (${kv.dtypes.join(", ")})`),
    );
  const w = t.numeric.weights;
  if (w.scale_granularity === "group" && w.group_size === undefined)
    out.push(
      problem(["numeric", "weights", "group_size"], "scale_granularity is group: group_size is required"),
    );
  if (w.scale_granularity === "per_row" && w.group_size !== undefined)
    out.push(problem(["numeric", "weights", "group_size"], "only meaningful with scale_granularity group"));
  if (w.group_size !== undefined && w.group_size % 2 !== 0)
    out.push(
      problem(["numeric", "weights", "group_size"], "two INT4 weights share a byte: expected an even size"),
    );
  const pes = t.gemm.rows * t.gemm.cols;
  if (pes > t.device.dsp48e2)
    out.push(problem(["gemm", "rows"], `rows x cols = ${pes} PEs need more DSP48E2 than the device has`));
  if (t.host.fallback_threads > t.host.cores)
    out.push(problem(["host", "fallback_threads"], `more threads than the ${t.host.cores} CPU cores`));
};

const CHECKS: readonly Check[] = [
  checkL2,
  checkConstCache,
  checkIsa,
  checkPorts,
  checkDataMover,
  checkDataMoverFormats,
  checkMmio,
  checkMisc,
];

/** Every inconsistency in a schema-valid target file, in a stable order. */
export function semanticProblems(t: TargetFile): TargetProblem[] {
  const out: TargetProblem[] = [];
  for (const check of CHECKS) check(t, out);
  return out;
}
