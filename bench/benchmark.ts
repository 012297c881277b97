/** What a benchmark is and returns: the contract between `run.ts` and each benchmark module. */

export interface Verdict {
  readonly label: string;
  readonly value: string;
  readonly target: string;
  readonly met: boolean;
}

export interface BenchmarkResult {
  /** A table of figures: the first row is the header. */
  readonly table: readonly (readonly string[])[];
  /** Lines under the table: what was run, ratios. */
  readonly notes: readonly string[];
  readonly verdicts: readonly Verdict[];
}

export interface Benchmark {
  readonly name: string;
  readonly summary: string;
  /** `progress` prints a line while the benchmark runs, so a long run shows where it is. */
  run(progress: (line: string) => void): Promise<BenchmarkResult>;
}
