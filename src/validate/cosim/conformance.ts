/**
 * Conformance of a driver's event log to its program: replays the program in TypeScript — segment
 * runs as the driver announced them, the driver variables recomputed from the positions and the
 * token sequence, host-set variables as the driver reported them, relocations evaluated, words
 * encoded through src/isa, DataMover commands encoded from the target — and checks that every NPU
 * store and DataMover command of the log is the one the program's next step calls for, in order.
 */
import type { Program, Relocation, Segment } from "../../codegen/program.js";
import { evalReloc } from "../../codegen/program.js";
import { encode } from "../../isa/index.js";
import type { Target } from "../../target/index.js";
import { driverVariables, type KvGeometry } from "../sim/generate.js";
import { isaOptionsFor } from "../sim/npu.js";
import { encodeDmCommand } from "./datamover.js";
import { dmLine, npuLine } from "./protocol.js";

export interface ConformanceInput {
  readonly program: Program;
  readonly target: Target;
  /** The log lines (server side): `npu …`, `dm …` and `# note` lines in arrival order. */
  readonly events: readonly string[];
  /** Bus address of each region's buffer. */
  readonly buffers: ReadonlyMap<string, number>;
  /** Prompt followed by the generated tokens (what each run fed). */
  readonly sequence: readonly number[];
  /** Tokens of the prompt (prefill chunks never run past it). */
  readonly promptLength: number;
  readonly layers?: Readonly<Record<number, KvGeometry>>;
}

export interface ConformanceResult {
  readonly runs: number;
  readonly npu: number;
  readonly dma: number;
  /** Mismatches, first ones first (at most 20). */
  readonly problems: readonly string[];
}

const RUN = /^# run (\d+) segment (\S+) pos (\d+)$/;
const VAR = /^# var (\S+) (-?\d+)$/;

class Cursor {
  i = 0;
  constructor(readonly lines: readonly string[]) {}
  peek(): string | undefined {
    return this.lines[this.i];
  }
  next(): string | undefined {
    return this.lines[this.i++];
  }
  /** Consumes `# var` lines into `vars`. */
  vars(into: Map<string, number>): void {
    for (let m = VAR.exec(this.peek() ?? ""); m; m = VAR.exec(this.peek() ?? "")) {
      into.set(m[1]!, Number(m[2]));
      this.i++;
    }
  }
}

function relocsBySegment(p: Program): Map<string, Map<number, Relocation[]>> {
  const out = new Map<string, Map<number, Relocation[]>>();
  for (const r of p.relocations) {
    const seg = out.get(r.segment) ?? new Map<number, Relocation[]>();
    out.set(r.segment, seg);
    seg.set(r.step, [...(seg.get(r.step) ?? []), r]);
  }
  return out;
}

/** Tokens a run at `pos` fed: a prefill chunk or one decode token. */
function runTokens(p: Program, seg: Segment, pos: number, input: ConformanceInput): number[] {
  if (seg.kind !== "prefill") return input.sequence.slice(pos, pos + 1);
  const chunk = Math.max(1, p.variables.filter((v) => /^token\[\d+\]$/.test(v.name)).length);
  return input.sequence.slice(pos, Math.min(pos + chunk, input.promptLength));
}

export function checkConformance(input: ConformanceInput): ConformanceResult {
  const { program: p, target: t } = input;
  const problems: string[] = [];
  const bad = (m: string) => {
    if (problems.length < 20) problems.push(m);
  };
  const relocs = relocsBySegment(p);
  const isa = isaOptionsFor(t);
  const ports = t.file.datamover.channels.map((c) => c.name);
  const cur = new Cursor(input.events.filter((l) => !l.startsWith("# init") && l !== "# reset"));
  let runs = 0;
  let npu = 0;
  let dma = 0;
  while (cur.peek() !== undefined && problems.length < 20) {
    const head = cur.next()!;
    const m = RUN.exec(head);
    if (!m) {
      bad(`line ${cur.i}: "${head}" outside any segment run`);
      continue;
    }
    runs++;
    const seg = p.segments.find((s) => s.name === m[2]);
    if (!seg) {
      bad(`run ${m[1]}: the program has no segment ${m[2]}`);
      break;
    }
    const pos = Number(m[3]);
    const vars = new Map<string, number>();
    cur.vars(vars);
    const expected =
      seg.kind === "load"
        ? {}
        : driverVariables(p.variables, pos, runTokens(p, seg, pos, input), input.layers);
    for (const [k, v] of Object.entries(expected)) {
      if (vars.get(k) !== v)
        bad(`run ${m[1]} (${seg.name} pos ${pos}): driver variable ${k} = ${vars.get(k)}, expected ${v}`);
    }
    const segRelocs = relocs.get(seg.name) ?? new Map<number, Relocation[]>();
    const where = (i: number) => `run ${m[1]} ${seg.name} step ${i} (${seg.steps[i]!.origin.label})`;
    seg.steps.forEach((s, i) => {
      if (problems.length >= 20) return;
      let patches: Record<string, number> = {};
      try {
        patches = Object.fromEntries((segRelocs.get(i) ?? []).map((r) => [r.field, evalReloc(r.expr, vars)]));
      } catch (e) {
        bad(`${where(i)}: ${(e as Error).message}`);
      }
      if (s.kind === "npu") {
        npu++;
        const want = npuLine(
          t.file.mmio.instruction_offset,
          encode({ opcode: s.instr.opcode, fields: { ...s.instr.fields, ...patches } }, isa),
        );
        const got = cur.next();
        if (got !== want) bad(`${where(i)}: expected "${want}", the driver did "${got ?? "nothing"}"`);
      } else if (s.kind === "dma") {
        const bytes = patches["bytes"] ?? s.bytes;
        if (bytes === 0) return;
        dma++;
        const phys = input.buffers.get(s.region);
        const cmd = encodeDmCommand(t, {
          bytes,
          address: BigInt((phys ?? 0) + (patches["offset"] ?? s.offset)),
          tag: patches["tag"] ?? s.tag,
        });
        const want = dmLine(ports.indexOf(s.port), cmd.lo, cmd.hi);
        const got = cur.next();
        if (got !== want)
          bad(
            `${where(i)}: expected "${want}" (${s.port} ${s.region}+${patches["offset"] ?? s.offset}), the driver did "${got ?? "nothing"}"`,
          );
      } else if (s.kind === "host") cur.vars(vars);
    });
    const end = cur.next();
    if (end !== `# end ${seg.name}`)
      bad(`run ${m[1]} ${seg.name}: expected the end of the segment, got "${end ?? "end of log"}"`);
  }
  return { runs, npu, dma, problems };
}
