/**
 * What `attach` shows in a real terminal (tmux): the user's screen and scrollback left alone,
 * and a re-attach that redraws every attribute and mode exactly as the live output left them.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runCli, startShellSession } from "../helpers/cli.js";
import { DaemonFixture } from "../helpers/daemon-fixture.js";
import { cliBin } from "../helpers/paths.js";
import type { TempHome } from "../helpers/temp-home.js";
import { TmuxPane } from "../helpers/tmux.js";
import { waitFor } from "../helpers/wait.js";

/** Each attribute on a row of its own, as a program writes it (printf's escapes). */
const ATTRIBUTES: Array<[string, string]> = [
  ["bold right after dim", "\\e[2mdim\\e[0;1mbold"],
  ["bold and dim", "\\e[1;2mboth"],
  [
    "italic, blink, inverse, invisible, strikethrough, overline",
    "\\e[3mi\\e[0;5mb\\e[0;7mr\\e[0;8mh\\e[0;9ms\\e[0;53mo",
  ],
  ["underline styles", "\\e[4ms\\e[4:2md\\e[4:3mc\\e[4:4mo\\e[4:5ma"],
  ["underline colours", "\\e[4;58:5:196mp\\e[58:2::10:20:30mr"],
  [
    "16, 256 and RGB colours",
    "\\e[31;42mc\\e[91;102mb\\e[38;5;200;48;5;17mp\\e[38;2;1;2;3;48;2;4;5;6mr",
  ],
  ["erased cells keep their colour", "\\e[44m\\e[5X\\e[0m after"],
  ["wide characters", "漢字 wide"],
  ["line drawing", "\\e(0lqqk\\e(B"],
];

/**
 * tmux captures line drawing as the program wrote it (Shift Out, then the letters of the DEC
 * set); a redraw writes the glyphs themselves, which look the same.
 */
const DEC_GRAPHICS: Record<string, string> = { j: "┘", k: "┐", l: "┌", m: "└", q: "─", x: "│" };
const withGlyphs = (text: string) =>
  text
    .replace(/\x0e([^\x0f\n]*)/g, (_all, letters: string) =>
      [...letters].map((letter) => DEC_GRAPHICS[letter] ?? letter).join(""),
    )
    .replaceAll("\x0f", "");

/** Each mode as a program sets it, and the pane flag tmux keeps for it. */
const MODES: Array<[string, string, string]> = [
  ["hidden cursor (?25l)", "\\e[?25l", "#{cursor_flag}"],
  ["button mouse tracking (?1002)", "\\e[?1002h", "#{mouse_button_flag}"],
  ["SGR mouse encoding (?1006)", "\\e[?1006h", "#{mouse_sgr_flag}"],
  ["application cursor keys (?1)", "\\e[?1h", "#{keypad_cursor_flag}"],
  ["application keypad (ESC =)", "\\e=", "#{keypad_flag}"],
  ["insert mode (4h)", "\\e[4h", "#{insert_flag}"],
  ["no autowrap (?7l)", "\\e[?7l", "#{wrap_flag}"],
];
const FLAGS = MODES.map(([, , flag]) => flag).join(" ");
/** What each flag is in a pane that nothing changed. */
const DEFAULT_FLAGS = "1 0 0 0 0 0 1";

describe("what attach shows", () => {
  const fixture = new DaemonFixture();
  let home: TempHome;
  let pane: TmuxPane;
  const cli = (...args: string[]) => runCli(args, { home: home.path, env: { PS1: "inner$ " } });
  const attach = (name: string) => {
    pane.type(`node ${cliBin} attach ${name}`);
    pane.press("Enter");
  };
  const detach = async () => {
    pane.press("C-\\");
    await pane.waitForText("[detached from");
  };

  before(async () => {
    home = fixture.home;
    pane = new TmuxPane(100, 30);
    pane.start({ CLAUDE_SESSIONS_HOME: home.path });
    await pane.waitForText("outer$");
    await startShellSession(cli, "table", fixture.work.path);
  });

  after(async () => {
    pane.kill();
    await cli("stop-daemon");
    await fixture.cleanup();
  });

  it("keeps the user's scrollback and gives their screen back on detach", async () => {
    pane.type("for i in $(seq 1 80); do echo before-$i; done");
    pane.press("Enter");
    await pane.waitForText(/^before-80\s*$/m);
    const history = Number(pane.format("#{history_size}"));
    assert.ok(history > 0, "the pane has scrollback");

    attach("table");
    await pane.waitForText("inner$");
    assert.equal(pane.format("#{alternate_on}"), "1", "attached on the alternate screen");
    // `clear` sends ESC[3J: the session's screen is cleared, not the user's history.
    await cli("send", "table", "clear; echo session-text", "--enter");
    await pane.waitForText(/^session-text/m);
    assert.doesNotMatch(pane.text(), /before-80/);
    await detach();

    assert.equal(pane.format("#{alternate_on}"), "0");
    assert.ok(Number(pane.format("#{history_size}")) >= history, "scrollback kept");
    const lines = pane.history();
    for (let i = 1; i <= 80; i++) assert.match(lines, new RegExp(`^before-${i}$`, "m"));
    // The user's screen as they left it, the attach command last, then the detach notice.
    // The one-line notice is printed on the normal screen, before the session's: it stays.
    assert.match(
      lines,
      /^before-80\nouter\$ node .* attach table\nclaude-sessions: attached to table; detach with [^\n]+\n+\[detached from table/m,
    );
    assert.doesNotMatch(lines, /session-text|inner\$/);
  });

  it("re-attach redraws every attribute and mode as the live output left them", async () => {
    attach("table");
    await pane.waitForText("inner$");
    assert.equal(pane.format(FLAGS), DEFAULT_FLAGS);
    const rows = ATTRIBUTES.map(([, sequence]) => `${sequence}\\e[0m\\n`).join("");
    const modes = MODES.map(([, sequence]) => sequence).join("");
    await cli(
      "send",
      "table",
      `clear; printf '${rows}\\e[0;1;4:3;58:5:2mpen${modes}'; sleep 1000`,
      "--enter",
    );
    await pane.waitForText(/^pen/m);
    await waitFor("every mode set", () => pane.format(FLAGS) === "0 1 1 1 1 1 0");
    const live = { screen: pane.captureEscapes(), flags: pane.format(FLAGS) };
    await detach();
    assert.equal(pane.format(FLAGS), DEFAULT_FLAGS, "detach restores the user's modes");

    pane.type("clear");
    pane.press("Enter");
    attach("table");
    await pane.waitForText(/^pen/m);
    const again = { screen: pane.captureEscapes(), flags: pane.format(FLAGS) };
    const liveRows = withGlyphs(live.screen).split("\n");
    const againRows = again.screen.split("\n");
    for (const [index, [name]] of ATTRIBUTES.entries()) {
      assert.equal(JSON.stringify(againRows[index]), JSON.stringify(liveRows[index]), name);
    }
    const flags = again.flags.split(" ");
    for (const [index, [name]] of MODES.entries()) {
      assert.equal(flags[index], live.flags.split(" ")[index], name);
    }
    assert.equal(again.screen, liveRows.join("\n"));
    await detach();
  });
});
