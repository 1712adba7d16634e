/**
 * program.bin reader: the container (bin-container.ts), then every record — enum codes, reserved
 * bytes, indices into other sections, instruction words decoded strictly with the file's CVO
 * extensions, relocation field ids checked against the ISA table — then the program's consistency
 * (check.ts). Returns the same `Program` as reading program.json of the same program.
 */
import { ExitCode, PccxError } from "../../diag/index.js";
import { type CompiledIsa, compiledIsa, decode, type IsaOptions, V002 } from "../../isa/index.js";
import { formatPath } from "../../target/index.js";
import type { NpuInstr, Origin, Program, Relocation, Segment, Step } from "../program.js";
import { BinReader, type BinReadOptions } from "./bin-container.js";
import {
  ALLOC,
  ALLOC_HAS_LIVE,
  CVO_EXT,
  DDR,
  H,
  NONE,
  SEG,
  SEG_HAS_MAX_POS,
  STEP,
  VAR,
} from "./bin-layout.js";
import { readHost, readOrigin, readReloc } from "./bin-records.js";
import { fingerprintHash } from "./bin-write.js";
import { programProblems } from "./check.js";
import {
  ALLOC_SPACES,
  DDR_KINDS,
  DMA_PORTS,
  SEGMENT_KINDS,
  STEP_KINDS,
  VARIABLE_SETTERS,
  WAIT_KINDS,
} from "./enums.js";
import type { ProgramFile } from "./json-read.js";
import { isaOptionsOf, sortedExtensions } from "./view.js";

export type { BinReadOptions };

/** Validate program.bin bytes and return the `Program` they hold. */
export function readProgramBin(bytes: Uint8Array, opts: BinReadOptions = {}): Program {
  return parseProgramBin(bytes, opts).program;
}

