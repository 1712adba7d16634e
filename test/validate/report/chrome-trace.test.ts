import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PccxError } from "../../../src/diag/index.js";
import { renderChromeTrace, type Timeline } from "../../../src/validate/report/index.js";
import { sampleTimeline } from "./fixtures.js";

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  cat?: string;
  args: Record<string, unknown>;
}

function parse(text: string): {
  traceEvents: TraceEvent[];
  displayTimeUnit: string;
  otherData: Record<string, unknown>;
} {
  return JSON.parse(text);
}

describe("Chrome/Perfetto trace.json", () => {
  it("is a Trace Event Format JSON object with named processes and threads", () => {
    const t = sampleTimeline();
    const doc = parse(renderChromeTrace(t));
    expect(doc.displayTimeUnit).toBe("ns");
    expect(doc.otherData).toMatchObject({
      generator: "pccxc",
      clock_mhz: 400,
      cycles: 1000,
      "meta.model": "tiny-llama",
    });
    const meta = doc.traceEvents.filter((e) => e.ph === "M");
    const procs = meta.filter((e) => e.name === "process_name").map((e) => [e.pid, e.args["name"]]);
    expect(procs).toEqual([
      [1, "Host"],
      [2, "AXI"],
      [3, "NPU"],
    ]);
    const threads = meta.filter((e) => e.name === "thread_name").map((e) => e.args["name"]);
    // hp2 has two transfers in flight, so it gets a second lane.
    expect(threads).toEqual(["mmio", "host0", "hp2", "hp2 #2", "acp", "gemv", "sfu"]);
    const slices = doc.traceEvents.filter((e) => e.ph === "X");
    expect(slices.length).toBe(t.events.length);
    for (const s of slices) {
      expect(typeof s.name).toBe("string");
      expect(typeof s.cat).toBe("string");
      expect(typeof s.ts).toBe("number");
      expect(typeof s.dur).toBe("number");
      expect(Number.isInteger(s.pid) && Number.isInteger(s.tid)).toBe(true);
      expect(threads[s.tid - 1]).toBeDefined();
    }
  });

  it("converts cycles to microseconds from the clock", () => {
    const doc = parse(renderChromeTrace(sampleTimeline()));
    const gemv = doc.traceEvents.find((e) => e.name === "GEMV q_proj")!;
    expect(gemv.ts).toBe(0.025); // 10 cycles at 400 MHz
    expect(gemv.dur).toBe(1.0025); // 401 cycles
    expect(gemv.args).toEqual({
      start_cycle: 10,
      duration_cycles: 401,
      layer: 0,
      rows: 2048,
      tensor: "model.layers.0.self_attn.q_proj.weight",
    });
    const exp = doc.traceEvents.find((e) => e.name === "CVO exp")!;
    expect([exp.ts, exp.dur]).toEqual([1.25, 0.0025]);
  });

  it("rounds to whole picoseconds on clocks that do not divide evenly, and stays exact for long runs", () => {
    const t: Timeline = {
      clockMhz: 333,
      cycles: 2 ** 52,
      tracks: [{ name: "x", group: "g" }],
      events: [
        { track: "x", name: "one", startCycle: 1, durationCycles: 1, kind: "compute" },
        { track: "x", name: "late", startCycle: 2 ** 52 - 1, durationCycles: 1, kind: "compute" },
      ],
      meta: {},
    };
    const text = renderChromeTrace(t);
    expect(text).toContain('"name":"one","cat":"compute","ph":"X","ts":0.003003,"dur":0.003003,');
    // (2^52 - 1) cycles / 333 MHz = 13524323205316801801.8... ps, rounded and printed in µs.
    expect(text).toContain('"ts":13524323205316.801802,"dur":0.003003,');
  });

  it("matches the golden output for a tiny timeline", () => {
    const t: Timeline = {
      clockMhz: 400,
      cycles: 8,
      tracks: [
        { name: "gemv", group: "NPU" },
        { name: "hp2", group: "AXI" },
      ],
      events: [
        { track: "hp2", name: 'w "q"', startCycle: 0, durationCycles: 4, kind: "dma_read", layer: 3 },
        { track: "gemv", name: "GEMV", startCycle: 2, durationCycles: 6, kind: "compute", args: { k: "v" } },
      ],
      meta: { model: "m" },
    };
    expect(renderChromeTrace(t)).toBe(
      [
        '{"traceEvents":[',
        '{"name":"process_name","ph":"M","ts":0,"pid":1,"tid":0,"args":{"name":"NPU"}},',
        '{"name":"process_sort_index","ph":"M","ts":0,"pid":1,"tid":0,"args":{"sort_index":0}},',
        '{"name":"process_name","ph":"M","ts":0,"pid":2,"tid":0,"args":{"name":"AXI"}},',
        '{"name":"process_sort_index","ph":"M","ts":0,"pid":2,"tid":0,"args":{"sort_index":1}},',
        '{"name":"thread_name","ph":"M","ts":0,"pid":1,"tid":1,"args":{"name":"gemv"}},',
        '{"name":"thread_sort_index","ph":"M","ts":0,"pid":1,"tid":1,"args":{"sort_index":1}},',
        '{"name":"thread_name","ph":"M","ts":0,"pid":2,"tid":2,"args":{"name":"hp2"}},',
        '{"name":"thread_sort_index","ph":"M","ts":0,"pid":2,"tid":2,"args":{"sort_index":2}},',
        '{"name":"GEMV","cat":"compute","ph":"X","ts":0.005,"dur":0.015,"pid":1,"tid":1,"args":{"start_cycle":2,"duration_cycles":6,"k":"v"}},',
        '{"name":"w \\"q\\"","cat":"dma_read","ph":"X","ts":0,"dur":0.01,"pid":2,"tid":2,"args":{"start_cycle":0,"duration_cycles":4,"layer":3}}',
        "],",
        '"displayTimeUnit":"ns",',
        '"otherData":{"generator":"pccxc","clock_mhz":400,"cycles":8,"meta.model":"m"}}',
        "",
      ].join("\n"),
    );
  });

  it("is deterministic", () => {
    expect(renderChromeTrace(sampleTimeline())).toBe(renderChromeTrace(sampleTimeline()));
  });

  it("keeps each thread's slices nested or disjoint (property)", () => {
    const arb = fc.array(
      fc.record({ start: fc.integer({ min: 0, max: 200 }), dur: fc.integer({ min: 0, max: 80 }) }),
      { maxLength: 25 },
    );
    fc.assert(
      fc.property(arb, (evs) => {
        const t: Timeline = {
          clockMhz: 400,
          cycles: 300,
          tracks: [{ name: "t", group: "g" }],
          events: evs.map((e, i) => ({
            track: "t",
            name: `e${i}`,
            startCycle: e.start,
            durationCycles: e.dur,
            kind: "compute",
          })),
          meta: {},
        };
        const slices = parse(renderChromeTrace(t)).traceEvents.filter((e) => e.ph === "X");
        expect(slices.length).toBe(evs.length);
        for (const a of slices) {
          for (const b of slices) {
            if (a === b || a.tid !== b.tid) continue;
            const [a0, a1, b0, b1] = [a.args["start_cycle"], 0, b.args["start_cycle"], 0].map(Number);
            const aEnd = a0! + Number(a.args["duration_cycles"]) + a1!;
            const bEnd = b0! + Number(b.args["duration_cycles"]) + b1!;
            const disjoint = aEnd <= b0! || bEnd <= a0!;
            const nested = (a0! <= b0! && bEnd <= aEnd) || (b0! <= a0! && aEnd <= bEnd);
            expect(disjoint || nested).toBe(true);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it("rejects events on unknown tracks or past the end of the run", () => {
    const t = sampleTimeline();
    const bad = (patch: Partial<Timeline>) => {
      try {
        renderChromeTrace({ ...t, ...patch });
      } catch (e) {
        return e as PccxError;
      }
      throw new Error("expected an error");
    };
    const unknown = bad({
      events: [{ track: "nope", name: "x", startCycle: 0, durationCycles: 1, kind: "api" }],
    });
    expect([unknown.code, unknown.at?.jsonPath]).toEqual(["report/timeline-track", "$.events[0].track"]);
    const late = bad({ cycles: 10 });
    expect(late.code).toBe("report/timeline-cycles");
    const frac = bad({
      events: [{ track: "gemv", name: "x", startCycle: 0.5, durationCycles: 1, kind: "api" }],
    });
    expect([frac.code, frac.at?.jsonPath]).toEqual(["report/timeline-cycles", "$.events[0].startCycle"]);
    expect(bad({ clockMhz: 0 }).code).toBe("report/timeline-clock");
  });
});
