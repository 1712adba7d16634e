/**
 * The host-function list of src/codegen/host-ops as C: function ids, attribute slots, the codes of
 * string attributes, the variables each call reads or sets, and the target facts the KV functions
 * need (pccx_host_fns.h). `hostCallVars` and `attrValue` give the generator the per-call data.
 */
import { HOST_FUNCTIONS, type HostFnSpec } from "../codegen/host-ops/table.js";
import type { HostStep } from "../codegen/program.js";
import { unsupported } from "../diag/index.js";
import type { Target } from "../target/index.js";
import { perRowInputCount } from "../validate/sim/host-rows.js";
import { cIdent } from "./c-text.js";

const ACT = ["silu", "gelu", "gelu_tanh", "relu", "tanh", "sigmoid"] as const;

/** String attributes with a closed set of values, mapped to their index. */
export const STRING_ENUMS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  activation: { fn: ACT },
  gather_rows: { format: ["int4_table", "bf16"] },
  glu: { fn: [...ACT, "clamped_swiglu"] },
  kv_write: { format: ["int4_tiles", "bf16_rows"] },
  moe_route: { scoring: ["softmax", "sigmoid"] },
  rope: { style: ["half", "interleaved"] },
  rope_table: { mode: ["fixed", "switch", "dynamic"] },
  spread_words: { fill: ["-inf", "0"] },
};

/** String attributes naming variables (comma-separated): stored as variable-index arrays. */
export const VAR_ATTRS: Readonly<Record<string, readonly string[]>> = {
  gather_rows: ["tokens"],
};

/** String attributes the C code does not need (documentation only, kept in the step comment). */
export const INFO_ATTRS: Readonly<Record<string, readonly string[]>> = {
  gather_rows: ["tensor"],
};

export const fnMacro = (fn: string): string => `PCCX_HOST_${cIdent(fn).toUpperCase()}`;
export const attrMacro = (fn: string, attr: string): string =>
  `PCCX_ATTR_${cIdent(fn).toUpperCase()}_${cIdent(attr).toUpperCase()}`;
const enumMacro = (fn: string, attr: string, value: string): string =>
  `${attrMacro(fn, attr)}_${value === "-inf" ? "NEG_INF" : cIdent(value).toUpperCase()}`;

/** The spec of a host function, or a generation error naming the step. */
export function hostSpec(step: HostStep, where: string): HostFnSpec {
  const spec = HOST_FUNCTIONS.find((f) => f.name === step.fn);
  if (!spec) {
    throw unsupported(
      "stubs/unknown-host-fn",
      `${where}: host function "${step.fn}" is not in the host-function list`,
      {
        fix: `use one of ${HOST_FUNCTIONS.map((f) => f.name).join(", ")} (src/codegen/host-ops)`,
      },
    );
  }
  return spec;
}

/**
 * The variable names a call reads or sets, in the order the C function expects them
 * (pccx_host_ops.c documents the order per function).
 */
