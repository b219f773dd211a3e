/**
 * What a new user meets first, through the built CLI: help that says what to type, one line with
 * the closest command for a typo, misuse caught before the daemon is asked, messages that say
 * what happened (lowercase states, shell-quoted commands, names before ids), and shell
 * completion that asks the daemon for session names without ever starting one.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { assertNoStackTrace, type CliHome, cliHome } from "../helpers/cli-home.js";
import { cliBin } from "../helpers/paths.js";
import { tempDir, tempHome } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

interface SessionJson {
  id: string;
  name: string;
  state: string;
}

/** Exactly one line on stderr. */
function oneLine(stderr: string): void {
  assert.match(stderr, /^[^\n]+\n$/, `not one line: ${JSON.stringify(stderr)}`);
}

describe("e2e: help and misuse, with no daemon", () => {
  const home = tempHome("csu-");
  after(() => home.remove());
  const run = (args: readonly string[], options: { cwd?: string; home?: string } = {}) =>
    runCli(args, { home: options.home ?? home.path, ...(options.cwd ? { cwd: options.cwd } : {}) });

  it("--help names option values and aliases; start's usage shows -- command...", async () => {
    const help = await run(["--help"]);
    assert.equal(help.code, 0);
    assert.doesNotMatch(help.stdout, /#\d/, "clipanion's #0 placeholders");
    assert.match(help.stdout, /\[--socket <path>\]/);
    assert.match(help.stdout, /\[--state <state>\]/);
    assert.match(help.stdout, /\n {4}List sessions \(also: ls\)\n/);
    assert.match(help.stdout, /\n {4}Forget ended sessions \(also: remove\)\n/);
    assert.match(help.stdout, /claude-sessions start \[[^\n]*\[dir\] \[-- command\.\.\.\]\n/);

    const start = await run(["start", "--help"]);
    assert.equal(start.code, 0);
    assert.match(start.stdout, /^\$ claude-sessions start \[dir\] \[-- command\.\.\.\]$/m);
    assert.match(start.stdout, /^ {2}--name <name> /m);
    assert.doesNotMatch(start.stdout, /#\d/);
  });

  it("help is --help, and help <command> is <command> --help", async () => {
    const help = await run(["help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.equal(help.stdout, (await run(["--help"])).stdout);
    const start = await run(["help", "start"]);
    assert.equal(start.code, 0, start.stderr);
    assert.equal(start.stdout, (await run(["start", "--help"])).stdout);
  });

  it("a typo is one line with the closest command, exit 2", async () => {
    const typo = await run(["lsit"]);
    assert.equal(typo.code, 2);
    assert.equal(typo.stdout, "");
    oneLine(typo.stderr);
    assert.match(typo.stderr, /^error: unknown command 'lsit'; did you mean 'list'\?/);

    const far = await run(["frobnicate", "x"]);
    assert.equal(far.code, 2);
    oneLine(far.stderr);
    assert.match(
      far.stderr,
      /^error: unknown command 'frobnicate'; the commands: .*claude-sessions --help/,
    );
    assert.match(far.stderr, /\bcompletion\b/);
    assert.doesNotMatch(far.stderr, /__complete/, "the hidden command");
  });

  it("a command of two words: help lists it, its misuse shows its usage, the first word alone its subcommands", async () => {
    const help = await run(["--help"]);
    assert.match(help.stdout, /\n {2}claude-sessions daemon restart \[[^\n]*\[--resume\]\n/);
    assert.match(help.stdout, /\n {2}claude-sessions service install \[[^\n]*\[--print\]\n/);
    assert.match(help.stdout, /\n {2}claude-sessions service uninstall \[/);
    const restart = await run(["daemon", "restart", "--bogus"]);
    assert.equal(restart.code, 2);
    assert.match(
      restart.stderr,
      /^error: Unsupported option name \("--bogus"\)\.\n\$ claude-sessions daemon restart /,
    );
    assert.match(restart.stderr, /run 'claude-sessions daemon restart --help' for its details\n$/);
    // The one-word command is still itself.
    const daemon = await run(["daemon", "--bogus"]);
    assert.equal(daemon.code, 2);
    assert.match(daemon.stderr, /run 'claude-sessions daemon --help' for its details\n$/);
    for (const args of [["service"], ["service", "instal"]]) {
      const group = await run(args);
      assert.equal(group.code, 2);
      oneLine(group.stderr);
      assert.match(group.stderr, /^error: 'service' takes a subcommand: install, uninstall\b/);
    }
  });

  it("resize x 0 0 is misuse (exit 2), caught before any daemon is asked", async () => {
    const zero = await run(["resize", "x", "0", "0"]);
    assert.equal(zero.code, 2);
    oneLine(zero.stderr);
    assert.match(zero.stderr, /^error: cols must be between 1 and 1000, got 0$/m);
    const huge = await run(["resize", "x", "80", "1001"]);
    assert.equal(huge.code, 2);
    assert.match(huge.stderr, /^error: rows must be between 1 and 1000, got 1001$/m);
    assert.equal(existsSync(join(home.path, "daemon.pid")), false, "a daemon was started");
  });

  it("a relative CLAUDE_SESSIONS_HOME is refused in one line, creating nothing", async () => {
    const cwd = tempDir();
    try {
      const result = await run(["list"], { cwd: cwd.path, home: "relative-home" });
      assert.equal(result.code, 1);
      oneLine(result.stderr);
      assert.match(
        result.stderr,
        /^error: CLAUDE_SESSIONS_HOME must be an absolute path, got 'relative-home'/,
      );
      assert.equal(existsSync(join(cwd.path, "relative-home")), false);
      assertNoStackTrace(result.stderr);
    } finally {
      cwd.remove();
    }
  });
});

describe("e2e: messages and completion, with a daemon", () => {
  let home: CliHome;
  let work: ReturnType<typeof tempDir>;
  /** A directory whose `claude-sessions` runs the built CLI, for the completion scripts. */
  let bin: string;

  before(async () => {
    home = cliHome();
    work = tempDir();
    bin = join(work.path, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "claude-sessions"),
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cliBin)} "$@"\n`,
    );
    chmodSync(join(bin, "claude-sessions"), 0o755);
    await home.ok(["daemon"]);
  });

  after(async () => {
    await home.cleanup();
    work.remove();
  });

  it("a named session is shown by its name and short id, not its full id", async () => {
    const started = await home.ok(["start", "--name", "ux-named", work.path, "--", "sleep", "100"]);
    const title = /^✅ Session started: ux-named \(([0-9a-f]{8})\)$/m.exec(started);
    assert.ok(title, started);
    const { id } = await home.json<SessionJson>(["show", "ux-named"]);
    assert.equal(id.slice(0, 8), title[1]);
    const stopped = await home.ok(["stop", "--timeout", "1s", "ux-named"]);
    assert.match(stopped, new RegExp(`^✅ Session stopped: ux-named \\(${title[1]}\\) \\(`, "m"));
    assert.doesNotMatch(stopped, new RegExp(id));
  });

  it("start --json is pretty-printed like show --json", async () => {
    const out = (await home.run(["start", "--json", work.path, "--", "sleep", "100"])).stdout;
    const session = JSON.parse(out) as SessionJson;
    assert.equal(out, `${JSON.stringify(session, null, 2)}\n`);
    const shown = await home.ok(["show", "--json", session.id]);
    assert.equal(Object.keys(JSON.parse(shown)).join(), Object.keys(session).join());
    assert.match(shown, /^ {2}"id": /m);
    await home.ok(["stop", "--timeout", "1s", session.id]);
  });

  it("commands are shown shell-quoted, as they would be typed", async () => {
    const command = ["sh", "-c", "sleep 100; exit", "two words", "it's"];
    const session = await home.json<SessionJson>(["start", work.path, "--", ...command]);
    const shown = await home.ok(["show", session.id]);
    assert.match(shown, /^Command:\s+sh -c 'sleep 100; exit' 'two words' 'it'\\''s'$/m);
    await home.ok(["stop", "--timeout", "1s", session.id]);
  });

  it("list --state exited is titled by its states; errors name states in lowercase", async () => {
    const session = await home.json<SessionJson>(["start", work.path, "--", "true"]);
    await waitFor("the exit", async () =>
      (await home.json<SessionJson>(["show", session.id])).state === "exited" ? true : undefined,
    );
    // The title heads the detailed list; the compact table has none.
    const listed = await home.ok(["list", "--long", "--state", "exited"]);
    assert.match(listed, /^📋 Exited sessions \(\d+\):$/m);
    assert.doesNotMatch(listed, /Active/);
    const several = await home.ok(["list", "--long", "--state", "exited", "--state", "stopped"]);
    assert.match(several, /^📋 Exited or stopped sessions \(\d+\):$/m);

    const resize = await home.run(["resize", session.id, "80", "24"]);
    assert.equal(resize.code, 1);
    assert.match(resize.stderr, /is exited;/);
    assert.doesNotMatch(resize.stderr, /EXITED/);
  });

  it("a file that is no program is called that, not given chmod +x", async () => {
    const result = await home.run(["start", work.path, "--", "/etc/passwd"]);
    assert.equal(result.code, 1);
    oneLine(result.stderr);
    assert.match(result.stderr, /\/etc\/passwd is not a program/);
    assert.doesNotMatch(result.stderr, /chmod/);
  });

  it("completion: bash completes commands, options, values and session names", async () => {
    await home.json<SessionJson>([
      "start",
      "--name",
      "ux-complete",
      work.path,
      "--",
      "sleep",
      "100",
    ]);
    const script = join(work.path, "completion.bash");
    writeFileSync(script, await home.ok(["completion", "bash"]));
    const complete = (...words: string[]) => {
      const result = spawnSync(
        "bash",
        [
          "-c",
          `source ${script}; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _claude_sessions; printf '%s\\n' "\${COMPREPLY[@]}"`,
          "bash",
          "claude-sessions",
          ...words,
        ],
        {
          encoding: "utf8",
          env: {
            ...process.env,
            PATH: `${bin}:${process.env.PATH}`,
            CLAUDE_SESSIONS_HOME: home.path,
          },
        },
      );
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr, "");
      return result.stdout.split("\n").filter((line) => line !== "");
    };
    assert.deepEqual(complete("st").sort(), ["start", "status", "stop", "stop-daemon"]);
    assert.ok(complete("").includes("completion"), "every command");
    assert.ok(!complete("").includes("__complete"), "the hidden command");
    assert.deepEqual(complete("list", "--st"), ["--state"]);
    assert.deepEqual(complete("daemon", ""), ["restart", "reload"]);
    assert.deepEqual(complete("daemon", "--fo"), ["--foreground"]);
    assert.deepEqual(complete("daemon", "restart", "--r"), ["--resume"]);
    assert.deepEqual(complete("service", ""), ["install", "uninstall"]);
    assert.deepEqual(complete("service", "install", "--n"), ["--now"]);
    assert.deepEqual(complete("se").sort(), ["send", "service"]);
    assert.deepEqual(complete("list", "--state", "ex"), ["exited"]);
    assert.deepEqual(complete("wait", "x", "--for", "w"), ["waiting", "working"]);
    assert.deepEqual(complete("wait", "x", "--for", ""), ["waiting", "idle", "working", "exited"]);
    assert.deepEqual(complete("show", "ux-c"), ["ux-complete"]);
    const { id } = await home.json<SessionJson>(["show", "ux-complete"]);
    assert.deepEqual(complete("attach", id.slice(0, 6)), [id]);
    assert.ok(complete("stop", "x", "").includes("ux-complete"), "stop takes several ids");
    await home.ok(["stop", "--timeout", "1s", "ux-complete"]);
  });

  it("completion: zsh and fish scripts call the same completer", async () => {
    const zsh = await home.ok(["completion", "zsh"]);
    assert.match(zsh, /^#compdef claude-sessions$/m);
    assert.match(zsh, /claude-sessions __complete -- /);
    const fish = await home.ok(["completion", "fish"]);
    assert.match(fish, /^complete -c claude-sessions /m);
    assert.match(fish, /claude-sessions __complete -- /);
    const bad = await home.run(["completion", "tcsh"]);
    assert.equal(bad.code, 2);
    oneLine(bad.stderr);
  });

  it("completion asks no daemon when none runs, starts none, and prints nothing", async () => {
    const empty = tempHome("csu-");
    try {
      writeFileSync(join(empty.path, "state.json"), JSON.stringify({ version: 1, sessions: [] }));
      const result = await runCli(["__complete", "--", "show", ""], { home: empty.path });
      assert.equal(result.code, 0);
      assert.equal(result.stdout, "");
      assert.equal(result.stderr, "");
      assert.equal(existsSync(join(empty.path, "daemon.pid")), false, "a daemon was started");
    } finally {
      empty.remove();
    }
  });

  it("stop-daemon says the daemon stopped, once it is gone", async () => {
    const stop = await home.run(["stop-daemon", "--timeout", "1s"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /^✅ Daemon stopped \(pid \d+\)$/m);
    assert.doesNotMatch(stop.stdout, /requested/);
  });
});
