/**
 * program.lst: the annotated listing. Per segment, one line per step — index, kind, the NPU word and
 * its disassembly (src/isa syntax), or the DMA / host / wait details — and a right-hand comment with
 * the layer, graph op, label and HF tensors. A field the driver patches per token shows its
 * relocation instead of its stored value: `b_value=@kv_len[3]`, `offset=@(128*token)`,
 * `bytes=@clamp(16*kv_len[0]+64,0,65536)`.
 */
import { formatInstr, formatWord } from "../../isa/index.js";
import { VERSION } from "../../version.js";
import type { HostOperand, Origin, Program, RelocExpr, Step } from "../program.js";
import { type ArtifactOptions, type InstructionRef, type ProgramView, viewProgram } from "./view.js";

/** Widest text column before comments stop being aligned. */
const MAX_ALIGN = 110;
const NO_WORD = " ".repeat(18);

/** `@name`, `@(16*kv_len[0]+64)`, `@clamp(e,lo,hi)`, `@max(e,lo)`, `@min(e,hi)`. */
export function formatReloc(e: RelocExpr): string {
  const parts = e.terms.map((t) =>
    t.stride === 1 ? t.variable : t.stride === -1 ? `-${t.variable}` : `${t.stride}*${t.variable}`,
  );
  if (e.base !== 0 || parts.length === 0) parts.push(String(e.base));
  const sum = parts.join("+").replaceAll("+-", "-");
  if (e.min !== undefined && e.max !== undefined) return `@clamp(${sum},${e.min},${e.max})`;
  if (e.min !== undefined) return `@max(${sum},${e.min})`;
  if (e.max !== undefined) return `@min(${sum},${e.max})`;
  return parts.length === 1 && e.terms.length === 1 && e.terms[0]!.stride === 1 ? `@${sum}` : `@(${sum})`;
}

/** Replace `name=<value>` in a `name=value ...` line by `name=<relocation>`. */
function mark(text: string, relocs: ReadonlyMap<string, RelocExpr> | undefined): string {
  if (!relocs) return text;
  let out = text;
  for (const [field, e] of relocs) {
    const name = field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    out = out.replace(new RegExp(`(^| )${name}=\\S*`), `$1${field}=${formatReloc(e)}`);
  }
  return out;
}

/** `region+offset elementsxdtype`; a relocated offset or count shows its expression. */
function operand(o: HostOperand, at: string, relocs: ReadonlyMap<string, RelocExpr> | undefined): string {
  const off = relocs?.get(`${at}.offset`);
  const n = relocs?.get(`${at}.elements`);
  const rows = o.rows !== undefined ? ` rows=${o.rows}` : "";
  const blocks = o.blocks ? ` blocks=[${o.blocks.join(",")}]` : "";
  return `${o.region}+${off ? formatReloc(off) : o.offset} ${n ? formatReloc(n) : o.elements}x${o.dtype}${rows}${blocks}`;
}

function attrValue(v: number | string | boolean | readonly number[]): string {
  if (Array.isArray(v)) return `[${v.join(",")}]`;
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function details(
  step: Step,
  ins: InstructionRef | undefined,
  view: ProgramView,
  relocs: ReadonlyMap<string, RelocExpr> | undefined,
): string {
  switch (step.kind) {
    case "npu":
      return formatInstr(ins!.instr, view.isa);
    case "dma":
      return `port=${step.port} region=${step.region} offset=${step.offset} bytes=${step.bytes} tag=${step.tag}`;
    case "host": {
      const attrs = Object.keys(step.attrs)
        .sort()
        .map((k) => `${k}=${attrValue(step.attrs[k]!)}`);
      const ins = step.inputs.map((o, i) => operand(o, `inputs[${i}]`, relocs)).join(", ");
      const outs = step.outputs.map((o, i) => operand(o, `outputs[${i}]`, relocs)).join(", ");
      const io = `${step.fn}(${ins}) -> (${outs})`;
      return [io, ...attrs].join(" ");
    }
    case "wait":
      return step.on.kind === "dma" ? `dma port=${step.on.port} tag=${step.on.tag}` : step.on.kind;
  }
}

function comment(o: Origin, step: Step): string {
  const parts = [o.layer !== undefined ? `L${o.layer}` : "-"];
  if (o.op !== undefined) parts.push(o.op);
  parts.push(JSON.stringify(o.label));
  if (step.kind === "npu" && step.weightSegment !== undefined) parts.push(`weights=${step.weightSegment}`);
  if (step.kind === "npu" && step.intent !== undefined) parts.push(`intent=${step.intent}`);
  if (o.tensors?.length) parts.push(`tensors: ${o.tensors.join(", ")}`);
  return parts.join("  ");
}

/** program.lst text of `program`. */
export function renderProgramListing(program: Program, opts: ArtifactOptions = {}): string {
  return listingText(viewProgram(program, opts));
}

export function listingText(view: ProgramView): string {
  const p = view.program;
  const steps = p.segments.flatMap((s) => s.steps);
  const count = (k: Step["kind"]) => steps.filter((s) => s.kind === k).length;
  const out = [
    `; pccxc ${VERSION} program listing`,
    `; model ${p.model}, target ${p.target} (${p.targetFingerprint})${p.context !== undefined ? `, context ${p.context}` : ""}`,
    `; ${p.segments.length} segments, ${steps.length} steps (${count("npu")} npu, ${count("dma")} dma, ${count("host")} host, ${count("wait")} wait), ${p.relocations.length} relocations`,
    "; a field written name=@expr is patched by the driver before each replay: value = expr over the variables",
  ];
  for (const v of p.variables) out.push(`;   ${v.name} (set by ${v.setBy}): ${v.doc}`);
  const ext = Object.entries(view.cvoExtensions);
  if (ext.length) out.push(`; CVO extensions: ${ext.map(([n, c]) => `${n}=${c}`).join(", ")}`);

  const relocs = new Map<string, Map<string, RelocExpr>>();
  for (const r of p.relocations) {
    const key = `${r.segment}\u0000${r.step}`;
    if (!relocs.has(key)) relocs.set(key, new Map());
    relocs.get(key)!.set(r.field, r.expr);
  }

  for (const [si, seg] of p.segments.entries()) {
    const maxPos = seg.maxPos !== undefined ? `, max pos ${seg.maxPos}` : "";
    out.push("", `segment ${seg.name} (${seg.kind}${maxPos}): ${seg.steps.length} steps`);
    const w = String(Math.max(0, seg.steps.length - 1)).length;
    const rows = seg.steps.map((step, j) => {
      const ins = view.npu[si]![j];
      const stepRelocs = relocs.get(`${seg.name}\u0000${j}`);
      const shown = details(step, ins, view, stepRelocs);
      // host operands mark their relocations themselves; other steps are name=value lists
      const text = step.kind === "host" ? shown : mark(shown, stepRelocs);
      const head = `${String(j).padStart(w)}  ${step.kind.padEnd(4)}  ${ins ? formatWord(ins.word) : NO_WORD}  ${text}`;
      return { head, note: comment(step.origin, step) };
    });
    const width = Math.min(MAX_ALIGN, Math.max(0, ...rows.map((r) => r.head.length)));
    for (const r of rows) out.push(`  ${r.head.padEnd(width)}  ; ${r.note}`);
  }
  return `${out.join("\n")}\n`;
}
