/**
 * Checks of a program that do not depend on per-token variables: every NPU step encodes with the
 * target's ISA view, MEMCPY directions exist on the target, DMA steps name known regions and
 * channels, host steps conform to the host function list and read and set declared variables only,
 * waits name valid tags, relocations name existing steps, fields and declared variables.
 */
import type { Diagnostic } from "../../diag/index.js";
import { encode } from "../../isa/index.js";
import { hostStepProblems, variablesRead, variablesSet } from "../host-ops/index.js";
import type { Machine } from "../machine.js";
import type { Program, Step } from "../program.js";

const INSTR_FIELDS: Readonly<Record<string, readonly string[]>> = {
  GEMV: ["dest_reg", "src_addr", "size_ptr_addr", "shape_ptr_addr", "parallel_lane"],
  GEMM: ["dest_reg", "src_addr", "size_ptr_addr", "shape_ptr_addr", "parallel_lane"],
  MEMCPY: ["dest_addr", "src_addr", "aux_addr", "shape_ptr_addr", "async"],
  MEMSET: ["a_value", "b_value", "c_value", "dest_addr"],
  CVO: ["src_addr", "dst_addr", "length", "async"],
};

/** Host operands in this region read the off-DDR part of weights.bin (docs/program.md §5). */
export const FILE_REGION = "offddr";

const CHANNELS = new Set(["hp0", "hp1", "hp2", "hp3", "acp_fmap", "acp_result"]);

export function diag(code: string, message: string, seg?: number, step?: number): Diagnostic {
  return {
    code,
    severity: "error",
    message,
    ...(seg !== undefined
      ? { at: { jsonPath: step !== undefined ? `segments[${seg}].steps[${step}]` : `segments[${seg}]` } }
      : {}),
  };
}

export const label = (s: Step) =>
  `"${s.origin.label}"${s.origin.layer !== undefined ? ` (layer ${s.origin.layer})` : ""}`;

export function staticChecks(p: Program, m: Machine): Diagnostic[] {
  const out: Diagnostic[] = [];
  const regions = new Set(p.ddr.map((r) => r.name));
  const channels = new Set(m.target.file.datamover.channels.map((c) => c.name));
  const declared = new Set(p.variables.map((v) => v.name));
  p.segments.forEach((seg, si) => {
    seg.steps.forEach((s, i) => {
      if (s.kind === "npu") {
        try {
          encode(s.instr as Parameters<typeof encode>[0], m.isaOptions);
        } catch (e) {
          out.push(diag("verify/encode", `step ${label(s)} does not encode: ${(e as Error).message}`, si, i));
        }
        if (s.instr.opcode === "MEMCPY") {
          const f = s.instr.fields;
          const dir = f.from_device === 1 ? "host_to_l2" : f.to_device === 1 ? "l2_to_host" : "l2_to_l2";
          if (!m.memcpyDirections.has(dir))
            out.push(
              diag(
                "verify/memcpy-direction",
                `MEMCPY ${label(s)} moves ${dir}, which target ${m.target.file.name} does not execute`,
                si,
                i,
              ),
            );
          if (f.aux_addr !== 0)
            out.push(
              diag(
                "verify/memcpy-aux",
                `MEMCPY ${label(s)} sets aux_addr; the DDR address comes from the paired DataMover command`,
                si,
                i,
              ),
            );
        }
        if (s.instr.opcode === "CVO" && !m.cvo.has(String(s.instr.fields.cvo_func)))
          out.push(
            diag(
              "verify/cvo",
              `CVO ${label(s)} uses ${String(s.instr.fields.cvo_func)}, which the target does not declare`,
              si,
              i,
            ),
          );
      } else if (s.kind === "dma") {
        if (!CHANNELS.has(s.port) || !channels.has(s.port))
          out.push(
            diag("verify/channel", `DMA ${label(s)} names channel ${s.port}, unknown to the target`, si, i),
          );
        if (!regions.has(s.region))
          out.push(
            diag("verify/region", `DMA ${label(s)} names DDR region ${s.region}, not in the program`, si, i),
          );
        if (s.tag < 0 || s.tag >= m.dmaTags)
          out.push(diag("verify/tag", `DMA ${label(s)} tag ${s.tag} outside 0..${m.dmaTags - 1}`, si, i));
      } else if (s.kind === "host") {
        for (const pr of hostStepProblems(s))
          out.push(diag("verify/host", `host step ${label(s)}: ${pr}`, si, i));
        for (const [verb, names] of [
          ["reads", variablesRead(s.fn, s.attrs)],
          ["sets", variablesSet(s.fn, s.attrs)],
        ] as const)
          for (const v of names)
            if (!declared.has(v))
              out.push(
                diag(
                  "verify/variable",
                  `host step ${label(s)} ${verb} variable ${v}, which program.variables does not declare`,
                  si,
                  i,
                ),
              );
        for (const o of [...s.inputs, ...s.outputs])
          if (
            !regions.has(o.region) &&
            !(o.region === FILE_REGION && s.outputs.every((x) => x.region !== FILE_REGION))
          )
            out.push(
              diag(
                "verify/region",
                `host step ${label(s)} names DDR region ${o.region}, not in the program`,
                si,
                i,
              ),
            );
      } else if (s.kind === "wait" && s.on.kind === "dma") {
        if (!channels.has(s.on.port))
          out.push(diag("verify/channel", `wait ${label(s)} names channel ${s.on.port}`, si, i));
      }
    });
  });
  p.relocations.forEach((r, ri) => {
    const si = p.segments.findIndex((s) => s.name === r.segment);
    const s = p.segments[si]?.steps[r.step];
    const where = { jsonPath: `relocations[${ri}]` };
    if (!s) {
      out.push({
        code: "verify/reloc",
        severity: "error",
        message: `relocation ${ri} names step ${r.step} of ${r.segment}, which does not exist`,
        at: where,
      });
      return;
    }
    const operand = /^(inputs|outputs)\[(\d+)\]\.(offset|elements)$/.exec(r.field);
    const ok =
      s.kind === "dma"
        ? r.field === "offset" || r.field === "bytes"
        : s.kind === "host"
          ? operand !== null && Number(operand[2]) < (operand[1] === "inputs" ? s.inputs : s.outputs).length
          : s.kind === "npu" && (INSTR_FIELDS[s.instr.opcode] ?? []).includes(r.field);
    if (!ok)
      out.push({
        code: "verify/reloc",
        severity: "error",
        message: `relocation ${ri} targets field ${r.field} of ${label(s)}, which cannot be relocated`,
        at: where,
      });
    for (const t of r.expr.terms)
      if (!declared.has(t.variable))
        out.push({
          code: "verify/reloc",
          severity: "error",
          message: `relocation ${ri} uses undeclared variable ${t.variable}`,
          at: where,
        });
  });
  return out;
}
