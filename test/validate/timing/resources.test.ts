/**
 * The resource model on hand-made programs, against figures computed by hand from the target's
 * rates: one DMA through its port, two ports sharing the DDR cap, FIFO back-pressure, the SFU's
 * latency and rate, the MMIO command FIFO, the DataMover command queue, waits.
 */
import { describe, expect, it } from "vitest";
import { loadTarget } from "../../../src/target/index.js";
import { boundOf, runTiming, timingModel } from "../../../src/validate/timing/index.js";
import {
  cvo,
  dma,
  gemv,
  host,
  KV260,
  memset,
  operand,
  program,
  streamedGemv,
  tileBytes,
  waitDma,
  waitNpu,
} from "./helpers.js";

const M = timingModel(KV260);
const C = M.control;
const PORT = M.channels.get("hp2")!.bytesPerCycle;
const FIFO = M.channels.get("hp2")!.fifoBytes;

function decodeRun(p: ReturnType<typeof program>, target = KV260) {
  const out = runTiming(p, target, { timeline: true });
  const i = out.result.runs.findIndex((r) => r.kind === "decode");
  return { t: out.result.runs[i]!, events: out.runs[i]!.timeline!.events };
}

const stall = (
  t: { stalls: readonly { engine: string; reason: string; cycles: number }[] },
  engine: string,
  reason: string,
) => t.stalls.find((s) => s.engine === engine && s.reason === reason)?.cycles ?? 0;

describe("timing: a single DMA", () => {
  it("moves B bytes in B / min(port rate, DDR share) cycles: port-bound on kv260-v002", () => {
    const B = 40_000;
    expect(PORT).toBeLessThan(M.ddrBytesPerCycle);
    const { t, events } = decodeRun(
      program({ decode: [dma("hp2", "weights.hp2", B, 3), waitDma("hp2", 3)] }),
    );
    expect(t.ports.hp2!.busy).toBeCloseTo(B / PORT, 6);
    const e = events.find((x) => x.track === "hp2")!;
    expect(e.startCycle).toBe(Math.round(C.dmIssue));
    expect(e.durationCycles).toBe(Math.round(B / PORT));
    // issue, transfer, then the wait's detection delay
    expect(t.cycles).toBeCloseTo(C.dmIssue + B / PORT + C.syncWait, 6);
    expect(t.ports.hp2!.bytes).toBe(B);
    expect(t.memory.ddrRead).toBe(B);
  });

  it("is DDR-bound when the DDR cap is below the port rate", () => {
    const slow = loadTarget("kv260-v002", ["ddr.peak_gbps=1", "ddr.efficiency=1"]);
    const m = timingModel(slow);
    expect(m.ddrBytesPerCycle).toBeCloseTo(2.5, 12);
    const B = 40_000;
    const { t } = decodeRun(
      program({ decode: [dma("hp2", "weights.hp2", B, 1), waitDma("hp2", 1)] }, slow),
      slow,
    );
    expect(t.ports.hp2!.busy).toBeCloseTo(B / 2.5, 6);
    expect(t.roofline.limit).toBe("ddr");
  });
});

describe("timing: two ports share the DDR cap fairly", () => {
  it("splits a 12 B/clk cap 6/6 while both stream, and gives the port rate back to the survivor", () => {
    // 4.8 GB/s at 400 MHz = 12 bytes per core clock, below the two ports' 20
    const t12 = loadTarget("kv260-v002", ["ddr.peak_gbps=4.8", "ddr.efficiency=1"]);
    const B = 30_000;
    const { t, events } = decodeRun(
      program(
        {
          decode: [
            dma("hp2", "weights.hp2", B, 1),
            dma("hp3", "weights.hp3", B, 1),
            waitDma("hp2", 1),
            waitDma("hp3", 1),
          ],
        },
        t12,
      ),
      t12,
    );
    const i = C.dmIssue; // 120: hp2 starts alone, hp3 joins at 240
    const alone = i * PORT; // bytes hp2 moved before hp3 started
    const shared = (B - alone) / 6; // both at 6 B/clk until hp2 is done
    const hp2End = 2 * i + shared;
    const hp3End = hp2End + (B - 6 * shared) / PORT;
    const end = (track: string) => {
      const e = events.find((x) => x.track === track)!;
      return e.startCycle + e.durationCycles;
    };
    expect(end("hp2")).toBe(Math.round(hp2End));
    expect(end("hp3")).toBe(Math.round(hp3End));
    expect(t.ports.hp2!.busy).toBeCloseTo(i + shared, 6);
    expect(t.ports.hp3!.busy).toBeCloseTo(shared + (B - 6 * shared) / PORT, 6);
    expect(stall(t, "hp2", "ddr_share")).toBeCloseTo(shared * (1 - 6 / PORT), 6);
  });
});