export function hostCallVars(step: HostStep): string[] {
  const a = step.attrs;
  const layer = a["layer"];
  switch (step.fn) {
    case "attention":
      return [`kv_len[${layer}]`];
    case "kv_view":
      return ["pos", `kv_len[${layer}]`, `kv_blocks[${layer}]`, ...kvRowsVars(step)];
    case "kv_write":
      return ["pos", `kv_slot[${layer}]`, `kv_len[${layer}]`, `kv_blocks[${layer}]`, ...kvRowsVars(step)];
    case "moe_route":
      return Array.from({ length: Number(a["topK"] ?? 0) }, (_, j) => `expert[${layer}][${j}]`);
    case "rope":
      return ["pos"];
    case "gather_rows":
      return String(a["tokens"] ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    default:
      return [];
  }
}

/**
 * NPU tiles (`chunk` and `ports` attributes): kv_rows[layer][c][j] for c < ceil(capacity / chunk),
 * j < ports, in that order (the simulator sets them all, declared or not).
 */
function kvRowsVars(step: HostStep): string[] {
  const { layer, capacity, chunk, ports } = step.attrs;
  if (typeof chunk !== "number" || typeof ports !== "number" || chunk < 1) return [];
  const out: string[] = [];
  for (let c = 0; c < Math.ceil(Number(capacity) / chunk); c++)
    for (let j = 0; j < ports; j++) out.push(`kv_rows[${layer}][${c}][${j}]`);
  return out;
}

/** Variables a call sets (the rest of hostCallVars are read). */
export function hostSetsVar(fn: string, name: string): boolean {
  if (fn === "kv_view" || fn === "kv_write") return name !== "pos";
  return fn === "moe_route";
}

export type AttrValue = { readonly num: number } | { readonly arr: readonly number[] } | undefined;

/** An attribute as the C table stores it: a number (enum code for closed strings) or an array. */
export function attrValue(step: HostStep, attr: string, where: string): AttrValue {
  const v = step.attrs[attr];
  if (v === undefined) return undefined;
  if (typeof v === "number") return { num: v };
  if (typeof v === "boolean") return { num: v ? 1 : 0 };
  if (Array.isArray(v)) return { arr: v as readonly number[] };
  const s = String(v);
  const values = STRING_ENUMS[step.fn]?.[attr];
  if (values) {
    const i = values.indexOf(s);
    if (i < 0) {
      throw unsupported(
        "stubs/host-attr",
        `${where}: host ${step.fn} attribute ${attr} = "${s}" is not one of ${values.join(", ")}`,
      );
    }
    return { num: i };
  }
  if (VAR_ATTRS[step.fn]?.includes(attr) || INFO_ATTRS[step.fn]?.includes(attr)) return { num: 0 };
  throw unsupported(
    "stubs/host-attr",
    `${where}: host ${step.fn} string attribute ${attr} = "${s}" has no C encoding`,
    {
      fix: "add it to STRING_ENUMS / VAR_ATTRS in src/stubs/host-fns.ts and to pccx_host_ops.c",
    },
  );
}

/** INT4 table facts of the target: codes per beat of the GEMV ports, beat bytes, scale dtype. */
export function kvFacts(t: Target): {
  codesPerBeat: number;
  beatBytes: number;
  scaleDtype: number;
  scaleBytes: number;
} {
  const port = t.derived.gemv.feed.ports[0];
  const beatBytes = port ? t.derived.ports[port]!.bytes_per_beat : t.file.l2.word_bytes;
  const codesPerBeat = (beatBytes * 8) / t.derived.numeric.weight_bits;
  const dt = t.file.numeric.weights.scale_dtype;
  return {
    codesPerBeat,
    beatBytes,
    scaleDtype: ["bf16", "f16", "f32"].indexOf(dt),
    scaleBytes: dt === "f32" ? 4 : 2,
  };
}

function fnLines(spec: HostFnSpec, id: number): string[] {
  const lines = [`#define ${fnMacro(spec.name)} ${id}`];
  spec.attrs.forEach((a, i) => {
    lines.push(`#define ${attrMacro(spec.name, a.name)} ${i}`);
    STRING_ENUMS[spec.name]?.[a.name]?.forEach((v, k) => {
      lines.push(`#define ${enumMacro(spec.name, a.name, v)} ${k}`);
    });
  });
  return lines;
}

export function renderHostFnsHeader(t: Target): string {
  const kv = kvFacts(t);
  const rowsAttr = HOST_FUNCTIONS.map((f) => f.attrs.findIndex((a) => a.name === "rows"));
  const nAttr = HOST_FUNCTIONS.map((f) => f.attrs.findIndex((a) => a.name === "n"));
  const perRow = HOST_FUNCTIONS.map((f) => perRowInputCount(f));
  return [
    "/* pccx host-function ids and attribute slots: generated by pccxc (src/stubs/host-fns.ts) from",
    " * src/codegen/host-ops/table.ts, do not edit. */",
    "#ifndef PCCX_HOST_FNS_H",
    "#define PCCX_HOST_FNS_H",
    "",
    `#define PCCX_HOST_FN_COUNT ${HOST_FUNCTIONS.length}`,
    ...HOST_FUNCTIONS.flatMap((f, i) => fnLines(f, i)),
    "/* Attribute slot of each function's `rows` attribute (-1: none), indexed by function id. */",
    `#define PCCX_HOST_ROWS_ATTR { ${rowsAttr.join(", ")} }`,
    "/* Slot of each function's `n` attribute (-1: none): the count of its repeated operands. */",
    `#define PCCX_HOST_N_ATTR { ${nAttr.join(", ")} }`,
    "/* `rows` applies to the first FIXED + REPEATED·n inputs (FIXED -1: to all); later inputs are",
    " * parameters read as one row (src/validate/sim/host-rows.ts). */",
    `#define PCCX_HOST_ROW_INPUTS_FIXED { ${perRow.map((c) => c?.fixed ?? -1).join(", ")} }`,
    `#define PCCX_HOST_ROW_INPUTS_REPEATED { ${perRow.map((c) => c?.repeated ?? 0).join(", ")} }`,
    `#define PCCX_HOST_FN_NAMES { ${HOST_FUNCTIONS.map((f) => `"${f.name}"`).join(", ")} }`,
    "",
    "/* INT4 tables and KV (target): codes per beat of the GEMV ports, beat bytes, scale storage. */",
    `#define PCCX_BEAT_CODES ${kv.codesPerBeat}u`,
    `#define PCCX_BEAT_BYTES ${kv.beatBytes}u`,
    `#define PCCX_SCALE_DTYPE ${kv.scaleDtype} /* 0 bf16, 1 f16, 2 f32 */`,
    `#define PCCX_SCALE_BYTES ${kv.scaleBytes}u`,
    "",
    "#endif /* PCCX_HOST_FNS_H */",
    "",
  ].join("\n");
}
