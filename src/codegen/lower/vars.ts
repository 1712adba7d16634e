/**
 * The per-token variables relocations refer to (docs/program.md §2), registered in the program as
 * they are first used, with who sets them.
 */
import { internalError } from "../errors.js";
import { parseVariable, variablesRead } from "../host-ops/index.js";
import type { HostStep } from "../program.js";
import type { Lower } from "./context.js";

export function posVar(L: Lower): string {
  return L.variable("pos", "position of the segment's first token (decode: the token's position)", "driver");
}

/** The token id variable of row t: `token` in decode, `token[t]` in a prefill chunk. */
export function tokenVar(L: Lower, t: number): string {
  if (L.seg.kind === "decode")
    return L.variable("token", "input token id of the decode step (its embedding row)", "driver");
  return L.variable(`token[${t}]`, `token id of row ${t} of the prefill chunk`, "driver");
}

export function kvLenVar(L: Lower, layer: number): string {
  return L.variable(
    `kv_len[${layer}]`,
    `rows of layer ${layer}'s cache visible to the current token: min(position + 1, ring slots); set by kv_write (kv_view for a sharing layer in prefill)`,
    "host",
  );
}

export function kvBlocksVar(L: Lower, layer: number): string {
  return L.variable(
    `kv_blocks[${layer}]`,
    `ceil(kv_len[${layer}] / 32): 32-slot blocks of layer ${layer}'s V tile holding the visible rows`,
    "host",
  );
}

export function kvSlotVar(L: Lower, layer: number): string {
  return L.variable(
    `kv_slot[${layer}]`,
    `ring slot written by the current token in layer ${layer}: position mod ring slots`,
    "host",
  );
}

/** Rows of chunk c of layer `layer`'s K tile carried by port j (see kv_write). */
export function kvRowsVar(L: Lower, layer: number, c: number, j: number): string {
  return L.variable(
    `kv_rows[${layer}][${c}][${j}]`,
    `K rows of attention chunk ${c} of layer ${layer} on the ${j}-th GEMV port: N = clamp(kv_len − ${c}·chunk, 0, chunk), r = ceil(N/ports), clamp(N − ${j}·r, 0, r)`,
    "host",
  );
}

export function expertVar(L: Lower, layer: number, j: number): string {
  return L.variable(
    `expert[${layer}][${j}]`,
    `index of the ${j}-th expert chosen by layer ${layer}'s router (set by moe_route)`,
    "host",
  );
}

/**
 * Declares every variable a host step reads (the function list's `reads`, resolved with its
 * attributes): a variable the driver or the simulator must provide is always in program.variables.
 */
export function declareHostReads(L: Lower, fn: string, attrs: HostStep["attrs"]): void {
  for (const name of variablesRead(fn, attrs)) {
    const { base, idx } = parseVariable(name);
    if (base === "pos") posVar(L);
    else if (base === "token") tokenVar(L, idx[0] ?? 0);
    else if (base === "kv_len" && idx[0] !== undefined) kvLenVar(L, idx[0]);
    else if (!L.reg.variables.has(name))
      throw internalError(`host step ${fn} reads variable ${name}, which lower/vars.ts cannot declare`);
  }
}