describe("timing: FIFO back-pressure", () => {
  it("a command larger than the FIFO never completes without a consumer: the wait deadlocks (timing/deadlock)", () => {
    const p = program({ decode: [dma("hp2", "weights.hp2", FIFO + 16, 2), waitDma("hp2", 2)] });
    expect(() => runTiming(p, KV260)).toThrowError(/nothing can progress/);
    try {
      runTiming(p, KV260);
    } catch (e) {
      expect((e as { code: string }).code).toBe("timing/deadlock");
      expect((e as { exitCode: number }).exitCode).toBe(2);
    }
  });

  it("weights stream ahead into the FIFO during a host step; the GEMV then takes (B − FIFO) / port cycles", () => {
    const n = 2048;
    const k = 2048;
    const g = streamedGemv(n, k, ["hp2", "hp3"]);
    // memset, dma, dma, gemv → put a long host step between the DMAs and the GEMV
    const hostStep = host("scale", [operand("buf", 100_000)], [operand("buf", 100_000)], { factor: 2 });
    const p = program({
      load: [memset(1, 1, 0, 0, 0)],
      decode: [g[0]!, g[1]!, g[2]!, hostStep, g[3]!, waitNpu()],
    });
    const { t } = decodeRun(p);
    const B = tileBytes(n / 2, k);
    expect(t.ports.hp2!.bytes).toBe(B);
    expect(t.engines.gemv!.busy).toBeCloseTo((B - FIFO) / PORT + M.gemv.latency, 4);
    const hostCycles = M.host.callOverhead + 100_000 / M.host.elementwisePerCycle;
    // the port is throttled by its full FIFO for the rest of the host step
    expect(stall(t, "hp2", "fifo_full")).toBeGreaterThan(hostCycles - FIFO / PORT - 2 * C.dmIssue);
    // the GEMV ran at its compute rate while it drained the prefetched bytes (then its pipeline tail)
    const full = (n * k) / (M.gemv.macsPerCycleCore * M.gemv.cores);
    const drain = FIFO / (B / full - PORT);
    expect(t.layers[0]!.breakdown.compute).toBeCloseTo(drain + M.gemv.latency, 4);
  });

  it("a port faster than the engine is throttled to the engine's drain rate", () => {
    const wide = loadTarget("kv260-v002", ["ports[hp2].width_bits=1024", "ports[hp3].width_bits=1024"]);
    const m = timingModel(wide);
    const n = 512;
    const k = 2048;
    const p = program(
      {
        load: [memset(1, 1, 0, 0, 0)],
        decode: [
          ...streamedGemv(n, k, ["hp2", "hp3"]).map((s) =>
            s.kind === "npu" && s.instr.opcode === "GEMV" ? gemv(0, 1, { lanes: 1 }) : s,
          ),
          waitNpu(),
        ],
      },
      wide,
    );
    const { t } = decodeRun(p, wide);
    const compute = (n * k) / m.gemv.macsPerCycleCore; // one lane
    expect(t.engines.gemv!.busy).toBeCloseTo(compute + m.gemv.latency, 4);
    expect(stall(t, "hp2", "fifo_full")).toBeGreaterThan(0);
    expect(boundOf(t.layers[0]!.breakdown)).toBe("compute");
  });
});

