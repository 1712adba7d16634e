/** The benchmark suites, in run order. Each stage adds its suite here. */
import type { BenchSuite } from "./types.js";

export const suites: readonly BenchSuite[] = [];
