/**
 * Sessions through the built CLI, as a user types the commands: directories resolved like a
 * shell would, sessions named by name or id prefix, the seed's output layout, stable JSON,
 * input and screens, logs, and errors that are one line with the right exit code.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertNoStackTrace, type CliHome, cliHome } from "../helpers/cli-home.js";
import { cliBin } from "../helpers/paths.js";
import { tempDir } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

/** `list --json` / `show --json`: the fields SPEC 4 names for Session, and a few more. */
interface SessionJson {
  id: string;
  name: string;
  working_dir: string;
  command: string[];
  state: string;
  pid: number;
  exit_code: number | null;
  exit_signal: string | null;
  created_at: string;
  ended_at: string | null;
  log_path: string;
  cols: number;
  rows: number;
  last_seq: number;
  activity: string | null;
  activity_since: string | null;
  conversation_id: string | null;
  previous_conversation_ids: string[];
}

const SPEC_FIELDS = [
  "id",
  "name",
  "working_dir",
  "command",
  "state",
  "pid",
  "exit_code",
  "exit_signal",
  "created_at",
  "ended_at",
  "log_path",
  "cols",
  "rows",
  "activity",
  "activity_detail",
  "activity_since",
  "foreground_command",
  "conversation_id",
  "previous_conversation_ids",
];

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A shell without rc files, so its prompt and output are predictable. */
const BASH = ["--", "bash", "--norc", "--noprofile"];

