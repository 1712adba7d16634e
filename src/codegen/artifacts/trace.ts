/**
 * Traceability between the model and the program: from any step back to its graph op, layer and HF
 * tensors (its origin), and from any HF tensor, graph op or layer forward to the steps that touch
 * it. `traceIndex` builds the maps; trace-index.json writes them (docs/artifacts.md).
 */
import { VERSION } from "../../version.js";
import type { Origin, Program, Step } from "../program.js";
import { linesJson } from "./json-text.js";

/** A step of the program: its segment name and its index in that segment. */
export interface StepRef {
  readonly segment: string;
  readonly step: number;
}

export interface TraceIndex {
  /** HF tensor name → steps whose origin names it (program order). */
  readonly byTensor: ReadonlyMap<string, readonly StepRef[]>;
  /** Graph op id → its steps. */
  readonly byOp: ReadonlyMap<string, readonly StepRef[]>;
  /** Layer → its steps (keys ascending). */
  readonly byLayer: ReadonlyMap<number, readonly StepRef[]>;
  /** Back from a step to where it comes from; undefined for a step the program does not have. */
  origin(ref: StepRef): Origin | undefined;
  step(ref: StepRef): Step | undefined;
}

/** `decode:12`: how trace-index.json writes a step reference. */
export const formatStepRef = (r: StepRef) => `${r.segment}:${r.step}`;

export function parseStepRef(text: string): StepRef | undefined {
  const m = /^(.*):(\d+)$/.exec(text);
  return m ? { segment: m[1]!, step: Number(m[2]) } : undefined;
}

function push<K>(map: Map<K, StepRef[]>, key: K, ref: StepRef) {
  const list = map.get(key);
  if (list) list.push(ref);
  else map.set(key, [ref]);
}

export function traceIndex(program: Program): TraceIndex {
  const byTensor = new Map<string, StepRef[]>();
  const byOp = new Map<string, StepRef[]>();
  const layers = new Map<number, StepRef[]>();
  const segs = new Map(program.segments.map((s) => [s.name, s]));
  for (const seg of program.segments) {
    for (const [j, s] of seg.steps.entries()) {
      const ref = { segment: seg.name, step: j };
      const o = s.origin;
      if (o.op !== undefined) push(byOp, o.op, ref);
      if (o.layer !== undefined) push(layers, o.layer, ref);
      for (const t of new Set(o.tensors ?? [])) push(byTensor, t, ref);
    }
  }
  const byLayer = new Map([...layers].sort((a, b) => a[0] - b[0]));
  const step = (ref: StepRef) => segs.get(ref.segment)?.steps[ref.step];
  return { byTensor, byOp, byLayer, step, origin: (ref) => step(ref)?.origin };
}

const uniq = <T>(xs: Iterable<T>) => [...new Set(xs)];

/** trace-index.json text of `program`. */
export function renderTraceIndexJson(program: Program): string {
  const idx = traceIndex(program);
  const originKeys = new Map<string, number>();
  const origins: Record<string, unknown>[] = [];
  const steps: Record<string, number[]> = {};
  for (const seg of program.segments) {
    steps[seg.name] = seg.steps.map((s) => {
      const o = s.origin;
      const entry = {
        label: o.label,
        ...(o.op !== undefined ? { op: o.op } : {}),
        ...(o.layer !== undefined ? { layer: o.layer } : {}),
        ...(o.tensors !== undefined ? { tensors: [...o.tensors] } : {}),
      };
      const key = JSON.stringify(entry);
      let i = originKeys.get(key);
      if (i === undefined) {
        i = origins.length;
        originKeys.set(key, i);
        origins.push(entry);
      }
      return i;
    });
  }
  const originsOf = (refs: readonly StepRef[]) => refs.map((r) => idx.origin(r)!);
  const doc = {
    schema_version: 1,
    kind: "pccxc_trace_index",
    compiler: { name: "pccxc", version: VERSION },
    target: { name: program.target, fingerprint: program.targetFingerprint },
    model: program.model,
    tensors: Object.fromEntries(
      [...idx.byTensor].map(([t, refs]) => [
        t,
        {
          ops: uniq(originsOf(refs).flatMap((o) => (o.op !== undefined ? [o.op] : []))),
          steps: refs.map(formatStepRef),
        },
      ]),
    ),
    ops: Object.fromEntries(
      [...idx.byOp].map(([op, refs]) => [
        op,
        {
          layers: uniq(originsOf(refs).flatMap((o) => (o.layer !== undefined ? [o.layer] : []))),
          tensors: uniq(originsOf(refs).flatMap((o) => o.tensors ?? [])),
          steps: refs.map(formatStepRef),
        },
      ]),
    ),
    layers: Object.fromEntries(
      [...idx.byLayer].map(([layer, refs]) => [
        String(layer),
        {
          ops: uniq(originsOf(refs).flatMap((o) => (o.op !== undefined ? [o.op] : []))),
          steps: refs.map(formatStepRef),
        },
      ]),
    ),
    origins,
    steps,
  };
  return linesJson(doc, new Set(["tensors", "ops", "layers", "origins", "steps"]));
}
