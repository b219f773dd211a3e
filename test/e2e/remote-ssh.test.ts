/**
 * Daemons on another machine, reached through a real OpenSSH: an sshd on a loopback port with
 * a generated host key, a second local user as the remote account, and the CLI on this side
 * running `ssh ... claude-sessions dial-stdio` as `--host`, contexts and the typed client do.
 * Starting sshd and making the user need root; elsewhere the file says so and skips.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { ClientError, DaemonClient } from "../../cli/client.js";
import { splitWords } from "../../cli/shell-quote.js";
import { type CliResult, runCli } from "../helpers/cli.js";
import { cliBin } from "../helpers/paths.js";
import { sshdSkip, startSshd, type TestSshd } from "../helpers/sshd.js";
import { type TempHome, tempHome } from "../helpers/temp-home.js";
import { TmuxPane } from "../helpers/tmux.js";
import { waitFor } from "../helpers/wait.js";
import { httpRequest, startWebUi } from "../helpers/web.js";

/** One line on stderr, nothing else: the shape of every error a person gets. */
function assertOneLineError(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 1, `exit code; stderr: ${result.stderr}`);
  assert.match(result.stderr, /^error: [^\n]+\n$/, "one line");
  assert.match(result.stderr, pattern);
}

describe("remote daemons over ssh", { skip: sshdSkip() }, () => {
  let sshd: TestSshd;
  let home: TempHome;
  let remoteDir: string;
  /** The environment that reaches the far side: the test's ssh config and program. */
  let sshEnv: Record<string, string>;
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { home: home.path, env: { ...sshEnv, ...env } });
  const remote = (...args: string[]) => cli(["--host", sshd.url, ...args]);

  before(async () => {
    sshd = await startSshd();
    home = tempHome();
    remoteDir = sshd.userHome;
    sshEnv = {
      CLAUDE_SESSIONS_SSH_COMMAND: sshd.sshCommand,
      CLAUDE_SESSIONS_REMOTE_PROGRAM: sshd.program,
      DISABLE_AUTOUPDATER: "1",
    };
  });

  after(async () => {
    try {
      await remote("stop-daemon", "--stop-sessions", "--timeout", "1s");
      await cli(["stop-daemon", "--stop-sessions", "--timeout", "1s"], {
        CLAUDE_SESSIONS_CONTEXT: "default",
      });
    } finally {
      await sshd.dispose();
      home.remove();
    }
  });

  it("asks the far machine's daemon, starting it there only for a command that needs one", async () => {
    const status = await remote("status");
    assert.equal(status.code, 3, status.stderr);
    assert.equal(status.stdout, `❌ Daemon is not running on ${sshd.url}\n`);
    const noSocket = await sshd.runAsUser(`test -e '${sshd.remoteHome}/daemon.sock'`);
    assert.notEqual(noSocket.code, 0, "status started no daemon there");

    const first = await remote("list");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /No active sessions/);
    assert.match(first.stderr, new RegExp(`started daemon on ${sshd.url} \\(pid \\d+\\)`));
    const again = await remote("list");
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, "", "the daemon runs now");

    const running = await remote("status", "--json");
    const ping = JSON.parse(running.stdout);
    assert.equal(ping.running, true);
    assert.equal(ping.home, sshd.remoteHome, "the far side's home, not ours");
    assert.equal(ping.socket, sshd.url);
    // Nothing ran here.
    assert.throws(() => statSync(`${home.path}/daemon.sock`));
  });

  /** A streaming command through ssh (`logs -f`, `watch`), read as it prints. */
  const follow = (...args: string[]) => {
    const child = spawn(process.execPath, [cliBin, "--host", sshd.url, ...args], {
      env: { ...process.env, ...sshEnv, CLAUDE_SESSIONS_HOME: home.path, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let printed = "";
    child.stdout.on("data", (chunk: Buffer) => {
      printed += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    return {
      printed: () => printed,
      /** Ctrl-C, as a person ends it; resolves with its exit code. */
      interrupt: () => {
        child.kill("SIGINT");
        return exited;
      },
    };
  };

  it("starts, sends to, captures, follows, watches and stops a session on the far machine", async () => {
    // The watch lists a session that is there first: once it has, it hears every later event.
    const marker = await remote("start", "--name", "mark", "~", "--", "sleep", "600");
    assert.equal(marker.code, 0, marker.stderr);
    const watcher = follow("watch", "--json", "--existing");
    await waitFor("the watch to list the session already there", () =>
      /"event":"existing".*"name":"mark"/.test(watcher.printed()),
    );
    // `~` is the far user's home; the session gets the far daemon's environment, not ours.
    const started = await remote(
      "start",
      "--name",
      "far",
      "~",
      "--",
      "bash",
      "--norc",
      "--noprofile",
    );
    assert.equal(started.code, 0, started.stderr);
    const show = JSON.parse((await remote("show", "far", "--json")).stdout);
    assert.equal(show.working_dir, remoteDir);
    const owner = await sshd.runAsUser(`ps -o user= -p ${show.pid}`);
    assert.equal(owner.stdout.trim(), sshd.user, "the program runs as the remote account");

    const follower = follow("logs", "-f", "far");
    let ended: Promise<number | null> | undefined;
    try {
      const sent = await remote("send", "far", "echo far-$((6 * 7)) $HOME", "--enter");
      assert.equal(sent.code, 0, sent.stderr);
      await waitFor("the followed log to show the output", () =>
        follower.printed().includes("far-42"),
      );
      await waitFor("capture to show the output", async () =>
        (await remote("capture", "far")).stdout.includes(`far-42 ${remoteDir}\n`),
      );
    } finally {
      ended = follower.interrupt();
    }
    assert.equal(await ended, 130, "ctrl-c ends logs -f as a shell reports it");

    const stopped = await remote("stop", "far", "--timeout", "1s");
    assert.equal(stopped.code, 0, stopped.stderr);
    const state = JSON.parse((await remote("show", "far", "--json")).stdout).state;
    assert.notEqual(state, "running");
    await remote("rm", "far");
    const events = await waitFor("the watch to see the session come and go", () => {
      const seen = watcher
        .printed()
        .trimEnd()
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as { event: string; session: { name: string } });
      const kinds = seen.filter((each) => each.session.name === "far").map((each) => each.event);
      return kinds.includes("removed") ? kinds : undefined;
    });
    assert.ok(events.includes("started") && events.includes("exited"), events.join(", "));
    assert.equal(await watcher.interrupt(), 0, "ctrl-c ends a watch with 0");
    assert.equal((await remote("rm", "--force", "mark")).code, 0);
  });

  it("attaches interactively through ssh, detaches with ctrl-\\, and a lost connection ends it with one line", async () => {
    const started = await remote("start", "--name", "tty", remoteDir, "--", "bash", "--norc");
    assert.equal(started.code, 0, started.stderr);
    const pane = new TmuxPane(100, 30);
    try {
      pane.start({ ...sshEnv, CLAUDE_SESSIONS_HOME: home.path, NO_COLOR: "1" });
      await pane.waitForText("outer$");
      pane.type(`node ${cliBin} --host ${sshd.url} attach tty`);
      pane.press("Enter");
      await pane.waitForText(/bash-[\d.]+\$/);
      pane.type("echo typed-$((40 + 2))");
      pane.press("Enter");
      await pane.waitForText(/^typed-42\s*$/m);
      pane.press("C-\\");
      await pane.waitForText(/\[detached from tty;.*\]\s*\n\s*outer\$/);
      assert.equal(JSON.parse((await remote("show", "tty", "--json")).stdout).state, "running");

      pane.type("clear");
      pane.press("Enter");
      pane.type(`node ${cliBin} --host ${sshd.url} attach tty; echo "rc=$?"`);
      pane.press("Enter");
      await pane.waitForText(/typed-42/);
      // The far side's end of this connection goes, as when its machine or network does.
      execFileSync("pkill", ["-KILL", "-u", sshd.user, "-f", "^sshd: "]);
      const ended = await pane.waitForText(/rc=1/, 20_000);
      assert.match(ended, new RegExp(`error: the connection to ${sshd.url} was lost`));
      // The session lives on, on its machine.
      assert.equal(JSON.parse((await remote("show", "tty", "--json")).stdout).state, "running");
    } finally {
      pane.kill();
      await remote("stop", "tty", "--timeout", "1s");
      await remote("rm", "tty");
    }
  });

  it("names machines as contexts: add, ls, use, --context, rm", async () => {
    const added = await cli([
      "context",
      "add",
      "far",
      sshd.url,
      "--program",
      sshd.program,
      "--description",
      "the test's sshd",
    ]);
    assert.equal(added.code, 0, added.stderr);
    const mode = statSync(`${home.path}/contexts.json`).mode & 0o777;
    assert.equal(mode, 0o600);
    const twice = await cli(["context", "add", "far", sshd.url]);
    assertOneLineError(twice, /already exists/);

    const listed = await cli(["context", "ls"]);
    assert.match(listed.stdout, /^default \*\s+this machine/m);
    assert.match(listed.stdout, new RegExp(`^far\\s+${sshd.url}\\s+the test's sshd$`, "m"));

    // Through --context, the context's program is used, not the environment's.
    const started = await cli(
      ["--context", "far", "start", "--name", "ctx", remoteDir, "--", "sleep", "300"],
      {
        CLAUDE_SESSIONS_REMOTE_PROGRAM: "/nowhere/claude-sessions",
      },
    );
    assert.equal(started.code, 0, started.stderr);

    const used = await cli(["context", "use", "far"]);
    assert.equal(used.code, 0, used.stderr);
    assert.equal((await cli(["context", "show"])).stdout, "far\n");
    const plain = await cli(["list", "--json"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(
      JSON.parse(plain.stdout).map((session: { name: string }) => session.name),
      ["ctx"],
      "with no flag, the current context's daemon answers",
    );
    assertOneLineError(await cli(["context", "rm", "far"]), /in use/);
    assert.equal((await cli(["context", "use", "default"])).code, 0);
    const local = await cli(["list", "--json"]);
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(JSON.parse(local.stdout), [], "this machine's daemon has no sessions");

    assertOneLineError(await cli(["--context", "nope", "list"]), /no context is called 'nope'/);
    await cli(["--context", "far", "stop", "ctx", "--timeout", "1s"]);
    await cli(["--context", "far", "rm", "ctx"]);
  });

  it("lists every context's sessions in one table with a HOST column; one it cannot reach is a warning", async () => {
    const there = await remote("start", "--name", "over-there", remoteDir, "--", "sleep", "300");
    assert.equal(there.code, 0, there.stderr);
    const here = await cli(["start", "--name", "right-here", home.path, "--", "sleep", "300"]);
    assert.equal(here.code, 0, here.stderr);
    await cli(["context", "add", "gone", "ssh://127.0.0.1:1"]);
    try {
      const all = await cli(["list", "--all-contexts"]);
      assert.equal(all.code, 0, all.stderr);
      const lines = all.stdout.trimEnd().split("\n");
      assert.match(lines[0] ?? "", /^HOST\s+ID\s+NAME\s+STATE/);
      assert.ok(
        lines.some((line) => /^default\s+\w{8}\s+right-here\s+running/.test(line)),
        all.stdout,
      );
      assert.ok(
        lines.some((line) => /^far\s+\w{8}\s+over-there\s+running/.test(line)),
        all.stdout,
      );
      assert.match(
        all.stderr,
        /^warning: context gone: cannot reach ssh:\/\/127\.0\.0\.1:1 over ssh/m,
      );
      assert.equal(all.stderr.match(/context gone/g)?.length, 1, "one line for it");

      const json = JSON.parse((await cli(["list", "--all-contexts", "--json"])).stdout);
      assert.deepEqual(
        json.map((row: { context: string; name: string }) => [row.context, row.name]).sort(),
        [
          ["default", "right-here"],
          ["far", "over-there"],
        ],
      );
    } finally {
      await cli(["context", "rm", "gone"]);
      await remote("stop", "over-there", "--timeout", "1s");
      await cli(["stop", "right-here", "--timeout", "1s"]);
    }
  });

  it("says in one line what is wrong: host key, login, missing or old program, no ssh, no sshd", async () => {
    assertOneLineError(
      await cli(["--host", sshd.url, "list"], {
        CLAUDE_SESSIONS_SSH_COMMAND: sshd.sshCommandUnknownHost,
      }),
      /the host key of 127\.0\.0\.1 is not known here.*connecting once with: ssh -p \d+ /,
    );
    assertOneLineError(
      await cli(["--host", sshd.url, "list"], {
        CLAUDE_SESSIONS_SSH_COMMAND: sshd.sshCommandWrongKey,
      }),
      /ssh could not log in to .*Permission denied \(publickey\).*ssh-add/,
    );
    assertOneLineError(
      await cli(["--host", sshd.url, "list"], {
        CLAUDE_SESSIONS_REMOTE_PROGRAM: "/nowhere/claude-sessions",
      }),
      /claude-sessions is not installed on 127\.0\.0\.1.*--program/,
    );
    // A claude-sessions from before dial-stdio answers as any CLI does to a command it lacks.
    const old = await sshd.runAsUser(
      `printf '#!/bin/sh\\necho "error: unknown command '"'"'$1'"'"'" >&2\\nexit 2\\n' > old-cs && chmod +x old-cs`,
    );
    assert.equal(old.code, 0, old.stderr);
    assertOneLineError(
      await cli(["--host", sshd.url, "list"], {
        CLAUDE_SESSIONS_REMOTE_PROGRAM: `${sshd.userHome}/old-cs`,
      }),
      /the claude-sessions on 127\.0\.0\.1 is too old.*upgrade it/,
    );
    assertOneLineError(
      await cli(["--host", sshd.url, "list"], { CLAUDE_SESSIONS_SSH_COMMAND: "/nowhere/ssh" }),
      /ssh is not installed here/,
    );
    const here = await remote("start", ".", "--", "true");
    assert.equal(here.code, 2, here.stderr);
    assert.match(here.stderr, /name the directory in full or from ~ \(not '\.'\)/);
    const both = await cli(["--host", sshd.url, "--socket", "/tmp/x.sock", "list"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /name two daemons/);
    const wrong = await cli(["--host", "tcp://box", "list"]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--host must be ssh:\/\/\[user@\]host\[:port\]/);

    await sshd.stopListening();
    try {
      assertOneLineError(
        await remote("list"),
        /cannot reach ssh:\/\/.* over ssh: .*Connection refused/,
      );
    } finally {
      await sshd.startListening();
    }
    assert.equal((await remote("list")).code, 0, "and works again once sshd is back");
  });

  it("lets programs reach the far daemon with the typed client", async () => {
    const options = { program: sshd.program, sshCommand: splitWords(sshd.sshCommand) };
    const client = await DaemonClient.connectHost(sshd.url, options);
    try {
      const ping = await client.daemon.ping({});
      assert.equal(ping.home, sshd.remoteHome);
      const { session } = await client.sessions.startSession({
        workingDir: remoteDir,
        command: ["sleep", "300"],
        name: "typed",
      });
      assert.ok(session);
      const { sessions } = await client.sessions.listSessions({});
      assert.ok(sessions.some((each) => each.name === "typed"));
      await client.sessions.stopSession({ sessionId: session.id });
    } finally {
      client.close();
    }
    await assert.rejects(
      DaemonClient.connectHost(sshd.url, {
        ...options,
        sshCommand: splitWords(sshd.sshCommandWrongKey),
      }),
      (error: unknown) => error instanceof ClientError && /Permission denied/.test(error.message),
    );
  });

  it("serves the web UI for the far daemon", async () => {
    const started = await remote("start", "--name", "in-browser", remoteDir, "--", "sleep", "300");
    assert.equal(started.code, 0, started.stderr);
    const web = await startWebUi(home.path, ["--host", sshd.url, "--port", "0"], sshEnv);
    try {
      const reply = await httpRequest(web.port, {
        method: "POST",
        path: "/claude_sessions.v1.SessionService/ListSessions",
        headers: {
          "content-type": "application/json",
          "connect-protocol-version": "1",
          cookie: web.cookie,
        },
        body: "{}",
      });
      assert.equal(reply.status, 200, reply.body);
      const { sessions } = JSON.parse(reply.body) as { sessions: Array<{ name: string }> };
      assert.ok(
        sessions.some((session) => session.name === "in-browser"),
        "the page is served the far machine's sessions",
      );
    } finally {
      assert.equal(await web.stop(), 0, web.stderr());
      await remote("stop", "in-browser", "--timeout", "1s");
    }
  });

  it("stops the far daemon with stop-daemon", async () => {
    assert.equal((await remote("list")).code, 0);
    const stopped = await remote("stop-daemon", "--stop-sessions", "--timeout", "1s");
    if (stopped.code !== 0) {
      // What the far daemon was doing meanwhile says whether it or the asking was slow.
      const log = await sshd.runAsUser(`tail -n 40 '${sshd.remoteHome}/daemon.log'; date -Is`);
      assert.fail(`${stopped.stderr}the far daemon.log, then the time there:\n${log.stdout}`);
    }
    assert.match(stopped.stdout, /Daemon stopped/);
    const status = await remote("status");
    assert.equal(status.code, 3, status.stderr);
    await waitFor("no claude-sessions process of the remote user", async () => {
      const left = await sshd.runAsUser("pgrep -u \"$(id -u)\" -f '[b]in/claude-sessions' || true");
      return left.stdout.trim() === "";
    });
  });
});
