/**
 * Activity through the CLI, as a user or a script sees it: `list`'s ACTIVITY and FOREGROUND
 * columns, `wait --for` returning when a session gets there (and exit 1 on timeout, or when it
 * can no longer get there), and `attach --bell` ringing when another session starts waiting.
 */
import assert from "node:assert/strict";
import { spawn as spawnProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type IPty, spawn } from "node-pty";
import { type CliHome, cliHome } from "../helpers/cli-home.js";
import { fakeClaudeDir, permissionNotification, runHook } from "../helpers/hook-events.js";
import { cliBin } from "../helpers/paths.js";
import { tempDir } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

interface SessionJson {
  id: string;
  name: string;
  pid: number;
  state: string;
  activity: string | null;
  activity_detail: string | null;
  activity_since: string | null;
  foreground_command: string | null;
}

const BEL = "\x07";

/** The CLI in a pseudo-terminal of its own, left running: what it has printed, and its end. */
interface TerminalCli {
  output(): string;
  write(text: string): void;
  exited: Promise<number>;
  kill(): void;
}

function cliInTerminal(args: readonly string[], home: string): TerminalCli {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, CLAUDE_SESSIONS_HOME: home }))
    if (value !== undefined && key !== "CLAUDE_SESSIONS_BELL") env[key] = value;
  const terminal: IPty = spawn(process.execPath, [cliBin, ...args], { cols: 100, rows: 30, env });
  let output = "";
  terminal.onData((data) => {
    output += data;
  });
  const exited = new Promise<number>((resolve) =>
    terminal.onExit(({ exitCode }) => resolve(exitCode)),
  );
  return {
    output: () => output,
    write: (text) => terminal.write(text),
    exited,
    kill: () => {
      try {
        terminal.kill("SIGKILL");
      } catch {
        // It has ended already.
      }
    },
  };
}

