/**
 * A read-only watcher in a terminal smaller than the session's sees a crop of the screen that
 * follows the cursor, as tmux shows a smaller client, with a notice on its last row; once its
 * terminal is as large as the session's, it sees the whole screen.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { DaemonFixture } from "../helpers/daemon-fixture.js";
import { cliBin } from "../helpers/paths.js";
import { TmuxPane } from "../helpers/tmux.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Draws a 120x40 grid of 10-column cells naming their row and column ("A:R07C030 "), leaves
 * the cursor after the last cell, and redraws it with the next letter on each line of input.
 */
const GRID = `stty -echo
draw() { for r in $(seq 0 39); do printf '\\e[%d;1H' $((r + 1)); for c in $(seq 0 10 110); do printf '%s:R%02dC%03d ' "$1" "$r" "$c"; done; done; }
draw A
while read -r letter; do draw "$letter"; done
`;

/** The grid's row `r` from column `left` on, `cells` cells of it, as capture-pane shows it. */
const gridRow = (letter: string, r: number, left: number, cells: number) =>
  Array.from({ length: cells }, (_, i) => {
    const c = left + i * 10;
    return `${letter}:R${String(r).padStart(2, "0")}C${String(c).padStart(3, "0")}`;
  }).join(" ");

describe("a read-only watcher smaller than the session", () => {
  const fixture = new DaemonFixture();
  let pane: TmuxPane;
  const cli = (...args: string[]) => runCli(args, { home: fixture.home.path });
  /** Waits until the pane's top rows are `rows` exactly, with no wrapped line among them. */
  const showsRows = (what: string, rows: string[]) =>
    waitFor(what, () => {
      const shown = pane.capture().slice(0, rows.length);
      return shown.map((line) => line.trimEnd()).join("\n") === rows.join("\n") || undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n--- pane ---\n${pane.text()}`);
    });

  before(async () => {
    pane = new TmuxPane(80, 24);
    pane.start({ CLAUDE_SESSIONS_HOME: fixture.home.path, NO_COLOR: "1" });
    await pane.waitForText("outer$");
  });

  after(async () => {
    pane.kill();
    await cli("stop-daemon");
    await fixture.cleanup();
  });

  it("shows the crop around the cursor and a notice, follows output, and the whole screen once large enough", async () => {
    const script = join(fixture.work.path, "grid.sh");
    writeFileSync(script, GRID);
    const started = await cli("start", "--name", "grid", fixture.work.path, "--", "bash", script);
    assert.equal(started.code, 0, started.stderr);
    // Started with no terminal, the session has the default size.
    const shown = JSON.parse((await cli("show", "grid", "--json")).stdout);
    assert.deepEqual([shown.cols, shown.rows], [120, 40]);
    await waitFor("the grid drawn at 120x40", async () =>
      (await cli("capture", "grid")).stdout.includes("A:R39C110"),
    );

    pane.type(`node ${cliBin} attach --read-only grid`);
    pane.press("Enter");
    // The cursor ends on the last row after the last cell: the 80x23 crop is rows 17-39,
    // columns 40-119.
    const cropped = (letter: string) => [
      ...Array.from({ length: 23 }, (_, i) => gridRow(letter, 17 + i, 40, 8)),
      "claude-sessions: showing 80x23 of 120x40 (read-only)",
    ];
    await showsRows("the cropped grid", cropped("A"));

    assert.equal((await cli("send", "grid", "B", "--enter")).code, 0);
    await showsRows("the cropped grid redrawn", cropped("B"));

    pane.resize(130, 45);
    await showsRows(
      "the whole grid",
      Array.from({ length: 40 }, (_, r) => gridRow("B", r, 0, 12)),
    );
    assert.doesNotMatch(pane.text(), /showing/);
    pane.press("C-c");
    await pane.waitForText(/\[detached from grid;/);
  });
});
