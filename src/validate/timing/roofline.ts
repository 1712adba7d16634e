/**
 * The bandwidth roofline of a run: the shortest time its DDR traffic could take, given the bytes
 * each DataMover channel moved (counted from the program, i.e. analytically) and the rates of the
 * ports and of DDR (peak × efficiency, shared):
 *
 *   bound = max(Σ bytes / DDR effective rate, max over ports of port bytes / port rate)
 *   ratio = bound / simulated cycles       (1 = the memory system never idled)
 *
 * For decode, 1 / bound is the tok/s a perfect schedule would reach on this target: the "bound of
 * the GEMV weight ports" when the ports limit, the DDR roof when DDR does.
 */
import type { TimingModel } from "./resources.js";
import type { RunRoofline } from "./types.js";

export interface BandwidthBound {
  readonly bytes: number;
  readonly boundCycles: number;
  readonly limit: string;
}

/** The bound for `bytesPerChannel` (channel name → bytes). */
export function bandwidthBound(m: TimingModel, bytesPerChannel: ReadonlyMap<string, number>): BandwidthBound {
  let total = 0;
  const perPort = new Map<string, { bytes: number; rate: number; dir: string }>();
  for (const [name, bytes] of bytesPerChannel) {
    const ch = m.channels.get(name);
    if (!ch || bytes <= 0) continue;
    total += bytes;
    // Reads and writes of one AXI port use separate channels of the bus: count them apart.
    const key = `${ch.port}:${ch.direction}`;
    const e = perPort.get(key) ?? { bytes: 0, rate: ch.bytesPerCycle, dir: ch.direction };
    e.bytes += bytes;
    perPort.set(key, e);
  }
  let bound = total / m.ddrBytesPerCycle;
  let limit = "ddr";
  for (const [key, e] of [...perPort].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const t = e.bytes / e.rate;
    if (t > bound) {
      bound = t;
      limit = key.split(":")[0]!;
    }
  }
  return { bytes: total, boundCycles: bound, limit };
}

export function runRoofline(
  m: TimingModel,
  bytesPerChannel: ReadonlyMap<string, number>,
  cycles: number,
): RunRoofline {
  const b = bandwidthBound(m, bytesPerChannel);
  const seconds = cycles / (m.clockMhz * 1e6);
  return {
    bytes: b.bytes,
    boundCycles: b.boundCycles,
    limit: b.limit,
    ratio: cycles > 0 ? b.boundCycles / cycles : 0,
    bytesPerSecond: seconds > 0 ? b.bytes / seconds : 0,
  };
}
