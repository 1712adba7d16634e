import { describe, expect, it } from "vitest";
import { PccxError } from "../../../src/diag/index.js";
import { loadTarget } from "../../../src/target/index.js";
import { EMPTY_IMAGE, FAULT_KINDS, runFunctional } from "../../../src/validate/sim/index.js";
import {
  cvo,
  dma,
  gemv,
  host,
  machine,
  memcpy,
  memset,
  messages,
  npu,
  operand,
  program,
  region,
  wait,
  waitDma,
  waitNpu,
} from "./helpers.js";

const kinds = (m: ReturnType<typeof machine>) => m.log.faults.map((f) => f.kind);
/** fmap entry 1 = (m, n, k), weight_shape entry 2 = (order, group, c). */
const shapes = (m: number, n: number, k: number, w: [number, number, number] = [0, 0, 0]) => [
  memset(0, 1, m, n, k, "shape"),
  memset(1, 2, w[0], w[1], w[2], "tile"),
];

describe("faults: every contract violation has a precise message (segment, step, origin)", () => {
  it("addr-range: an L2 vector past the backed words", () => {
    const m = machine([cvo("EXP", 114687, 0, 16, {}, { label: "exp" })]);
    expect(messages(m)).toEqual([
      "decode step 0 (exp): src_addr = 114687: 16 elements span L2 words 114687..114688, outside the words CVO can use (0..114687)",
    ]);
    expect(kinds(m)).toEqual(["addr-range"]);
  });

  it("addr-range: a misaligned element address on a target with element addressing (kv260-v002-rtl)", () => {
    const m = machine([cvo("EXP", 4, 16, 8, {}, { label: "exp" })], { target: loadTarget("kv260-v002-rtl") });
    expect(messages(m)).toEqual([
      "decode step 0 (exp): src_addr = 4 (element 4) is not aligned to 8 elements",
    ]);
  });

  it("addr-range: a DMA outside its DDR region, or to a region the program does not have", () => {
    const m = machine([dma("hp2", "w", 32, 16, 0, "past"), dma("hp2", "nope", 0, 16, 0, "ghost")], {
      ddr: [region("w", 32, "weights")],
    });
    expect(messages(m)).toEqual([
      'decode step 0 (past): dma hp2: bytes 32..47 (16 bytes) are outside region "w" (32 bytes)',
      'decode step 1 (ghost): dma hp2: the program has no DDR region "nope"',
    ]);
    expect(kinds(m)).toEqual(["addr-range", "addr-range"]);
  });

  it("uninit-const: a GEMV whose shape entry no MEMSET wrote", () => {
    const m = machine([gemv(100, 0, 9, 2, {}, { label: "q_proj" })]);
    expect(messages(m)).toEqual([
      "decode step 0 (q_proj): GEMV shape_ptr_addr = 9: fmap_shape entry 9 was never written by a MEMSET",
    ]);
    expect(kinds(m)).toEqual(["uninit-const"]);
  });

  it("bad-instr: reserved bits, a non-zero aux_addr, a word that does not encode its fields", () => {
    const flagsReserved = npu(
      "GEMV",
      { dest_reg: 0, src_addr: 0, flags: 1, size_ptr_addr: 0, shape_ptr_addr: 0, parallel_lane: 0 },
      { origin: { label: "raw" } },
    );
    const aux = npu(
      "MEMCPY",
      { from_device: 0, to_device: 0, dest_addr: 1, src_addr: 0, aux_addr: 3, shape_ptr_addr: 1, async: 0 },
      { origin: { label: "aux" } },
    );
    const word = { ...memset(0, 1, 1, 1, 8, "w"), word: "0x0000000000000000" };
    const m = machine([flagsReserved, aux, word]);
    expect(messages(m)).toEqual([
      "decode step 0 (raw): GEMV field flags = 0x1 sets reserved bits 22:20 (must be zero; flags: findemax, accm, w_scale)",
      "decode step 1 (aux): MEMCPY aux_addr = 3: pccxc takes the DDR address from the paired DataMover command, aux_addr must be 0",
      "decode step 2 (w): the step's word 0x0000000000000000 does not encode its fields (0x3010001000100080)",
    ]);
    expect(kinds(m)).toEqual(["bad-instr", "bad-instr", "bad-instr"]);
  });

  it("stream-underrun: a GEMV whose weights were not DMA'd", () => {
    const m = machine([...shapes(1, 2, 4), gemv(100, 0, 1, 2, {}, { label: "up_proj" })]);
    expect(messages(m)).toEqual([
      "decode step 2 (up_proj): GEMV needs 16 bytes on hp2 (rows 0..0 of 2 × 4) but only 0 were DMA'd before it",
    ]);
    expect(kinds(m)).toEqual(["stream-underrun"]);
  });

  it("stream-overrun: bytes left on a port at segment end", () => {
    const m = machine([dma("hp3", "w", 0, 16, 0, "prefetch")], { ddr: [region("w", 16, "weights")] });
    expect(messages(m)).toEqual([
      "end of decode: 16 bytes DMA'd on hp3 are left over: no instruction consumed them",
    ]);
    expect(kinds(m)).toEqual(["stream-overrun"]);
  });

  it("stream-overrun: more DataMover commands than the FIFO can absorb before an instruction consumes them", () => {
    // 64 KiB FIFO, 4 queued commands: the first 64 KiB command fits the FIFO and completes; the
    // next four wait for room; the sixth would block the driver forever.
    const big = 65536;
    const steps = Array.from({ length: 6 }, (_, i) => dma("hp2", "w", i * big, big, i, `tile${i}`));
    const m = machine(steps, { ddr: [region("w", 6 * big, "weights")] });
    expect(messages(m)).toEqual([
      "decode step 5 (tile5): hp2 FIFO capacity exceeded: 4 DataMover commands already wait for room in the 65536-byte FIFO (the channel queues 4) and only later instructions consume their bytes, so the driver would block forever issuing this one",
      `end of decode: ${5 * big} bytes DMA'd on hp2 are left over: no instruction consumed them`,
    ]);
    expect(kinds(m)).toEqual(["stream-overrun", "stream-overrun"]);
  });

  it("raw-hazard: reading L2 an async CVO is still writing; reading DDR an ACP transfer is still writing", () => {
    const m = machine(
      [
        cvo("EXP", 10, 12, 8, {}, { async: 1, label: "exp" }),
        cvo("SQRT", 12, 13, 8, {}, { label: "sqrt" }),
        waitNpu(),
        memset(0, 1, 1, 1, 8, "count"),
        dma("acp_result", "y", 0, 16, 2, "out"),
        memcpy("l2h", 0, 12, 1, { label: "readback" }),
        host("scale", [operand("y", 0, 8)], [operand("z", 0, 8, "f32")], { factor: 1 }, "widen"),
        waitDma("acp_result", 2),
      ],
      { ddr: [region("y", 16, "buffer"), region("z", 32, "buffer")] },
    );
    expect(messages(m)).toEqual([
      "decode step 1 (sqrt): CVO SQRT sqrt reads L2 words 12..12, which step 0 (exp) is still producing: no wait npu-idle between them",
      'decode step 6 (widen): host scale widen reads bytes 0..15 of DDR region "y", which step 5 (readback) is still producing: no wait on acp_result\'s DataMover status between them',
    ]);
    expect(kinds(m)).toEqual(["raw-hazard", "raw-hazard"]);
  });

  it("no hazard once the wait is there", () => {
    const m = machine(
      [
        cvo("EXP", 10, 12, 8, {}, { async: 1 }),
        waitNpu(),
        cvo("SQRT", 12, 13, 8),
        memset(0, 1, 1, 1, 8),
        dma("acp_result", "y", 0, 16, 2),
        memcpy("l2h", 0, 12, 1),
        waitDma("acp_result", 2),
        host("scale", [operand("y", 0, 8)], [operand("z", 0, 8, "f32")], { factor: 1 }),
      ],
      { ddr: [region("y", 16, "buffer"), region("z", 32, "buffer")] },
    );
    expect(messages(m)).toEqual([]);
  });

  it("waw-hazard: overwriting L2 an async CVO is still writing", () => {
    const m = machine([
      cvo("EXP", 10, 12, 8, {}, { async: 1, label: "a" }),
      cvo("COS", 10, 12, 8, {}, { label: "b" }),
      waitNpu(),
    ]);
    expect(messages(m)).toEqual([
      "decode step 1 (b): CVO COS b writes L2 words 12..12, which step 0 (a) is still producing: no wait npu-idle between them",
    ]);
    expect(kinds(m)).toEqual(["waw-hazard"]);
  });

  it("reloc: a variable the driver did not set, a value the field cannot hold", () => {
    const reloc = (step: number, variable: string, stride = 1) => ({
      segment: "decode",
      step,
      field: "b_value",
      expr: { base: 0, terms: [{ variable, stride }] },
    });
    const m = machine([memset(0, 1, 1, 0, 64, "kv_len"), memset(0, 2, 1, 0, 64, "kv_len_big")], {
      relocations: [reloc(0, "kv_len[0]"), reloc(1, "pos", 1000)],
      variables: { pos: 70 },
    });
    expect(messages(m)).toEqual([
      "decode step 0 (kv_len): relocation of field b_value needs variable kv_len[0], which is not set",
      "decode step 1 (kv_len_big): relocated MEMSET field b_value = 70000: MEMSET field b_value = 70000 is out of range: 16 bits hold 0..65535",
    ]);
    expect(kinds(m)).toEqual(["reloc", "reloc"]);
  });

  it("memcpy-unpaired: no DataMover command, the wrong byte count, a command no MEMCPY takes", () => {
    const m = machine(
      [
        memset(0, 1, 1, 1, 8, "count"),
        memcpy("h2l", 0, 0, 1, { label: "in" }),
        dma("acp_fmap", "x", 0, 32, 1, "in2-dma"),
        memcpy("h2l", 0, 0, 1, { label: "in2" }),
        dma("acp_result", "y", 0, 16, 2, "out-dma"),
      ],
      { ddr: [region("x", 32), region("y", 16, "buffer")] },
    );
    expect(messages(m)).toEqual([
      "decode step 1 (in): MEMCPY host→L2 of 1 word has no acp_fmap DataMover command issued before it",
      "decode step 3 (in2): MEMCPY host→L2 moves 1 word = 16 bytes, its acp_fmap command (step 2) carries 32",
      "end of decode: 32 bytes DMA'd on acp_fmap are left over: no MEMCPY host→L2 took them",
      "end of decode: the acp_result command of step 4 (16 bytes) has no MEMCPY L2→host",
    ]);
    expect(new Set(kinds(m))).toEqual(new Set(["memcpy-unpaired"]));
  });

  it("shape: GEMV constraints from the target (M, K, N per lane, lanes, tile descriptor)", () => {
    const m = machine([
      memset(0, 1, 2, 4, 8),
      gemv(0, 0, 1, 2, {}, { label: "m2" }),
      memset(0, 1, 1, 4, 4096),
      memset(1, 2, 0, 0, 0),
      gemv(0, 0, 1, 2, {}, { label: "k4096" }),
      memset(0, 1, 1, 600, 64),
      gemv(0, 0, 1, 2, {}, { lanes: 1, label: "n600" }),
      gemv(0, 0, 1, 2, {}, { lanes: 5, label: "lanes5" }),
      memset(0, 1, 1, 4, 64),
      memset(1, 2, 2, 0, 0),
      gemv(0, 0, 1, 2, {}, { label: "order2" }),
    ]);
    expect(messages(m)).toEqual([
      "decode step 1 (m2): GEMV (M, N, K) = (2, 4, 8) from fmap_shape entry 1: a GEMV takes one activation row (M = 1)",
      "decode step 4 (k4096): GEMV (M, N, K) = (1, 4, 4096) from fmap_shape entry 1: K exceeds the activation cache (2048 elements); split K and merge with accm",
      "decode step 6 (n600): GEMV (M, N, K) = (1, 600, 64) from fmap_shape entry 1: N exceeds 512 rows per lane × 1 lanes = 512",
      "decode step 7 (lanes5): GEMV parallel_lane = 5: the target has 4 GEMV cores",
      "decode step 10 (order2): GEMV size_ptr_addr = 2: weight_shape entry (2, 0, 0) is not a tile descriptor (order 0 or 1, group, 0)",
    ]);
    expect(new Set(kinds(m))).toEqual(new Set(["shape"]));
  });

  it("wait: a tag never issued, a transfer whose data comes later, work still in flight at the end", () => {
    const m = machine(
      [
        wait({ kind: "dma", port: "hp2", tag: 3 }, "never"),
        dma("acp_result", "y", 0, 16, 2, "out"),
        wait({ kind: "dma", port: "acp_result", tag: 2 }, "too-early"),
        dma("hp2", "w", 0, 131072, 5, "tile"),
        wait({ kind: "dma", port: "hp2", tag: 5 }, "deadlock"),
        cvo("EXP", 10, 12, 8, {}, { async: 1, label: "exp" }),
      ],
      { ddr: [region("y", 16, "buffer"), region("w", 131072, "weights")] },
    );
    expect(messages(m).filter((x) => !x.includes("left over") && !x.includes("has no MEMCPY"))).toEqual([
      "decode step 0 (never): wait on hp2 tag 3: no DataMover command with that tag was issued on hp2 in this segment",
      "decode step 2 (too-early): wait on acp_result tag 2 (step 1) never completes: no MEMCPY L2→host has produced its data yet",
      "decode step 4 (deadlock): wait on hp2 tag 5 (step 3) never completes: its bytes enter the port FIFO only as later instructions consume the ones before them",
      "end of decode: the segment ends while step 5 (exp) is still producing L2 words 12..12: add a wait npu-idle",
    ]);
  });

  it("host-op: an unknown host function", () => {
    const m = machine([host("frobnicate", [operand("x", 0, 8)], [operand("x", 0, 8)], {}, "mystery")], {
      ddr: [region("x", 16, "buffer")],
    });
    expect(messages(m)[0]).toMatch(
      /^decode step 0 \(mystery\): unknown host function "frobnicate" \(known: activation, add, /,
    );
    expect(kinds(m)).toEqual(["host-op"]);
  });

  it("throwOnFault turns the first fault into a PccxError sim/<kind> (exit 2)", () => {
    const p = program({ decode: [gemv(100, 0, 9, 2, {}, { label: "q_proj" })] }, []);
    let err: unknown;
    try {
      runFunctional(
        p,
        EMPTY_IMAGE,
        loadTarget("kv260-v002"),
        { runs: [{ segment: "decode", variables: {} }] },
        { throwOnFault: true },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PccxError);
    expect((err as PccxError).code).toBe("sim/uninit-const");
    expect((err as PccxError).exitCode).toBe(2);
    expect((err as PccxError).message).toBe(
      "decode step 0 (q_proj): GEMV shape_ptr_addr = 9: fmap_shape entry 9 was never written by a MEMSET",
    );
  });

  it("every fault kind is exercised above", () => {
    expect([...FAULT_KINDS].sort()).toEqual(
      [
        "addr-range",
        "bad-instr",
        "host-op",
        "memcpy-unpaired",
        "raw-hazard",
        "reloc",
        "shape",
        "stream-overrun",
        "stream-underrun",
        "uninit-const",
        "wait",
        "waw-hazard",
      ].sort(),
    );
  });
});
