import { describe, expect, it } from "vitest";
import type { Program, Step } from "../../src/codegen/program.js";
import { ExitCode, PccxError } from "../../src/diag/index.js";
import { encode, renderCHeader } from "../../src/isa/index.js";
import { buildTables, generateDriver, STATUS_CODES } from "../../src/stubs/index.js";
import { fixture, KV260, VOCAB } from "./fixture.js";

const FILES = [
  "Makefile",
  "main.c",
  "pccx_hal.h",
  "pccx_hal_baremetal.c",
  "pccx_hal_sim.c",
  "pccx_hal_uio.c",
  "pccx_host_fns.h",
  "pccx_host_ops.c",
  "pccx_host_ops.h",
  "pccx_isa.h",
  "pccx_model.c",
  "pccx_model.h",
  "pccx_program.h",
  "pccx_runtime.c",
  "pccx_status.h",
];

function generate(p: Program = fixture({ prefill: true }).program) {
  return generateDriver(p, KV260, { image: fixture({ prefill: true }).image, vocab: VOCAB, context: 16 })
    .files;
}

function thrown(f: () => unknown): PccxError {
  try {
    f();
  } catch (e) {
    if (e instanceof PccxError) return e;
    throw e;
  }
  throw new Error("expected a PccxError");
}

describe("generateDriver", () => {
  it("writes the documented files, and the same program gives byte-identical files", () => {
    const a = generate();
    const b = generate(fixture({ prefill: true }).program); // a separately built, equal program
    expect([...a.keys()]).toEqual(FILES);
    for (const f of FILES) expect(b.get(f), f).toBe(a.get(f));
  });

  it("a different program or image changes only the program files", () => {
    const a = generate();
    const other = fixture({ prefill: true, seed: 99 });
    const b = generateDriver(other.program, KV260, { image: other.image, vocab: VOCAB, context: 16 }).files;
    const changed = FILES.filter((f) => a.get(f) !== b.get(f));
    expect(changed).toEqual(["pccx_model.c"]);
  });

  it("pccx_isa.h is src/isa's header and the HAL header carries the target's registers and fingerprint", () => {
    const f = generate();
    expect(f.get("pccx_isa.h")).toBe(renderCHeader());
    const hal = f.get("pccx_hal.h")!;
    expect(hal).toContain(`#define PCCX_TARGET_FINGERPRINT "${KV260.fingerprint}"`);
    expect(hal).toContain("#define PCCX_NPU_PAGE 0xA0000000ull");
    expect(hal).toContain(
      "#define PCCX_DM_PAGES { 0xA0001000ull, 0xA0002000ull, 0xA0003000ull, 0xA0004000ull, 0xA0005000ull, 0xA0006000ull }",
    );
    expect(hal).toContain("#define PCCX_DM_STATUS_OKAY (1u << 7)");
    expect(hal).toContain("#define PCCX_NPU_STATUS_BUSY (1ull << 0)");
  });

  it("the word table holds each NPU step's encoding, in program order, with its origin in a comment", () => {
    const { program } = fixture({ prefill: true });
    const words = program.segments.flatMap((s) =>
      s.steps.filter((x): x is Extract<Step, { kind: "npu" }> => x.kind === "npu"),
    );
    const c = generate().get("pccx_model.c")!;
    const table = c.slice(c.indexOf("k_words["), c.indexOf("\n};", c.indexOf("k_words[")));
    const hex = [...table.matchAll(/0x([0-9A-F]{16})ull/g)].map((m) => BigInt(`0x${m[1]}`));
    expect(hex).toEqual(words.map((w) => encode(w.instr)));
    expect(c).toMatch(/decode\[14\] npu L0 lm_head #\d+ \| lm_head\.weight/);
    expect(c).toMatch(/host rms_norm/);
  });

  it("relocations of instruction fields name the field macros of pccx_isa.h; DMA relocations patch offsets", () => {
    const t = buildTables(fixture().program, KV260, { vocab: VOCAB });
    const field = t.relocs.find((r) => r.target === 0)!;
    expect(field).toMatchObject({
      shift: "PCCX_CVO_LENGTH_SHIFT",
      mask: "(uint64_t)PCCX_CVO_LENGTH_MASK",
      base: VOCAB,
      max: VOCAB,
    });
    expect(t.relocs.filter((r) => r.target === 1).map((r) => r.comment)).toEqual([
      "decode[0].offset = 0 + 32*token",
      "decode[3].offset = 0 + 32*pos",
    ]);
    expect(t.relocs.map((r) => r.step)).toEqual([...t.relocs.map((r) => r.step)].sort((a, b) => a - b));
  });

  it("driver variables get their roles; pos is always set; the manifest records region checksums", () => {
    const f = fixture({ prefill: true });
    const t = buildTables(f.program, KV260, { image: f.image, vocab: VOCAB });
    const role = (name: string) => t.dvars.find((d) => t.vars[d.variable]!.name === name)?.role;
    expect([role("pos"), role("token"), role("token[0]")]).toEqual([0, 1, 2]);
    expect(t.prefillChunk).toBe(1);
    const w = t.regions.find((r) => r.name === "w")!;
    expect(w.image && w.hash !== undefined).toBe(true);
    expect(t.regions.find((r) => r.name === "ring")).toMatchObject({ image: false });
    expect(t.logits).toEqual({
      region: t.regions.findIndex((r) => r.name === "logits"),
      offset: 0,
      count: VOCAB,
      dtype: 0,
    });
  });

  it("refuses what the C driver cannot run, with stable codes and exit 3", () => {
    const { program } = fixture();
    const withStep = (s: Step): Program => ({
      ...program,
      segments: program.segments.map((g) => (g.name === "decode" ? { ...g, steps: [...g.steps, s] } : g)),
    });
    const host = thrown(() =>
      buildTables(
        withStep({
          kind: "host",
          fn: "teleport",
          inputs: [],
          outputs: [],
          attrs: {},
          origin: { label: "x" },
        }),
        KV260,
      ),
    );
    expect([host.code, host.exitCode]).toEqual(["stubs/unknown-host-fn", ExitCode.UNSUPPORTED]);
    expect(host.message).toContain("segment decode step 20");
    const v = thrown(() =>
      buildTables(
        { ...program, variables: [...program.variables, { name: "moon", doc: "", setBy: "driver" }] },
        KV260,
      ),
    );
    expect(v.code).toBe("stubs/unknown-variable");
    const noLogits = thrown(() =>
      buildTables(
        {
          ...program,
          ddr: program.ddr.map((r) => (r.kind === "logits" ? { ...r, kind: "buffer" as const } : r)),
        },
        KV260,
      ),
    );
    expect(noLogits.code).toBe("stubs/no-logits");
    const attr = thrown(() =>
      buildTables(
        withStep({
          kind: "host",
          fn: "activation",
          inputs: [],
          outputs: [],
          attrs: { fn: "swish9" },
          origin: { label: "x" },
        }),
        KV260,
      ),
    );
    expect(attr.code).toBe("stubs/host-attr");
  });

  it("pccx_status.h lists every status code, in value order, with pccx_strerror texts", () => {
    const f = generate();
    expect(STATUS_CODES.map((s) => s.value)).toEqual(STATUS_CODES.map((_, i) => i));
    for (const s of STATUS_CODES) {
      expect(f.get("pccx_status.h")).toContain(`${s.name} = ${s.value},`);
      expect(f.get("pccx_runtime.c")).toContain(`case ${s.name}: return "${s.name}: ${s.text}";`);
    }
  });
});
