/**
 * `claude-sessions attach` in a real terminal: tmux runs a shell, we type into it like a user
 * and read what the pane shows.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, startShellSession } from "../helpers/cli.js";
import { DaemonFixture } from "../helpers/daemon-fixture.js";
import { cliBin } from "../helpers/paths.js";
import type { TempHome } from "../helpers/temp-home.js";
import { TmuxPane } from "../helpers/tmux.js";
import { waitFor } from "../helpers/wait.js";

describe("attach in a real terminal", () => {
  const fixture = new DaemonFixture();
  let home: TempHome;
  let work: TempHome;
  let pane: TmuxPane;
  const cli = (...args: string[]) => runCli(args, { home: home.path, env: { PS1: "inner$ " } });
  const startShell = (name: string) => startShellSession(cli, name, work.path);

  before(async () => {
    home = fixture.home;
    work = fixture.work;
    pane = new TmuxPane(100, 30);
    pane.start({ CLAUDE_SESSIONS_HOME: home.path, NO_COLOR: "1" });
    await pane.waitForText("outer$");
  });

  after(async () => {
    pane.kill();
    await cli("stop-daemon");
    await fixture.cleanup();
  });

  it("types into the session, detaches with ctrl-\\, and re-attaches to the exact screen", async () => {
    await startShell("shell");

    pane.type(`node ${cliBin} attach shell`);
    pane.press("Enter");
    await pane.waitForText("inner$");
    const marker = `marker-${Math.floor(Math.random() * 1e9)}`;
    pane.type(`echo ${marker}`);
    pane.press("Enter");
    // The output line, not just the echo of what was typed.
    await pane.waitForText(new RegExp(`^${marker}\\s*$`, "m"));

    pane.press("C-\\");
    const detached = await pane.waitForText(/\[detached from shell;.*\]\s*\n\s*outer\$/);
    assert.match(detached, /attach again with: claude-sessions attach shell/);
    const show = await cli("show", "shell", "--json");
    assert.equal(JSON.parse(show.stdout).state, "running");

    // The program draws at fixed positions, then stays silent.
    const sent = await cli(
      "send",
      "shell",
      "clear; printf '\\e[2J\\e[5;10HHELLO'; sleep 1000",
      "--enter",
    );
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor("HELLO on the session's screen", async () =>
      (await cli("capture", "shell")).stdout.includes("HELLO"),
    );

    pane.type("clear");
    pane.press("Enter");
    await waitFor("a clear pane", () => !pane.text().includes(marker));
    pane.type(`node ${cliBin} attach shell`);
    pane.press("Enter");
    await pane.waitForText("HELLO");
    const rows = pane.capture();
    assert.equal(rows[4]?.indexOf("HELLO"), 9, `pane:\n${rows.join("\n")}`);
    pane.press("C-\\");
    await pane.waitForText("[detached from shell");
    await cli("stop", "shell", "--timeout", "1s");
  });

  it("exits with the session's exit code and leaves the terminal in cooked mode", async () => {
    await startShell("leaver");
    pane.type("clear");
    pane.press("Enter");
    pane.type(`node ${cliBin} attach leaver`);
    pane.press("Enter");
    await pane.waitForText("inner$");
    pane.type("exit 7");
    pane.press("Enter");
    await pane.waitForText("[session leaver ended with exit code 7]");
    await pane.waitForText(/ended with exit code 7\]\s*\n\s*outer\$/);
    // The typed line holds `$?` and `$((1+1))`; only the output holds the numbers.
    pane.type(
      'echo "attach-code=$?"; stty -a | tr " ;" "\\n\\n" | grep -E "^-?(icanon|echo)$" | tr "\\n" " "; echo; echo "check-$((1+1))-done"',
    );
    pane.press("Enter");
    const text = await pane.waitForText(/check-2-done/);
    assert.match(text, /attach-code=7/);
    assert.match(text, /(^|\s)icanon(\s|$)/m, "canonical mode restored");
    assert.match(text, /(^|\s)echo(\s|$)/m, "echo restored");
    assert.doesNotMatch(text, /-icanon|-echo(\s|$)/);
  });

  it("attach with no id takes the newest running session, names it in the title and in a line before its screen", async () => {
    await startShell("older");
    await startShell("newest");
    pane.type("clear; printf '\\e]2;outer-title\\a'");
    pane.press("Enter");
    await waitFor("the user's own title", () => pane.title() === "outer-title");
    const raw = join(work.path, "pane.raw");
    pane.record(raw);

    pane.type(`node ${cliBin} attach`);
    pane.press("Enter");
    await pane.waitForText("inner$");
    await waitFor("the session's title", () => pane.title() === "claude-sessions: newest");
    const notice = "claude-sessions: attached to newest; detach with ctrl-\\";
    const written = await waitFor("the screen after the notice", () => {
      const bytes = readFileSync(raw, "latin1");
      const at = bytes.indexOf(notice);
      return at >= 0 && bytes.indexOf("inner$", at) > at ? bytes : undefined;
    });
    const at = written.indexOf(notice);
    assert.ok(written.indexOf("\x1b]2;claude-sessions: newest\x07") > at, "title after the notice");

    pane.press("C-\\");
    await pane.waitForText("[detached from");
    await waitFor("the user's title back", () => pane.title() === "outer-title");
    await cli("stop", "older", "newest", "--timeout", "1s");

    const none = await cli("stop", "--all", "--timeout", "1s");
    assert.equal(none.code, 0, none.stderr);
    const nothing = await cli("attach");
    assert.equal(nothing.code, 1);
    assert.equal(
      nothing.stderr,
      "error: no running session to attach to; start one with: claude-sessions start <dir>\n",
    );
  });
});
