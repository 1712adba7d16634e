/** One measured figure of `npm run bench`, with the target when it has one. */
export interface BenchFigure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The target the issue names, e.g. { op: ">=", value: 20e6 }. */
  readonly target?: { readonly op: ">=" | "<="; readonly value: number };
  readonly note?: string;
}

export interface BenchSuite {
  readonly name: string;
  run(): Promise<readonly BenchFigure[]>;
}
