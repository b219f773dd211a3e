/** The results table, as printed, and the JSON written beside it. */
import { comparison, type Figure, isMet, round, targetText } from "./figure.js";

export interface RowResult {
  row: string;
  title: string;
  seconds: number;
  figures: Figure[];
  /** Why the row failed (a broken assertion or an error), if it did. */
  failure?: string;
}

const HEADERS = ["row", "figure", "value", "baseline", "vs baseline", "target", "result"];

function cells(result: RowResult): string[][] {
  if (result.failure !== undefined)
    return [[result.row, "FAILED", "", "", "", "", result.failure.split("\n")[0] ?? ""]];
  return result.figures.map((figure) => {
    const met = isMet(figure);
    return [
      result.row,
      figure.label,
      `${round(figure.value)} ${figure.unit}`,
      figure.baseline === undefined ? "-" : `${round(figure.baseline)} ${figure.unit}`,
      comparison(figure)?.text ?? "-",
      targetText(figure.target, figure.unit),
      met === undefined ? "info" : met ? "met" : "MISSED",
    ];
  });
}

/** A plain-text table with aligned columns. */
export function formatTable(results: readonly RowResult[]): string {
  const rows = [HEADERS, ...results.flatMap(cells)];
  const widths = HEADERS.map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  const rule = `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`;
  return [line(HEADERS), rule, ...rows.slice(1).map(line)].join("\n");
}

/** The JSON form of a row: every figure with its comparison, target and verdict spelled out. */
export function rowJson(result: RowResult) {
  return {
    row: result.row,
    title: result.title,
    seconds: Math.round(result.seconds * 10) / 10,
    ...(result.failure !== undefined ? { failure: result.failure } : {}),
    figures: result.figures.map((figure) => {
      const compared = comparison(figure);
      const met = isMet(figure);
      return {
        ...figure,
        ...(compared !== undefined
          ? figure.target?.kind === "delta-max" || figure.compare === "delta"
            ? { delta: compared.value }
            : { ratio: compared.value }
          : {}),
        result: met === undefined ? "info" : met ? "met" : "missed",
      };
    }),
  };
}
