/**
 * Runs the benchmarks: `node dist/bench/run.js [row...]` (every row when none is named). Each
 * row measures its figures and their baselines in this same run, one row at a time; the table
 * is printed and written as JSON to `.bench-results/latest.json` with the machine's details.
 * Exits 1 if a row failed (a broken assertion, not a missed target).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../test/helpers/paths.js";
import type { Row } from "./lib/figure.js";
import { machineInfo } from "./lib/machine.js";
import { formatTable, type RowResult, rowJson } from "./lib/table.js";
import { claudeHookRow } from "./rows/claude-hook.js";
import { cliListRow } from "./rows/cli-list.js";
import { hostMemoryRow } from "./rows/host-memory.js";
import { keystrokeEchoRow } from "./rows/keystroke-echo.js";
import { loadRow } from "./rows/load.js";
import { logsTailRow } from "./rows/logs-tail.js";
import { memoryRow } from "./rows/memory.js";
import { pingRow } from "./rows/ping.js";
import { reconnectRow } from "./rows/reconnect.js";
import { remoteListRow } from "./rows/remote-list.js";
import { retentionRow } from "./rows/retention.js";
import { scaleRow } from "./rows/scale.js";
import { slowClientsRow } from "./rows/slow-clients.js";
import { snapshotRow } from "./rows/snapshot.js";
import { throughputRow } from "./rows/throughput.js";
import { usageSampleRow } from "./rows/usage-sample.js";
import { webUpdateRow } from "./rows/web-update.js";

/** In the order of the table; `scale` and `load` load the machine most, so they come late. */
const rows: Row[] = [
  pingRow,
  cliListRow,
  throughputRow,
  slowClientsRow,
  keystrokeEchoRow,
  memoryRow,
  hostMemoryRow,
  reconnectRow,
  scaleRow,
  loadRow,
  logsTailRow,
  claudeHookRow,
  retentionRow,
  usageSampleRow,
  webUpdateRow,
  remoteListRow,
  snapshotRow,
];

const names = process.argv.slice(2);
const unknown = names.filter((name) => !rows.some((row) => row.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown row ${unknown.join(", ")}; rows: ${rows.map((row) => row.name).join(", ")}\n`,
  );
  process.exit(2);
}
const selected = names.length === 0 ? rows : rows.filter((row) => names.includes(row.name));
const machine = machineInfo();
process.stdout.write(
  `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage.join(" ")}\n`,
);

const results: RowResult[] = [];
const started = Date.now();
for (const row of selected) {
  process.stdout.write(`\n== ${row.name}: ${row.title}\n`);
  const start = Date.now();
  const log = (line: string) => process.stdout.write(`   ${line}\n`);
  try {
    const figures = await row.run(log);
    results.push({
      row: row.name,
      title: row.title,
      seconds: (Date.now() - start) / 1000,
      figures,
    });
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`!! ${row.name} FAILED: ${message}\n`);
    results.push({
      row: row.name,
      title: row.title,
      seconds: (Date.now() - start) / 1000,
      figures: [],
      failure: error instanceof Error ? error.message : String(error),
    });
  }
  log(`${((Date.now() - start) / 1000).toFixed(1)} s`);
}

const table = formatTable(results);
process.stdout.write(`\n${table}\n\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
const dir = join(repoRoot, ".bench-results");
mkdirSync(dir, { recursive: true });
const file = join(dir, "latest.json");
writeFileSync(
  file,
  `${JSON.stringify(
    {
      machine,
      totalSeconds: Math.round((Date.now() - started) / 100) / 10,
      rows: results.map(rowJson),
      table,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`written to ${file}\n`);
if (results.some((result) => result.failure !== undefined)) process.exitCode = 1;