describe("timing: SFU", () => {
  it("a CVO takes latency + length / rate, with each function's own latency", () => {
    const exp = M.cvo.get("EXP")!;
    const sin = M.cvo.get("SIN")!;
    expect(sin.latency).not.toBe(exp.latency);
    const { t } = decodeRun(program({ decode: [cvo("EXP", 1000), cvo("SIN", 500), waitNpu()] }));
    const first = exp.latency + 1000 / exp.elementsPerCycle;
    const second = sin.latency + 500 / sin.elementsPerCycle;
    expect(t.engines.sfu!.busy).toBeCloseTo(first + second, 9);
    // the second waits for the first (synchronous), then the host notices the idle NPU
    expect(t.cycles).toBeCloseTo(C.mmioWrite + 2 * C.dispatch + first + second + C.syncWait, 6);
    expect(t.split.sfu).toBeCloseTo(first + second, 6);
  });

  it("an async CVO frees the controller: a MEMSET runs beside it, the next CVO waits for the unit", () => {
    const { t, events } = decodeRun(
      program({ decode: [cvo("EXP", 5000, { async: 1 }), memset(0, 3, 1, 2, 3), cvo("EXP", 10), waitNpu()] }),
    );
    const sfu = events.filter((e) => e.track === "sfu");
    const ms = events.find((e) => e.track === "const_cache")!;
    expect(ms.startCycle).toBeLessThan(sfu[0]!.startCycle + sfu[0]!.durationCycles);
    expect(sfu[1]!.startCycle).toBeGreaterThanOrEqual(sfu[0]!.startCycle + sfu[0]!.durationCycles);
    expect(stall(t, "npu", "unit_busy")).toBeGreaterThan(0);
  });
});

describe("timing: MMIO issue and the command FIFO", () => {
  const longCvos = Array.from({ length: 12 }, () => cvo("EXP", 10_000));
  const one = M.cvo.get("EXP")!.latency + 10_000;

  it("back-pressures the host once the FIFO holds command_fifo_depth instructions", () => {
    const depth = C.commandFifoDepth;
    const { t, events } = decodeRun(program({ decode: [...longCvos, waitNpu()] }));
    // instruction 1 is taken at once; 2..depth+1 fill the FIFO; the next write waits for the
    // controller to take instruction 2, when instruction 1 completes
    const full = (depth + 1) * C.mmioWrite;
    const freed = C.mmioWrite + C.dispatch + one;
    const writes = events.filter((e) => e.track === "mmio");
    expect(writes[depth + 1]!.startCycle).toBe(Math.round(freed));
    // every later write waits for one more instruction to complete
    const later = longCvos.length - (depth + 2);
    expect(stall(t, "host", "fifo_full")).toBeCloseTo(
      freed - full + later * (C.dispatch + one - C.mmioWrite),
      6,
    );
  });

  it("a deeper FIFO (a target override) removes the stall", () => {
    const deep = loadTarget("kv260-v002", ["mmio.command_fifo_depth=16"]);
    const { t } = decodeRun(program({ decode: [...longCvos, waitNpu()] }, deep), deep);
    expect(stall(t, "host", "fifo_full")).toBe(0);
  });
});

describe("timing: DataMover command queue and waits", () => {
  it("the host waits for room when max_outstanding_commands are incomplete", () => {
    const n = C.maxOutstanding + 1;
    const steps = Array.from({ length: n }, (_, i) => dma("hp2", "weights.hp2", 8192, i));
    const { t } = decodeRun(program({ decode: [...steps, waitDma("hp2", n - 1)] }));
    // command 1 completes at issue + 8192 / port; the host wanted to issue command n at n−1 issues
    const firstDone = C.dmIssue + 8192 / PORT;
    expect(stall(t, "host", "dma_queue")).toBeCloseTo(firstDone - C.maxOutstanding * C.dmIssue, 6);
  });

  it("a wait already satisfied costs one status read; a blocking wait the detection delay", () => {
    const ready = decodeRun(program({ decode: [waitNpu()] })).t;
    expect(ready.cycles).toBeCloseTo(C.mmioRead, 9);
    const busy = decodeRun(program({ decode: [cvo("EXP", 100), waitNpu()] })).t;
    const cvoEnd = C.mmioWrite + C.dispatch + M.cvo.get("EXP")!.latency + 100;
    expect(busy.cycles).toBeCloseTo(cvoEnd + C.syncWait, 6);
    expect(stall(busy, "host", "wait")).toBeCloseTo(cvoEnd - C.mmioWrite, 6);
  });
});
