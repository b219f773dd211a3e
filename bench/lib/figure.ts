/**
 * What a row measures: figures, each beside the baseline measured in the same run, with the
 * target it is held to. A missed target is a result, not a failure; a broken assertion (lost
 * data, a leftover process) is thrown as a {@link BenchFailure} and fails the run.
 */

/** How a figure is held to its target. */
export type Target =
  /** value / baseline at most `limit`. */
  | { kind: "ratio-max"; limit: number }
  /** value / baseline at least `limit`. */
  | { kind: "ratio-min"; limit: number }
  /** value - baseline at most `limit` (in the figure's unit). */
  | { kind: "delta-max"; limit: number }
  /** value at most `limit` (absolute). */
  | { kind: "max"; limit: number }
  /** value at least `limit` (absolute). */
  | { kind: "min"; limit: number };

export interface Figure {
  /** What is measured ("Ping p50"). */
  label: string;
  unit: string;
  value: number;
  /** The same measurement of the baseline, in the same run; absent for absolute figures. */
  baseline?: number;
  /** Absent for figures reported for context only. */
  target?: Target;
  /** How to compare with the baseline: a ratio unless the target is a delta (or this says so). */
  compare?: "ratio" | "delta";
  /** Anything a reader needs to interpret the figure (sample counts, a skipped detail). */
  note?: string;
}

export interface Row {
  /** The name used on the command line: `node dist/bench/run.js <name>`. */
  name: string;
  title: string;
  /** Measures; throws a {@link BenchFailure} if what it measured is not correct. */
  run(log: (line: string) => void): Promise<Figure[]>;
}

/** A broken assertion: the benchmark's result cannot be trusted (or the product is wrong). */
export class BenchFailure extends Error {
  override readonly name = "BenchFailure";
}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new BenchFailure(message);
}

/** The figure compared with its baseline: a ratio, or a difference for delta targets. */
export function comparison(figure: Figure): { text: string; value: number } | undefined {
  if (figure.baseline === undefined) return undefined;
  if (figure.target?.kind === "delta-max" || figure.compare === "delta") {
    const delta = figure.value - figure.baseline;
    return { text: `${delta >= 0 ? "+" : ""}${round(delta)} ${figure.unit}`, value: delta };
  }
  const ratio = figure.value / figure.baseline;
  return { text: `${ratio.toFixed(2)}x`, value: ratio };
}

export function targetText(target: Target | undefined, unit: string): string {
  if (target === undefined) return "-";
  switch (target.kind) {
    case "ratio-max":
      return `<= ${target.limit}x`;
    case "ratio-min":
      return `>= ${target.limit}x`;
    case "delta-max":
      return `<= +${target.limit} ${unit}`;
    case "max":
      return `<= ${target.limit} ${unit}`;
    case "min":
      return `>= ${target.limit} ${unit}`;
  }
}

/** Whether the figure meets its target; undefined when it has none. */
export function isMet(figure: Figure): boolean | undefined {
  const target = figure.target;
  if (target === undefined) return undefined;
  const compared = comparison(figure)?.value;
  switch (target.kind) {
    case "ratio-max":
    case "delta-max":
      return compared !== undefined && compared <= target.limit;
    case "ratio-min":
      return compared !== undefined && compared >= target.limit;
    case "max":
      return figure.value <= target.limit;
    case "min":
      return figure.value >= target.limit;
  }
}

/** A number with three significant digits at most, for tables. */
export function round(value: number): string {
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}
