/**
 * Test helpers for src/codegen/artifacts: a fast-check arbitrary of complete, consistent Programs
 * (every step kind, NPU instructions drawn from the ISA table and normalised through the codec,
 * relocations on relocatable fields, allocations with live ranges, and every optional field of the
 * model present or absent: context, segment maxPos, operand rows and blocks), temp dirs, and the
 * in-process CLI.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { relocTarget } from "../../../src/codegen/artifacts/index.js";
import type {
  Allocation,
  DdrRegion,
  HostOperand,
  NpuInstr,
  Origin,
  Program,
  Relocation,
  Segment,
  Step,
  Variable,
} from "../../../src/codegen/program.js";
import { compiledIsa, decode, encode, type IsaOptions } from "../../../src/isa/index.js";
import { type CliRun, runCli as runCliShared } from "../../helpers/cli.js";

/** Drop undefined-valued keys (the readers never create them). */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const str = fc.string({ unit: "grapheme", maxLength: 12 }).filter((s) => !s.includes("\u0000"));
const name = fc.stringMatching(/^[a-z][a-z0-9_.]{0,10}$/);
const u32 = fc.integer({ min: 0, max: 0xfffffffe });
const u53 = fc.oneof(fc.nat(5000), fc.maxSafeNat());

/** A valid instruction, normalised (what decode(encode(i)) gives). */
export function instrArb(isa: IsaOptions = {}): fc.Arbitrary<NpuInstr> {
  const ops = [...compiledIsa(isa).byMnemonic.values()];
  return fc
    .constantFrom(...ops)
    .chain((op) =>
      fc.tuple(
        fc.constant(op),
        fc.tuple(
          ...op.valueFields.map((f): fc.Arbitrary<unknown> => {
            if (f.kind === "enum") return fc.constantFrom(...[...f.names.keys()]);
            if (f.kind === "flags")
              return fc.record(Object.fromEntries(f.flags.map((b) => [b.name, fc.constantFrom(0, 1)])));
            return fc.integer({ min: 0, max: f.limit });
          }),
        ),
      ),
    )
    .map(([op, values]) => ({
      opcode: op.mnemonic,
      fields: Object.fromEntries(op.valueFields.map((f, i) => [f.name, values[i]])),
    }))
    .filter((i) => {
      try {
        encode(i, isa);
        return true;
      } catch {
        return false;
      }
    })
    .map((i) => decode(encode(i, isa), "strict", isa) as NpuInstr);
}

const originArb: fc.Arbitrary<Origin> = fc
  .record({
    label: str,
    op: fc.option(name, { nil: undefined }),
    layer: fc.option(fc.nat(40), { nil: undefined }),
    tensors: fc.option(fc.array(name, { maxLength: 3 }), { nil: undefined }),
  })
  .map(compact);

const PORTS = ["hp0", "hp1", "hp2", "hp3", "acp_fmap", "acp_result"] as const;

function stepArb(regions: readonly string[]): fc.Arbitrary<Step> {
  const region = fc.constantFrom(...regions);
  const operand: fc.Arbitrary<HostOperand> = fc
    .record({
      region,
      offset: u53,
      elements: u53,
      dtype: fc.constantFrom("f32", "bf16", "i32", "int4" as const),
      rows: fc.option(u32, { nil: undefined }),
      blocks: fc.option(fc.array(u32, { maxLength: 3 }), { nil: undefined }),
    })
    .map(compact);
  const attr = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x)),
    str,
    fc.boolean(),
    fc.array(fc.integer(), { maxLength: 3 }),
  );
  return fc.oneof(
    fc
      .record({
        instr: instrArb(),
        origin: originArb,
        intent: fc.option(name, { nil: undefined }),
        weightSegment: fc.option(name, { nil: undefined }),
      })
      .map((s) => compact({ kind: "npu" as const, ...s })),
    fc
      .record({
        port: fc.constantFrom(...PORTS),
        region,
        offset: u53,
        bytes: u53,
        tag: u32,
        origin: originArb,
      })
      .map((s) => ({ kind: "dma" as const, ...s })),
    fc
      .record({
        fn: name,
        inputs: fc.array(operand, { maxLength: 2 }),
        outputs: fc.array(operand, { maxLength: 2 }),
        attrs: fc.dictionary(name, attr, { maxKeys: 3 }),
        origin: originArb,
      })
      .map((s) => ({ kind: "host" as const, ...s })),
    fc
      .record({
        on: fc.oneof(
          fc.constant({ kind: "npu-idle" as const }),
          fc.constant({ kind: "host" as const }),
          fc.record({ kind: fc.constant("dma" as const), port: fc.constantFrom(...PORTS), tag: u32 }),
        ),
        origin: originArb,
      })
      .map((s) => ({ kind: "wait" as const, ...s })),
  );
}