describe("e2e: sessions through the CLI", () => {
  let home: CliHome;
  let work: ReturnType<typeof tempDir>;

  before(async () => {
    home = cliHome();
    work = tempDir();
    const started = await home.ok(["daemon"]);
    assert.match(started, /^✅ Daemon started \(pid \d+\)$/m);
  });

  after(async () => {
    await home.cleanup();
    work.remove();
  });

  it("start . from another directory records that directory's absolute path", async () => {
    const dir = join(work.path, "project");
    mkdirSync(dir);
    const session = JSON.parse(
      await home.ok(["start", "--json", ".", "--", "sleep", "100"], { cwd: dir }),
    ) as SessionJson;
    assert.equal(session.working_dir, realpathSync(dir));

    // A relative path resolves against the CLI's directory too.
    const nested = JSON.parse(
      await home.ok(["start", "--json", "project", "--", "sleep", "100"], { cwd: work.path }),
    ) as SessionJson;
    assert.equal(nested.working_dir, realpathSync(dir));

    await home.ok(["stop", "--timeout", "1s", session.id, nested.id]);
  });

  it("start ~/x expands the tilde against $HOME", async () => {
    const fakeHome = join(work.path, "user");
    mkdirSync(join(fakeHome, "x"), { recursive: true });
    const session = JSON.parse(
      await home.ok(["start", "--json", "~/x", "--", "sleep", "100"], {
        env: { HOME: fakeHome },
      }),
    ) as SessionJson;
    assert.equal(session.working_dir, join(fakeHome, "x"));
    const bare = JSON.parse(
      await home.ok(["start", "--json", "~", "--", "sleep", "100"], { env: { HOME: fakeHome } }),
    ) as SessionJson;
    assert.equal(bare.working_dir, fakeHome);
    await home.ok(["stop", "--timeout", "1s", session.id, bare.id]);
  });

  it("a named session works by name for show and stop; a unique id prefix works for show", async () => {
    const started = await home.ok(["start", "--name", "api", work.path, ...BASH]);
    // A named session is called by its name and short id; its log's name holds the full id.
    const short = /^✅ Session started: api \(([0-9a-f]{8})\)$/m.exec(started)?.[1];
    assert.ok(short, `unexpected start output: ${started}`);
    const id = new RegExp(`/logs/(${short}[0-9a-f-]{28})\\.jsonl$`, "m").exec(started)?.[1];
    assert.ok(id, `unexpected start output: ${started}`);
    assert.match(started, new RegExp(`^📂 Working directory: "${work.path}"$`, "m"));
    assert.match(started, new RegExp(`^📝 Logs: ${home.path}/logs/${id}\\.jsonl$`, "m"));

    const shown = await home.ok(["show", "api"]);
    assert.match(shown, new RegExp(`^ID:\\s+${id}$`, "m"));
    assert.match(shown, /^Name:\s+api$/m);
    assert.match(shown, /^Status:\s+running \(pid \d+\)$/m);

    const byPrefix = await home.json<SessionJson>(["show", id.slice(0, 8)]);
    assert.equal(byPrefix.id, id);
    assert.equal(byPrefix.name, "api");

    const stopped = await home.ok(["stop", "api"]);
    assert.match(stopped, new RegExp(`^✅ Session stopped: api \\(${short}\\) \\(`, "m"));
    assert.notEqual((await home.json<SessionJson>(["show", "api"])).state, "running");
    await home.ok(["rm", "api"]);
  });

  it("start of a program that exits at once says so, and stop of it says it had already ended", async () => {
    const started = await home.ok(["start", work.path, "--", "bash", "-c", "exit 3"]);
    const id = /^Session started, and exited at once: ([0-9a-f-]{36}) \(exit code 3\)$/m.exec(
      started,
    )?.[1];
    assert.ok(id, `unexpected start output: ${started}`);
    assert.doesNotMatch(started, /✅/);
    const stopped = await home.ok(["stop", id]);
    assert.equal(stopped, `Session already ended: ${id} (exit code 3)\n`);
    await home.ok(["rm", id]);
  });

  it("stop of several sessions stops them at once: each gets its SIGTERM while the others still run", async () => {
    // Each ignores the hang-up, notes its SIGTERM in a file and ignores it: only SIGKILL, after
    // the grace, ends it.
    const program = (name: string) => [
      "--",
      "bash",
      "-c",
      `trap '' HUP; trap 'touch ${work.path}/${name}.term' TERM; while :; do sleep 0.2 & wait $!; done`,
    ];
    const a = await home.json<SessionJson>(["start", work.path, ...program("a")]);
    const b = await home.json<SessionJson>(["start", work.path, ...program("b")]);
    const stopping = home.run(["stop", "--timeout", "60s", a.id, b.id], { timeoutMs: 90_000 });
    await waitFor("both sessions to get SIGTERM", () =>
      ["a", "b"].every((name) => existsSync(join(work.path, `${name}.term`))),
    );
    for (const session of [a, b])
      assert.equal((await home.json<SessionJson>(["show", session.id])).state, "running");
    // Ended here rather than after the grace.
    for (const session of [a, b]) process.kill(session.pid, "SIGKILL");
    const stopped = await stopping;
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(
      stopped.stdout,
      new RegExp(`^✅ Session stopped: ${a.id} .*\n✅ Session stopped: ${b.id} `),
    );
    await home.ok(["rm", a.id, b.id]);
  });

  it("list --json holds every Session field of SPEC 4; list prints the seed's layout", async () => {
    const a = await home.json<SessionJson>([
      "start",
      "--name",
      "one",
      work.path,
      "--",
      "sleep",
      "100",
    ]);
    const b = await home.json<SessionJson>(["start", work.path, "--", "sleep", "100"]);

    const sessions = await home.json<SessionJson[]>(["list"]);
    assert.ok(Array.isArray(sessions));
    assert.deepEqual(
      sessions.map((session) => session.id),
      [a.id, b.id],
      "list shows the running sessions, oldest first",
    );
    for (const session of sessions) {
      for (const field of SPEC_FIELDS) assert.ok(field in session, `list --json lacks ${field}`);
      assert.match(session.id, UUID);
      assert.equal(session.working_dir, work.path);
      assert.deepEqual(session.command, ["sleep", "100"]);
      assert.equal(session.state, "running");
      assert.ok(session.pid > 0);
      assert.equal(session.exit_code, null);
      assert.equal(session.exit_signal, null);
      assert.match(session.created_at, RFC3339);
      assert.equal(session.ended_at, null);
      assert.equal(session.log_path, join(home.path, "logs", `${session.id}.jsonl`));
      // Not a terminal: the default size.
      assert.equal(session.cols, 120);
      assert.equal(session.rows, 40);
      assert.match(String(session.activity), /^(working|idle)$/);
      assert.match(String(session.activity_since), RFC3339);
      assert.equal(session.conversation_id, null, "only Claude Code has a conversation");
      assert.deepEqual(session.previous_conversation_ids, []);
    }

    // The table: a header, then one line per session, oldest first.
    const table = (await home.ok(["list"])).split("\n");
    assert.match(table[0] ?? "", /^ID +NAME +STATE +ACTIVITY +FOREGROUND +AGE +DIRECTORY$/);
    assert.equal(table.length, 4, `two rows and a final newline:\n${table.join("\n")}`);
    for (const [index, session] of [a, b].entries()) {
      const row = table[index + 1] ?? "";
      const fields = row.split(/ {2,}/);
      assert.deepEqual(
        fields,
        [
          session.id.slice(0, 8),
          session.name || "-",
          "running",
          fields[3],
          "sleep",
          fields[5],
          work.path,
        ],
        row,
      );
      assert.match(fields[3] ?? "", /^(working|idle)$/, `its activity: ${row}`);
      assert.match(fields[5] ?? "", /^\d+s$/, `age in seconds: ${row}`);
      assert.ok([...row].length <= 80, `wider than 80 columns: ${row}`);
    }

    const text = await home.ok(["list", "--long"]);
    const lines = text.split("\n");
    assert.equal(lines[0], "📋 Active sessions (2):");
    assert.equal(lines[1], "");
    for (const session of [a, b]) {
      const title = session.name ? `${session.id} (${session.name})` : session.id;
      const at = lines.indexOf(`  🔹 ${title}`);
      assert.ok(at > 0, `no block for ${title} in:\n${text}`);
      const block = lines.slice(at + 1, at + 7).join("\n");
      assert.match(block, /^ {5}Activity: (working|idle) \(sleep\)$/m);
      assert.match(block, new RegExp(`^     Directory: ${work.path}$`, "m"));
      assert.match(block, /^ {5}Created: \d{4}-\d\d-\d\dT[\d:.]+Z$/m);
      assert.match(block, new RegExp(`^     Status: running \\(pid ${session.pid}\\)$`, "m"));
      assert.match(block, new RegExp(`^     Logs: ${session.log_path}$`, "m"));
    }

    await home.ok(["stop", "--timeout", "1s", a.id, b.id]);
    await home.ok(["rm", a.id, b.id]);
  });

  it("errors are one line with exit 1 from the daemon and exit 2 with usage for misuse", async () => {
    const unknown = await home.run(["stop", "no-such-session"]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout, "");
    assert.match(unknown.stderr, /^error: .*'no-such-session'.*\n$/);
    assert.equal(unknown.stderr.split("\n").length, 2, "more than one line");

    const missing = await home.run(["start", "/does/not/exist"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "error: working_dir /does/not/exist does not exist\n");

    const flag = await home.run(["list", "--bogus"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unsupported option name \("--bogus"\)/);
    assert.match(flag.stderr, /\$ claude-sessions list /, "no usage line");

    const stray = await home.run(["start", ".", "extra"]);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /Extraneous positional argument \("extra"\)/);
    assert.match(stray.stderr, /\$ claude-sessions start /, "no usage line");

    const noId = await home.run(["show"]);
    assert.equal(noId.code, 2);

    for (const result of [unknown, missing, flag, stray, noId]) assertNoStackTrace(result.stderr);
  });

  it("send --enter types into the session; capture shows the screen; logs print the output", async () => {
    const session = await home.json<SessionJson>(["start", work.path, ...BASH]);
    await home.ok(["send", session.id, "echo hi", "--enter"]);
    // The typed command echoes "echo hi"; the output is a line that is just "hi".
    const screen = await waitFor("hi on the screen", async () => {
      const text = await home.ok(["capture", session.id]);
      return text.split("\n").some((line) => line.trimEnd() === "hi") ? text : undefined;
    });
    assert.match(screen, /echo hi/);

    const logs = await home.ok(["logs", session.id]);
    assert.match(logs, /[\r\n]hi\r\n/);

    const shown = await home.json<SessionJson>(["show", session.id]);
    const lines = (await home.ok(["logs", "--json", "-n", "2", session.id])).split("\n");
    assert.equal(lines.pop(), "", "output ends with a newline");
    assert.equal(lines.length, 2);
    const records = lines.map(
      (line) => JSON.parse(line) as { seq: number; time: string; kind: string; data: string },
    );
    for (const record of records) {
      assert.deepEqual(Object.keys(record).sort(), ["data", "kind", "seq", "time"]);
      assert.match(record.time, RFC3339);
      assert.ok(record.kind === "output" || record.kind === "event", record.kind);
      assert.equal(typeof record.data, "string");
    }
    assert.equal(records[1]?.seq, shown.last_seq, "the last two records");
    assert.equal(records[0]?.seq, shown.last_seq - 1);

    await home.ok(["stop", "--timeout", "1s", session.id]);
  });

  it("send types text that starts with a dash when it follows --", async () => {
    const session = await home.json<SessionJson>(["start", work.path, "--", "cat"]);
    await home.ok(["send", session.id, "--enter", "--", "--not-an-option"]);
    await waitFor("the text on the screen", async () =>
      (await home.ok(["capture", session.id])).includes("--not-an-option"),
    );
    const neither = await home.run(["send", session.id]);
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /^error: .*after --/);
    // --enter alone presses Enter: cat prints the line typed before it.
    await home.ok(["send", session.id, "typed-first"]);
    await home.ok(["send", session.id, "--enter"]);
    await waitFor("cat to print the line back", async () =>
      /typed-first\s*\n\s*typed-first/.test(await home.ok(["capture", session.id])),
    );
    await home.ok(["stop", "--timeout", "1s", session.id]);
  });

  it("logs -n counts lines, as tail does; --plain prints the text the sequences drew", async () => {
    // Colour, a progress line redrawn after CR, and a line erased and redrawn from below, as
    // Claude Code redraws; a line of 200 numbers that wraps; all of it one record or a few.
    const script = [
      String.raw`printf '\033[31mred\033[0m line\nprogress 10%%\rprogress 100%%\n\033[1A\033[2Kredrawn\n'`,
      String.raw`seq 1 200 | tr '\n' ' '; printf '\n'`,
      String.raw`printf 'one\ntwo\nthree\n'`,
    ].join("; ");
    const session = await home.json<SessionJson>(["start", work.path, "--", "sh", "-c", script]);
    await home.run(["logs", "-f", session.id], { timeoutMs: 20_000 });

    assert.equal(await home.ok(["logs", "-n", "2", session.id]), "two\r\nthree\r\n");
    assert.equal(await home.ok(["logs", "-n", "0", session.id]), "");
    const plain = await home.ok(["logs", "--plain", session.id]);
    const lines = plain.split("\n");
    assert.deepEqual(lines.slice(0, 2), ["red line", "redrawn"]);
    assert.deepEqual(lines.slice(-4), ["one", "two", "three", ""]);
    assert.doesNotMatch(plain, /[\x1b\r]/, "no escape sequence, no CR");
    // 200 numbers wrap at 120 columns: one line to read, as typed.
    assert.ok(lines.includes(Array.from({ length: 200 }, (_, i) => i + 1).join(" ")), plain);
    assert.equal(await home.ok(["logs", "--plain", "-n", "1", session.id]), "three\n");
    const follow = await home.run(["logs", "--plain", "-f", session.id]);
    assert.equal(follow.code, 2);
    assert.match(follow.stderr, /--plain cannot follow/);
  });

  it("logs -f ends by itself with exit 0 when the session exits, with all its output", async () => {
    const script = "for i in 1 2 3 4 5; do echo line-$i; sleep 0.2; done";
    const session = await home.json<SessionJson>(["start", work.path, "--", "sh", "-c", script]);
    const follow = await home.run(["logs", "-f", session.id], { timeoutMs: 20_000 });
    assert.equal(follow.code, 0, follow.stderr);
    for (let i = 1; i <= 5; i++) assert.match(follow.stdout, new RegExp(`line-${i}\\r?\\n`));
    assert.equal((await home.json<SessionJson>(["show", session.id])).state, "exited");
  });

  it("a reader that goes away (| head) ends logs -f at once, quietly, as SIGPIPE would", async () => {
    const session = await home.json<SessionJson>([
      "start",
      work.path,
      "--",
      "sh",
      "-c",
      "seq 1 100000; sleep 100",
    ]);
    const child = spawn(process.execPath, [cliBin, "logs", "-f", session.id], {
      env: { ...process.env, CLAUDE_SESSIONS_HOME: home.path },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Like head: read a little, then close the pipe while the CLI still has output to write.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(code, 128 + constants.signals.SIGPIPE);
    assert.equal(stderr, "");
    await home.ok(["stop", "--timeout", "1s", session.id]);
  });

  it("resize changes the session's size", async () => {
    const session = await home.json<SessionJson>(["start", work.path, ...BASH]);
    const resized = await home.ok(["resize", session.id, "100", "30"]);
    assert.match(resized, /resized to 100x30/);
    const shown = await home.json<SessionJson>(["show", session.id]);
    assert.equal(shown.cols, 100);
    assert.equal(shown.rows, 30);

    const bad = await home.run(["resize", session.id, "wide", "30"]);
    assert.equal(bad.code, 2);
    assertNoStackTrace(bad.stderr);
    await home.ok(["stop", "--timeout", "1s", session.id]);
  });

  it("rm refuses a running session, removes a stopped one; resume runs a stopped one again", async () => {
    const session = await home.json<SessionJson>(["start", work.path, ...BASH]);

    const refused = await home.run(["rm", session.id]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: .*running; stop it first/);
    assert.equal(refused.stderr.split("\n").length, 2, "more than one line");

    await home.ok(["stop", "--timeout", "1s", session.id]);
    const resumed = await home.ok(["resume", session.id]);
    assert.match(resumed, new RegExp(`^✅ Session resumed: ${session.id} \\(pid \\d+\\)$`, "m"));
    const running = await home.json<SessionJson>(["show", session.id]);
    assert.equal(running.state, "running");
    assert.notEqual(running.pid, session.pid);

    await home.ok(["stop", "--timeout", "1s", session.id]);
    const removed = await home.ok(["rm", session.id]);
    assert.match(removed, new RegExp(`Session removed: ${session.id}`));
    const all = await home.json<SessionJson[]>(["list", "--all"]);
    assert.ok(!all.some((entry) => entry.id === session.id), "rm left the session in the list");
  });
});