export function parseProgramBin(bytes: Uint8Array, opts: BinReadOptions = {}): ProgramFile {
  const r = new BinReader(bytes, opts);
  const fingerprint = r.str(H.fingerprint);
  const want = fingerprintHash(fingerprint);
  for (let i = 0; i < 8; i++) {
    if (r.u8(H.fingerprintHash + i) !== want[i]) {
      throw r.fail(
        "artifacts/bin-fingerprint",
        H.fingerprintHash + i,
        `the fingerprint bytes disagree with "${fingerprint}"`,
      );
    }
  }
  if (r.u32(H.schemaVersion) !== 1) {
    throw r.fail(
      "artifacts/bin-version",
      H.schemaVersion,
      `program schema version ${r.u32(H.schemaVersion)} is not supported (this pccxc reads 1)`,
    );
  }
  const table = r.str(H.isaTable);
  if (table !== V002.name)
    throw r.fail("artifacts/bin-value", H.isaTable, `ISA table "${table}" is not ${V002.name}`);
  const compilerVersion = r.str(H.compilerVersion);

  const ext: Record<string, number> = {};
  for (let i = 0; i < r.count("cvo_ext"); i++) {
    const o = r.rec("cvo_ext", i);
    const name = r.str(o + CVO_EXT.name);
    if (name in ext) throw r.fail("artifacts/bin-value", o, `CVO extension ${name} is listed twice`);
    ext[name] = r.u32(o + CVO_EXT.code);
  }
  const cvoExtensions = sortedExtensions(ext);
  const isa = isaOptionsOf(cvoExtensions);
  let compiled: CompiledIsa;
  try {
    compiled = compiledIsa(isa);
  } catch (e) {
    if (e instanceof PccxError) throw r.fail(e.code, r.rec("cvo_ext", 0), e.message);
    throw e;
  }

  const origins: Origin[] = [];
  for (let i = 0; i < r.count("origins"); i++) origins.push(readOrigin(r, r.rec("origins", i)));

  const segments: Segment[] = [];
  let nextStep = 0;
  for (let i = 0; i < r.count("segments"); i++) {
    const o = r.rec("segments", i);
    const name = r.str(o + SEG.name);
    const kind = r.enumOf(o + SEG.kind, SEGMENT_KINDS, "segment kind");
    r.zero(o + 5, 3, "segment padding");
    const first = r.u32(o + SEG.firstStep);
    const n = r.u32(o + SEG.stepCount);
    if (first !== nextStep)
      throw r.fail(
        "artifacts/bin-bounds",
        o + SEG.firstStep,
        `segment ${name} starts at step ${first}; segments are contiguous so it must start at ${nextStep}`,
      );
    r.range("steps", first, n, o + SEG.stepCount);
    const maxPos = readMaxPos(r, o);
    const steps: Step[] = [];
    for (let j = 0; j < n; j++) steps.push(readStep(r, r.rec("steps", first + j), origins, isa));
    segments.push({ name, kind, steps, ...(maxPos !== undefined ? { maxPos } : {}) });
    nextStep += n;
  }
  if (nextStep !== r.count("steps")) {
    throw r.fail(
      "artifacts/bin-bounds",
      r.rec("steps", nextStep),
      `${r.count("steps") - nextStep} steps belong to no segment`,
    );
  }

  const relocations: Relocation[] = [];
  for (let i = 0; i < r.count("relocs"); i++)
    relocations.push(readReloc(r, r.rec("relocs", i), segments, compiled));

  const context = r.u32(H.context);
  const program: Program = {
    schemaVersion: 1,
    target: r.str(H.target),
    targetFingerprint: fingerprint,
    model: r.str(H.model),
    segments,
    relocations,
    variables: Array.from({ length: r.count("variables") }, (_, i) => {
      const o = r.rec("variables", i);
      r.zero(o + 9, 7, "variable padding");
      return {
        name: r.str(o + VAR.name),
        doc: r.str(o + VAR.doc),
        setBy: r.enumOf(o + VAR.setBy, VARIABLE_SETTERS, "set_by"),
      };
    }),
    allocations: Array.from({ length: r.count("allocations") }, (_, i) => {
      const o = r.rec("allocations", i);
      const flags = r.u8(o + ALLOC.flags);
      if (flags & ~ALLOC_HAS_LIVE)
        throw r.fail("artifacts/bin-reserved", o + ALLOC.flags, "unknown allocation flag bits");
      r.zero(o + 2, 2, "allocation padding");
      r.zero(o + 36, 4, "allocation padding");
      if (!(flags & ALLOC_HAS_LIVE)) r.zero(o + ALLOC.liveLo, 8, "live range of an allocation without one");
      const segment = r.optStr(o + ALLOC.segment);
      return {
        space: r.enumOf(o + ALLOC.space, ALLOC_SPACES, "allocation space"),
        name: r.str(o + ALLOC.name),
        offset: r.u64(o + ALLOC.offset),
        size: r.u64(o + ALLOC.size),
        ...(segment !== undefined ? { segment } : {}),
        ...(flags & ALLOC_HAS_LIVE
          ? { live: [r.u32(o + ALLOC.liveLo), r.u32(o + ALLOC.liveHi)] as const }
          : {}),
      };
    }),
    ddr: Array.from({ length: r.count("ddr") }, (_, i) => {
      const o = r.rec("ddr", i);
      r.zero(o + 6, 2, "DDR region padding");
      const port = r.u8(o + DDR.port);
      return {
        name: r.str(o + DDR.name),
        offset: r.u64(o + DDR.offset),
        bytes: r.u64(o + DDR.bytes),
        kind: r.enumOf(o + DDR.kind, DDR_KINDS, "DDR region kind"),
        ...(port === 0xff ? {} : { port: r.enumOf(o + DDR.port, DMA_PORTS, "DDR region port") }),
      };
    }),
    ...(context !== NONE ? { context } : {}),
  };
  const problems = programProblems(program, compiled);
  if (problems.length) {
    const p = problems[0]!;
    throw new PccxError(
      "artifacts/inconsistent",
      ExitCode.INVALID_INPUT,
      `${r.file}: ${formatPath(p.path)}: ${p.message}`,
      {
        at: { file: r.file, jsonPath: formatPath(p.path) },
        fix: "the file is damaged or was not written by pccxc: write it again with pccxc compile",
      },
    );
  }
  return { program, cvoExtensions, compilerVersion };
}