/** Segment.maxPos: codegen may record a negative one (a prefill chunk that can never be replayed). */
const maxPosArb = fc.oneof(
  fc.integer({ min: -64, max: 1 << 20 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
);

const VAR_NAMES = ["pos", "token", "kv_len[0]", "kv_slot[3]", "expert[1][0]"];

/** A complete, consistent program. */
export const programArb: fc.Arbitrary<Program> = fc
  .record({
    ddr: fc.uniqueArray(
      fc.record({
        name,
        offset: u53,
        bytes: u53,
        kind: fc.constantFrom("weights", "embedding", "kv", "buffer", "logits", "table" as const),
        port: fc.option(fc.constantFrom(...PORTS), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 4, selector: (r) => r.name },
    ),
    segNames: fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
    variables: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom(...VAR_NAMES),
        doc: str,
        setBy: fc.constantFrom("driver", "host" as const),
      }),
      { minLength: 1, maxLength: 4, selector: (v) => v.name },
    ),
    model: str,
  })
  .chain(({ ddr, segNames, variables, model }) => {
    const regions = ddr.map((d) => d.name);
    const segments = fc.tuple(
      ...segNames.map((n) =>
        fc
          .record({
            name: fc.constant(n),
            kind: fc.constantFrom("load", "prefill", "decode" as const),
            steps: fc.array(stepArb(regions), { maxLength: 8 }),
            maxPos: fc.option(maxPosArb, { nil: undefined }),
          })
          .map(compact),
      ),
    );
    return fc.record({
      ddr: fc.constant(ddr.map((d) => compact(d) as DdrRegion)),
      variables: fc.constant(variables as Variable[]),
      model: fc.constant(model),
      segments,
    });
  })
  .chain(({ ddr, variables, model, segments }) => {
    const isa = compiledIsa();
    const targets: { segment: string; step: number; fields: string[] }[] = [];
    for (const seg of segments) {
      seg.steps.forEach((step, j) => {
        const fields = [
          "offset",
          "tag",
          "inputs[0].offset",
          "inputs[1].elements",
          "outputs[0].elements",
          "bytes",
          ...(step.kind === "npu"
            ? compiledIsa()
                .byMnemonic.get(step.instr.opcode)!
                .fields.map((f) => f.name)
            : []),
        ].filter((f) => typeof relocTarget(step, f, isa) !== "string");
        if (fields.length) targets.push({ segment: seg.name, step: j, fields });
      });
    }
    const expr = fc
      .record({
        base: fc.integer({ min: -1000, max: 1 << 20 }),
        terms: fc.array(
          fc.record({
            variable: fc.constantFrom(...variables.map((v) => v.name)),
            stride: fc.integer({ min: -64, max: 4096 }),
          }),
          { maxLength: 2 },
        ),
        min: fc.option(fc.integer({ min: -10, max: 0 }), { nil: undefined }),
        max: fc.option(fc.integer({ min: 1, max: 1 << 16 }), { nil: undefined }),
      })
      .map(compact);
    const reloc: fc.Arbitrary<Relocation> = targets.length
      ? fc.constantFrom(...targets).chain((t) =>
          fc.record({
            segment: fc.constant(t.segment),
            step: fc.constant(t.step),
            field: fc.constantFrom(...t.fields),
            expr,
          }),
        )
      : (fc.constant(undefined) as unknown as fc.Arbitrary<Relocation>);
    const alloc: fc.Arbitrary<Allocation> = fc
      .record({
        space: fc.constantFrom("l2", "const_fmap", "const_weight", "ddr" as const),
        name,
        offset: u53,
        size: u53,
        seg: fc.option(fc.constantFrom(...segments), { nil: undefined }),
        a: fc.nat(100),
        b: fc.nat(100),
      })
      .map(({ seg, a, b, ...rest }) => {
        if (!seg) return rest;
        const n = seg.steps.length;
        if (!n) return { ...rest, segment: seg.name };
        const lo = Math.min(a, b) % n;
        const hi = Math.max(lo, Math.max(a, b) % n);
        return { ...rest, segment: seg.name, live: [lo, hi] as const };
      });
    return fc
      .record({
        schemaVersion: fc.constant(1 as const),
        target: fc.constantFrom("kv260-v002", "kv260-v002-ext"),
        targetFingerprint: fc.oneof(fc.constant("kv260-v002@00ff00ff00ff00ff"), fc.constant("no-hash")),
        model: fc.constant(model),
        segments: fc.constant(segments as Segment[]),
        relocations: targets.length ? fc.array(reloc, { maxLength: 4 }) : fc.constant([]),
        variables: fc.constant(variables),
        allocations: fc.array(alloc, { maxLength: 3 }),
        ddr: fc.constant(ddr),
        context: fc.option(fc.integer({ min: 1, max: 1 << 20 }), { nil: undefined }),
      })
      .map(compact) as fc.Arbitrary<Program>;
  });

export type Run = CliRun;

/** The shared in-process CLI (test/helpers/cli.ts), run from `cwd`. */
export function runCli(argv: string[], cwd: string): Promise<Run> {
  return runCliShared(argv, {}, cwd);
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "pccxc-artifacts-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