describe("e2e: activity through the CLI", () => {
  let home: CliHome;
  let work: ReturnType<typeof tempDir>;

  before(async () => {
    home = cliHome();
    work = tempDir("csa-work-");
    await home.ok(["daemon"]);
  });

  after(async () => {
    await home.cleanup();
    work.remove();
  });

  const show = (id: string) => home.json<SessionJson>(["show", id]);

  /** A bash free of startup files, at its prompt: IDLE. */
  async function shell(name: string): Promise<SessionJson> {
    const session = await home.json<SessionJson>([
      "start",
      "--name",
      name,
      work.path,
      "--",
      "bash",
      "--norc",
      "--noprofile",
      "-i",
    ]);
    await waitFor(
      `${name} to be idle at its prompt`,
      async () => (await show(name)).activity === "idle",
    );
    return session;
  }

  /** The fake `claude`: a session the daemon treats as Claude Code, driven by hook events. */
  async function claude(name: string): Promise<SessionJson> {
    const claudeHome = join(work.path, `home-${name}`);
    mkdirSync(claudeHome, { recursive: true });
    return home.json<SessionJson>(["start", "--name", name, work.path, "--", "claude"], {
      env: { PATH: `${fakeClaudeDir}:${process.env.PATH}`, HOME: claudeHome },
    });
  }

  it("list shows each session's activity and foreground command; a command at work is working, the prompt idle", async () => {
    await shell("lister");
    const watch = spawnProcess(process.execPath, [cliBin, "watch", "--existing"], {
      env: { ...process.env, NO_COLOR: "1", CLAUDE_SESSIONS_HOME: home.path },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let watched = "";
    watch.stdout.on("data", (chunk: Buffer) => {
      watched += chunk.toString();
    });
    const watchEnded = new Promise((resolve) => watch.on("close", resolve));
    await waitFor("the watch to list the session", () => watched.includes(" existing lister "));
    await home.ok(["send", "lister", "--enter", "sleep 4"]);
    // Once sleep holds the terminal. (Before, on a loaded machine, the echo of the typed line
    // can come late enough to count as output of bash's own.)
    const working = await waitFor("sleep to hold lister's terminal", async () => {
      const session = await show("lister");
      return session.foreground_command === "sleep" ? session : undefined;
    });
    assert.equal(working.activity, "working");
    assert.equal(working.activity_detail, "sleep 4");
    const table = (await home.ok(["list"])).split("\n");
    assert.match(table[0] ?? "", /^ID +NAME +STATE +ACTIVITY +FOREGROUND +AGE +DIRECTORY$/);
    const row = table.find((line) => line.includes(" lister "));
    assert.deepEqual(row?.split(/ {2,}/).slice(1, 5), ["lister", "running", "working", "sleep"]);

    await home.ok(["wait", "lister", "--for", "idle", "--timeout", "10s"]);
    await waitFor("watch to print both changes of activity", () =>
      /activity lister \([0-9a-f]{8}\): working: sleep 4\n(.*\n)*.* activity lister \([0-9a-f]{8}\): idle\n/.test(
        watched,
      ),
    );
    watch.kill("SIGINT");
    await watchEnded;
    const idle = (await home.ok(["list"])).split("\n").find((line) => line.includes(" lister "));
    assert.deepEqual(idle?.split(/ {2,}/).slice(1, 5), ["lister", "running", "idle", "bash"]);
    const details = await home.ok(["show", "lister"]);
    assert.match(details, /^Activity: +idle since \d{4}-\d\d-\d\dT/m);
    assert.match(details, /^Foreground: +bash$/m);
    await home.ok(["stop", "--timeout", "1s", "lister"]);
    const stopped = await show("lister");
    assert.equal(stopped.activity, null, "an ended session has no activity");
    assert.equal(stopped.foreground_command, null);
  });

  it("wait --for idle returns once the command ends, not before; on timeout it exits 1 saying what it is doing", async () => {
    await shell("waiter");
    await home.ok(["send", "waiter", "--enter", "sleep 4"]);
    await waitFor(
      "waiter to be working",
      async () => (await show("waiter")).activity === "working",
    );

    const early = await home.run(["wait", "waiter", "--for", "idle", "--timeout", "300ms"]);
    assert.equal(early.code, 1, `${early.stdout}${early.stderr}`);
    assert.equal(early.stdout, "");
    assert.match(
      early.stderr,
      /^error: timed out after 300ms waiting for idle: waiter \([0-9a-f]{8}\) is working: sleep 4\n$/,
    );
    assert.equal((await show("waiter")).activity, "working", "the timeout came while it worked");

    const waited = await home.run(["wait", "waiter", "--for", "idle", "--timeout", "20s"]);
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stdout, /^waiter \([0-9a-f]{8}\): idle\n$/);
    const after = await show("waiter");
    assert.equal(after.activity, "idle");
    assert.equal(after.foreground_command, "bash", "the sleep has ended");

    // Already idle: at once.
    assert.match(await home.ok(["wait", "waiter", "--for", "idle"]), /: idle\n$/);
  });

  it("wait --for exited returns when the program ends; a session that ends first fails a wait for idle; --any returns with the first", async () => {
    await shell("ender");
    await shell("other");
    await home.ok(["send", "ender", "--enter", "sleep 1; exit 3"]);
    // Working now; it will never be waiting: it ends first, and the wait says so.
    await waitFor("ender to be working", async () => (await show("ender")).activity === "working");
    const never = await home.run(["wait", "ender", "--for", "waiting", "--timeout", "20s"]);
    assert.equal(never.code, 1, never.stderr);
    assert.match(
      never.stderr,
      /^error: ender \([0-9a-f]{8}\) ended \(exit code 3\) before it was waiting\n$/,
    );
    assert.match(
      await home.ok(["wait", "ender", "--for", "exited"]),
      /^ender \([0-9a-f]{8}\): exited \(code 3\)\n$/,
    );

    // Of two, one gets there: --any returns, a wait for both times out naming the other.
    await home.ok(["send", "other", "--enter", "sleep 30"]);
    await waitFor("other to be working", async () => (await show("other")).activity === "working");
    const any = await home.run(["wait", "ender", "other", "--any", "--for", "exited"]);
    assert.equal(any.code, 0, any.stderr);
    assert.match(any.stdout, /^ender \(/);
    const all = await home.run(["wait", "ender", "other", "--for", "exited", "--timeout", "500ms"]);
    assert.equal(all.code, 1);
    assert.match(all.stdout, /^ender \([0-9a-f]{8}\): exited \(code 3\)\n$/);
    assert.match(
      all.stderr,
      /timed out after 500ms waiting for exited: other \([0-9a-f]{8}\) is working: sleep 30\n$/,
    );
    await home.ok(["stop", "--timeout", "1s", "other"]);
  });

  it("wait refuses what it cannot do: an unknown --for, no session, a session that does not exist", async () => {
    const goal = await home.run(["wait", "x", "--for", "sleeping"]);
    assert.equal(goal.code, 2);
    assert.match(goal.stderr, /--for takes waiting, idle, working, exited, got 'sleeping'/);
    const none = await home.run(["wait", "--for", "idle"]);
    assert.equal(none.code, 2);
    const missing = await home.run(["wait", "no-such-session", "--for", "idle"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: .*'no-such-session'.*\n$/);
  });

  it("attach --bell rings when another session starts waiting for input; not for its own session, not without --bell", async () => {
    const shellSession = await shell("bellshell");
    const asker = await claude("asker");
    const ringing = cliInTerminal(["attach", "--bell", "bellshell"], home.path);
    const quiet = cliInTerminal(["attach", "--read-only", "bellshell"], home.path);
    const own = cliInTerminal(["attach", "--bell", "asker"], home.path);
    try {
      await home.ok(["send", "bellshell", "--enter", "echo attached-$((6*7))"]);
      for (const [name, terminal] of [
        ["ringing", ringing],
        ["quiet", quiet],
      ] as const)
        await waitFor(`the ${name} attach to show the shell`, () =>
          terminal.output().includes("attached-42"),
        );
      await waitFor("the asker's attach to show its screen", () => own.output().length > 0);
      const marks = [ringing, quiet, own].map((terminal) => terminal.output().length);

      const hook = runHook(home.path, asker.id, permissionNotification(asker.id, work.path));
      assert.equal(hook.status, 0, hook.stderr);
      await waitFor(
        "asker to be waiting",
        async () => (await show("asker")).activity === "waiting_for_input",
      );
      await waitFor("the bell in the attach of another session", () =>
        ringing.output().slice(marks[0]).includes(BEL),
      );

      // Later output reaches the other two attaches; no bell came before it.
      await home.ok(["send", "bellshell", "--enter", "echo after-$((6*7))"]);
      await home.ok(["send", "asker", "after-bell"]);
      await waitFor("the quiet attach to show later output", () =>
        quiet.output().slice(marks[1]).includes("after-42"),
      );
      await waitFor("the asker's attach to show later output", () =>
        own.output().slice(marks[2]).includes("after-bell"),
      );
      assert.ok(!quiet.output().slice(marks[1]).includes(BEL), "no bell without --bell");
      assert.ok(!own.output().slice(marks[2]).includes(BEL), "no bell for the session attached");
      assert.equal(shellSession.name, "bellshell");
    } finally {
      // Detached with ctrl-\\ as a user would; one that does not leave fails the wait.
      for (const terminal of [ringing, quiet, own]) terminal.write("\x1c");
      let left = 0;
      for (const terminal of [ringing, quiet, own]) void terminal.exited.then(() => left++);
      await waitFor("the attaches to detach", () => left === 3, 10_000).finally(() => {
        for (const terminal of [ringing, quiet, own]) terminal.kill();
      });
    }
  });
});