/** A segment's max_pos: absent in a 1.0 file (16-byte records) and when its flag is clear. */
function readMaxPos(r: BinReader, o: number): number | undefined {
  if (r.stride("segments") < SEG.flags + 8) return undefined;
  const flags = r.u32(o + SEG.flags);
  if (flags & ~SEG_HAS_MAX_POS)
    throw r.fail("artifacts/bin-reserved", o + SEG.flags, "unknown segment flag bits");
  r.zero(o + SEG.flags + 4, 4, "segment padding");
  if (!(flags & SEG_HAS_MAX_POS)) {
    r.zero(o + SEG.maxPos, 8, "max_pos of a segment without one");
    return undefined;
  }
  return r.i64(o + SEG.maxPos);
}

function readStep(r: BinReader, o: number, origins: readonly Origin[], isa: IsaOptions): Step {
  const kind = r.enumOf(o + STEP.kind, STEP_KINDS, "step kind");
  const oi = r.u32(o + STEP.origin);
  const origin = origins[oi];
  if (!origin)
    throw r.fail(
      "artifacts/bin-bounds",
      o + STEP.origin,
      `origin ${oi} does not exist (there are ${origins.length})`,
    );
  r.zero(o + STEP.c, 1, "step byte 3");
  if (kind !== "wait") r.zero(o + STEP.b, 1, "step byte 2");
  switch (kind) {
    case "npu": {
      r.zero(o + STEP.p16, 8, "npu step padding");
      const word = r.word(o + STEP.p0);
      const d = decode(word, "lenient", isa);
      if (!d.ok)
        throw r.fail(
          d.problems[0]!.code,
          o + STEP.p0,
          `instruction word: ${d.problems.map((p) => p.message).join("; ")}`,
        );
      if (Number(word >> 60n) !== r.u8(o + STEP.a))
        throw r.fail("artifacts/bin-value", o + STEP.a, "the opcode byte disagrees with the word");
      const intent = r.optStr(o + STEP.p8);
      const weightSegment = r.optStr(o + STEP.p12);
      return {
        kind,
        instr: {
          opcode: d.instr.opcode,
          fields: d.instr.fields as NpuInstr["fields"],
        },
        ...(intent !== undefined ? { intent } : {}),
        ...(weightSegment !== undefined ? { weightSegment } : {}),
        origin,
      };
    }
    case "dma":
      return {
        kind,
        port: r.enumOf(o + STEP.a, DMA_PORTS, "DMA port"),
        region: r.str(o + STEP.p16),
        offset: r.u64(o + STEP.p0),
        bytes: r.u64(o + STEP.p8),
        tag: r.index(o + STEP.p20, "DMA tag"),
        origin,
      };
    case "host":
      return readHost(r, o, origin);
    case "wait": {
      const on = r.enumOf(o + STEP.a, WAIT_KINDS, "wait kind");
      r.zero(o + STEP.p4, 20, "wait step padding");
      if (on !== "dma") {
        r.zero(o + STEP.b, 1, "step byte 2");
        r.zero(o + STEP.p0, 4, "tag of a wait that is not on a DMA");
        return { kind, on: { kind: on }, origin };
      }
      return {
        kind,
        on: {
          kind: on,
          port: r.enumOf(o + STEP.b, DMA_PORTS, "DMA port"),
          tag: r.index(o + STEP.p0, "DMA tag"),
        },
        origin,
      };
    }
  }
}
