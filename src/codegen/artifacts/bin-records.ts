/**
 * program.bin records that reference other sections — origins (tensor lists), host steps (operands,
 * blocks, attributes, numbers) and relocations (terms, field ids checked against the ISA table) —
 * read with every index bounds-checked and every reserved byte required to be zero.
 */
import type { CompiledIsa } from "../../isa/index.js";
import type { HostOperand, HostStep, Origin, Relocation, Segment } from "../program.js";
import type { BinReader } from "./bin-container.js";
import {
  ATTR,
  NONE,
  OPERAND,
  OPERAND_HAS_BLOCKS,
  OPERAND_HAS_ROWS,
  ORIGIN,
  ORIGIN_HAS_TENSORS,
  RELOC,
  RELOC_HAS_MAX,
  RELOC_HAS_MIN,
  STEP,
  TERM,
} from "./bin-layout.js";
import { relocTarget } from "./check.js";
import { ATTR_TYPES, HOST_DTYPES } from "./enums.js";

export function readOrigin(r: BinReader, o: number): Origin {
  const flags = r.u32(o + ORIGIN.flags);
  if (flags & ~ORIGIN_HAS_TENSORS)
    throw r.fail("artifacts/bin-reserved", o + ORIGIN.flags, "unknown origin flag bits");
  const first = r.u32(o + ORIGIN.firstTensor);
  const n = r.u32(o + ORIGIN.tensorCount);
  if (!(flags & ORIGIN_HAS_TENSORS) && n !== 0)
    throw r.fail("artifacts/bin-value", o + ORIGIN.tensorCount, "tensors are counted but flagged absent");
  r.range("tensors", first, n, o + ORIGIN.firstTensor);
  const op = r.optStr(o + ORIGIN.op);
  const layer = r.u32(o + ORIGIN.layer);
  return {
    label: r.str(o + ORIGIN.label),
    ...(op !== undefined ? { op } : {}),
    ...(layer !== NONE ? { layer } : {}),
    ...(flags & ORIGIN_HAS_TENSORS
      ? { tensors: Array.from({ length: n }, (_, k) => r.str(r.rec("tensors", first + k))) }
      : {}),
  };
}

export function readHost(r: BinReader, o: number, origin: Origin): HostStep {
  r.zero(o + STEP.a, 1, "host step byte 1");
  const first = r.u32(o + STEP.p4);
  const nIn = r.u32(o + STEP.p8);
  const nOut = r.u32(o + STEP.p12);
  r.range("operands", first, nIn + nOut, o + STEP.p4);
  const operand = (k: number): HostOperand => {
    const p = r.rec("operands", first + k);
    const flags = r.u8(p + OPERAND.flags);
    if (flags & ~(OPERAND_HAS_ROWS | OPERAND_HAS_BLOCKS))
      throw r.fail("artifacts/bin-reserved", p + OPERAND.flags, "unknown operand flag bits");
    r.zero(p + 6, 2, "operand padding");
    r.zero(p + 36, 4, "operand padding");
    if (!(flags & OPERAND_HAS_ROWS)) r.zero(p + OPERAND.rows, 4, "rows of an operand without rows");
    if (!(flags & OPERAND_HAS_BLOCKS))
      r.zero(p + OPERAND.firstBlock, 8, "blocks of an operand without blocks");
    const fb = r.u32(p + OPERAND.firstBlock);
    const nb = r.u32(p + OPERAND.blockCount);
    r.range("blocks", fb, nb, p + OPERAND.firstBlock);
    return {
      region: r.str(p + OPERAND.region),
      offset: r.u64(p + OPERAND.offset),
      elements: r.u64(p + OPERAND.elements),
      dtype: r.enumOf(p + OPERAND.dtype, HOST_DTYPES, "operand dtype"),
      ...(flags & OPERAND_HAS_ROWS ? { rows: r.u32(p + OPERAND.rows) } : {}),
      ...(flags & OPERAND_HAS_BLOCKS
        ? { blocks: Array.from({ length: nb }, (_, i) => r.u32(r.rec("blocks", fb + i))) }
        : {}),
    };
  };
  const firstAttr = r.u32(o + STEP.p16);
  const nAttr = r.u32(o + STEP.p20);
  r.range("attrs", firstAttr, nAttr, o + STEP.p16);
  const attrs: Record<string, number | string | boolean | number[]> = {};
  for (let k = 0; k < nAttr; k++) {
    const a = r.rec("attrs", firstAttr + k);
    const key = r.str(a + ATTR.key);
    if (Object.hasOwn(attrs, key)) throw r.fail("artifacts/bin-value", a, `attribute ${key} appears twice`);
    r.zero(a + 5, 3, "attribute padding");
    const type = r.enumOf(a + ATTR.type, ATTR_TYPES, "attribute type");
    if (type === "number") attrs[key] = r.f64(a + ATTR.value);
    else if (type === "string") {
      r.zero(a + ATTR.count, 4, "attribute padding");
      attrs[key] = r.str(a + ATTR.value);
    } else if (type === "bool") {
      r.zero(a + ATTR.count, 4, "attribute padding");
      const v = r.u32(a + ATTR.value);
      if (v > 1) throw r.fail("artifacts/bin-value", a + ATTR.value, `boolean ${v} is not 0 or 1`);
      attrs[key] = v === 1;
    } else {
      const f = r.u32(a + ATTR.value);
      const n = r.u32(a + ATTR.count);
      r.range("numbers", f, n, a + ATTR.value);
      attrs[key] = Array.from({ length: n }, (_, i) => r.f64(r.rec("numbers", f + i)));
    }
  }
  return {
    kind: "host",
    fn: r.str(o + STEP.p0),
    inputs: Array.from({ length: nIn }, (_, k) => operand(k)),
    outputs: Array.from({ length: nOut }, (_, k) => operand(nIn + k)),
    attrs,
    origin,
  };
}

export function readReloc(
  r: BinReader,
  o: number,
  segments: readonly Segment[],
  isa: CompiledIsa,
): Relocation {
  const si = r.u32(o + RELOC.segment);
  const seg = segments[si];
  if (!seg)
    throw r.fail(
      "artifacts/bin-bounds",
      o + RELOC.segment,
      `segment ${si} does not exist (there are ${segments.length})`,
    );
  const stepIndex = r.u32(o + RELOC.step);
  const step = seg.steps[stepIndex];
  if (!step)
    throw r.fail("artifacts/bin-bounds", o + RELOC.step, `segment ${seg.name} has no step ${stepIndex}`);
  const field = r.str(o + RELOC.field);
  const t = relocTarget(step, field, isa);
  if (typeof t === "string") throw r.fail("artifacts/bin-value", o + RELOC.field, t);
  if (
    r.u16(o + RELOC.fieldId) !== t.id ||
    r.u8(o + RELOC.lsb) !== t.lsb ||
    r.u8(o + RELOC.width) !== t.width
  ) {
    throw r.fail(
      "artifacts/bin-value",
      o + RELOC.fieldId,
      `field id/lsb/width of ${field} should be ${t.id}/${t.lsb}/${t.width}`,
    );
  }
  const flags = r.u16(o + RELOC.flags);
  if (flags & ~(RELOC_HAS_MIN | RELOC_HAS_MAX))
    throw r.fail("artifacts/bin-reserved", o + RELOC.flags, "unknown relocation flag bits");
  if (!(flags & RELOC_HAS_MIN)) r.zero(o + RELOC.min, 8, "min of a relocation without one");
  if (!(flags & RELOC_HAS_MAX)) r.zero(o + RELOC.max, 8, "max of a relocation without one");
  const first = r.u32(o + RELOC.firstTerm);
  const n = r.u16(o + RELOC.termCount);
  r.range("terms", first, n, o + RELOC.firstTerm);
  const terms = Array.from({ length: n }, (_, k) => {
    const t = r.rec("terms", first + k);
    r.zero(t + 4, 4, "term padding");
    return { variable: r.str(t + TERM.variable), stride: r.i64(t + TERM.stride) };
  });
  return {
    segment: seg.name,
    step: stepIndex,
    field,
    expr: {
      base: r.i64(o + RELOC.base),
      terms,
      ...(flags & RELOC_HAS_MIN ? { min: r.i64(o + RELOC.min) } : {}),
      ...(flags & RELOC_HAS_MAX ? { max: r.i64(o + RELOC.max) } : {}),
    },
  };
}
