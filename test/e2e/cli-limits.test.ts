/**
 * Limits through the CLI, on real programs: a process tree past `--max-memory` is warned about,
 * stopped or restarted by its host; `--nice` runs it at that niceness; `--max-log-size` keeps
 * the log within about the limit while seq goes on, and readers of dropped records are told.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertNoStackTrace, type CliHome, cliHome } from "../helpers/cli-home.js";
import { bytesOnDisk } from "../helpers/log-reader.js";
import { cliBin } from "../helpers/paths.js";
import { tempDir } from "../helpers/temp-home.js";
import { isAlive, waitFor } from "../helpers/wait.js";

interface SessionJson {
  id: string;
  pid: number;
  state: string;
  started_at: string | null;
  ended_at: string | null;
  failure_reason: string | null;
  last_seq: number;
  limits: { max_memory_bytes: number; on_limit: string; nice: number; max_log_bytes: number };
  usage: { memory_bytes: number; cpu_percent: number; processes: number } | null;
  log_dropped_entries: number;
  limit_event: string | null;
}

interface RecordJson {
  seq: number;
  kind: string;
  data: string;
}

const PYTHON = "/usr/bin/python3";
/** Holds 300 MiB, resident (a bytearray is zeroed, so every page is touched), then waits. */
const HOG = ["--", PYTHON, "-c", "x = bytearray(300 << 20); import time; time.sleep(60)"];
const MiB = 1024 * 1024;

describe("e2e: limits, niceness and log retention", () => {
  let home: CliHome;
  let work: ReturnType<typeof tempDir>;

  before(async () => {
    home = cliHome();
    work = tempDir("csl-work-");
    await home.ok(["daemon"]);
  });

  after(async () => {
    await home.cleanup();
    work.remove();
  });

  const show = (id: string) => home.json<SessionJson>(["show", id]);
  /** The session once its program has ended. */
  const ended = (id: string) =>
    waitFor(
      "the session to end",
      async () => {
        const now = await show(id);
        return now.state !== "running" && now;
      },
      30_000,
    );
  const events = async (id: string) =>
    (await home.ok(["logs", "--json", id]))
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as RecordJson)
      .filter((record) => record.kind === "event")
      .map((record) => record.data);

  it("--on-limit stop: a tree past --max-memory is STOPPED within 5 s, its reason naming the limit", async () => {
    const session = await home.json<SessionJson>([
      "start",
      "--max-memory",
      "100M",
      "--on-limit",
      "stop",
      work.path,
      ...HOG,
    ]);
    assert.deepEqual(session.limits, {
      max_memory_bytes: 100 * MiB,
      on_limit: "stop",
      nice: 0,
      max_log_bytes: 100 * MiB,
    });
    const stopped = await ended(session.id);
    assert.equal(stopped.state, "stopped");
    assert.match(
      stopped.failure_reason ?? "",
      /^memory limit reached: \d+ MiB resident in 1 process\(es\), past --max-memory 100 MiB; stopping it$/,
    );
    assert.equal(stopped.limit_event, stopped.failure_reason);
    const took =
      Date.parse(stopped.ended_at ?? "") - Date.parse(stopped.started_at ?? "") || Infinity;
    assert.ok(took < 5000, `stopped ${took} ms after it started`);
    const logged = await events(session.id);
    assert.ok(logged.includes(stopped.failure_reason ?? ""), logged.join("\n"));
    assert.ok(
      logged.some((event) => event.startsWith("stopped past its memory limit (")),
      logged.join("\n"),
    );
    const text = await home.ok(["show", session.id]);
    assert.match(text, /^Status: +stopped \(SIG\w+\): memory limit reached: /m);
    assert.match(text, /^Limits: +memory 100 MiB \(stop\), log 100 MiB$/m);
    await home.ok(["rm", session.id]);
  });

  it("--on-limit restart: the tree past its limit is stopped and started again, same session", async () => {
    const session = await home.json<SessionJson>([
      "start",
      "--max-memory",
      "100M",
      "--on-limit",
      "restart",
      work.path,
      ...HOG,
    ]);
    const again = await waitFor(
      "the session to run again under a new pid",
      async () => {
        const now = await show(session.id);
        return now.state === "running" && now.pid !== session.pid && now;
      },
      30_000,
    );
    assert.match(again.limit_event ?? "", /past --max-memory 100 MiB; restarting it$/);
    const logged = await events(session.id);
    assert.ok(
      logged.some((event) =>
        event.startsWith("stopped past its memory limit, to be started again"),
      ),
      logged.join("\n"),
    );
    assert.ok(
      logged.some((event) => event.startsWith("resumed: ")),
      logged.join("\n"),
    );
    await home.ok(["stop", "--timeout", "1s", session.id]);
    await home.ok(["rm", session.id]);
  });

  it("--on-limit warn: the event is logged and watched, the session keeps running, show has its usage", async () => {
    // It holds its memory once told to: by then the watch is surely connected.
    const session = await home.json<SessionJson>([
      "start",
      "--max-memory",
      "100M",
      work.path,
      "--",
      PYTHON,
      "-c",
      "input(); x = bytearray(300 << 20); import time; time.sleep(60)",
    ]);
    const watch = spawn(process.execPath, [cliBin, "watch", "--existing", "--json"], {
      env: { ...process.env, CLAUDE_SESSIONS_HOME: home.path },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let watched = "";
    watch.stdout.on("data", (chunk: Buffer) => {
      watched += chunk.toString();
    });
    const watchedLine = (event: string) =>
      watched
        .split("\n")
        .some((line) => line.includes(`"event":"${event}"`) && line.includes(session.id));
    try {
      await waitFor("watch to list the session", () => watchedLine("existing"));
      await home.ok(["send", session.id, "--enter"]);
      const warned = await waitFor(
        "the limit event",
        async () => {
          const now = await show(session.id);
          return now.limit_event !== null && now;
        },
        30_000,
      );
      assert.match(warned.limit_event ?? "", /past --max-memory 100 MiB; warning only$/);
      assert.equal(warned.state, "running");
      assert.equal(warned.failure_reason, null);
      assert.ok((await events(session.id)).includes(warned.limit_event ?? ""));
      await waitFor("watch to print the limit event", () => watchedLine("limit"));
      // Still running, and measured: the whole 300 MiB resident in its one process.
      const measured = await waitFor("a usage sample", async () => {
        const now = await show(session.id);
        return now.usage !== null && now.usage.memory_bytes > 300 * MiB && now;
      });
      assert.equal(measured.state, "running");
      assert.equal(measured.pid, session.pid);
      assert.equal(measured.usage?.processes, 1);
      assert.ok((measured.usage?.cpu_percent ?? -1) >= 0);
      assert.match(
        await home.ok(["show", session.id]),
        /^Usage: +\d+ MiB in 1 process, CPU \d+\.\d%$/m,
      );
    } finally {
      watch.kill();
    }
    await home.ok(["stop", "--timeout", "1s", session.id]);
    await home.ok(["rm", session.id]);
  });

  it("the host enforces the limit with no daemon; the next daemon restarts what it stopped", async () => {
    // It takes its memory once a file appears: after the daemon has gone.
    const go = join(work.path, "go");
    const session = await home.json<SessionJson & { host_pid: number }>([
      "start",
      "--max-memory",
      "100M",
      "--on-limit",
      "restart",
      work.path,
      "--",
      PYTHON,
      "-c",
      `import os, time
while not os.path.exists(${JSON.stringify(go)}): time.sleep(0.05)
os.remove(${JSON.stringify(go)})
x = bytearray(300 << 20)
time.sleep(60)`,
    ]);
    await home.ok(["stop-daemon"]);
    writeFileSync(go, "");
    // The host stops the program, records its exit and ends, with no daemon to tell.
    await waitFor("the host to end", () => !isAlive(session.host_pid), 30_000, 50);
    const again = await waitFor(
      "the session to run again",
      async () => {
        const now = await show(session.id);
        return now.state === "running" && now.pid !== session.pid && now;
      },
      30_000,
    );
    assert.match(again.limit_event ?? "", /; restarting it$/);
    const logged = await events(session.id);
    assert.ok(logged.includes(again.limit_event ?? ""), logged.join("\n"));
    await home.ok(["stop", "--timeout", "1s", session.id]);
    await home.ok(["rm", session.id]);
  });

  it("the memory of the whole tree counts: children's memory adds up", async () => {
    // Two children of a shell, 80 MiB each: neither passes 100M alone, together they do.
    const child = `${PYTHON} -c 'x = bytearray(80 << 20); import time; time.sleep(60)'`;
    const session = await home.json<SessionJson>([
      "start",
      "--max-memory",
      "100M",
      "--on-limit",
      "stop",
      work.path,
      "--",
      "bash",
      "-c",
      `${child} & ${child} & wait`,
    ]);
    const stopped = await ended(session.id);
    assert.equal(stopped.state, "stopped");
    assert.match(stopped.failure_reason ?? "", / resident in 3 process\(es\), past --max-memory/);
    await home.ok(["rm", session.id]);
  });

  it("--nice runs the program at that niceness; below the daemon's own it needs privileges", async () => {
    const session = await home.json<SessionJson>([
      "start",
      "--nice",
      "7",
      work.path,
      "--",
      "sleep",
      "60",
    ]);
    assert.equal(session.limits.nice, 7);
    assert.equal(niceOf(session.pid), 7);
    await home.ok(["stop", "--timeout", "1s", session.id]);
    await home.ok(["rm", session.id]);

    // A negative number reads as an option unless it is joined to its flag.
    const negative = await home.run(["start", "--nice=-5", work.path, "--", "sleep", "60"]);
    if (process.getuid?.() === 0) {
      assert.equal(negative.code, 0, negative.stderr);
      const id = /Session started: ([0-9a-f-]{36})/.exec(negative.stdout)?.[1] ?? "";
      assert.equal(niceOf((await show(id)).pid), -5);
      await home.ok(["stop", "--timeout", "1s", id]);
      await home.ok(["rm", id]);
    } else {
      assert.equal(negative.code, 1);
      assert.match(
        negative.stderr,
        /^error: could not start sleep: cannot set nice -5: permission denied \(a niceness below the daemon's own needs root or CAP_SYS_NICE\) \(session [0-9a-f-]{36} is FAILED\)\n$/,
      );
    }
  });

  it("bad limits are misuse, said in the flag's own words, and start nothing", async () => {
    const before = (await home.json<SessionJson[]>(["list", "--all"])).length;
    const cases: Array<[string[], RegExp]> = [
      [
        ["--max-memory", "lots"],
        /^error: --max-memory takes a size such as 100M, .*, got 'lots'\n$/,
      ],
      [
        ["--max-memory", "10K"],
        /^error: --max-memory must be 0 \(no limit\) or at least 1\.00 MiB, got '10K'$/m,
      ],
      [
        ["--on-limit", "explode"],
        /^error: --on-limit must be one of warn, stop, restart, got 'explode'$/m,
      ],
      [["--nice", "20"], /^error: --nice must be an integer from -20 to 19, got '20'$/m],
      [["--nice", "1.5"], /^error: --nice must be an integer from -20 to 19, got '1.5'$/m],
      [
        ["--max-log-size", "1K"],
        /^error: --max-log-size must be 0 \(no limit\) or at least 64\.0 KiB, got '1K'$/m,
      ],
    ];
    for (const [flags, message] of cases) {
      const result = await home.run(["start", ...flags, work.path, "--", "true"]);
      assert.equal(result.code, 2, `${flags.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assertNoStackTrace(result.stderr);
    }
    assert.equal((await home.json<SessionJson[]>(["list", "--all"])).length, before);
  });

  it("--max-log-size: 50 MB written keeps the log near its limit, readers are told what was dropped, seq goes on", async () => {
    const limit = 5 * MiB;
    // 50 MiB of numbered lines, then one line per line read, until told to end.
    // 50 MiB of numbered lines (seq is a C program: the flood costs the test little), then one
    // line per line read, until told to end.
    const count = (50 * 1024 * 1024) / 100;
    const writer = `seq -f '%099g' 1 ${count}; echo flood done; while read line; do echo after $line; done`;
    const session = await home.json<SessionJson>([
      "start",
      "--max-log-size",
      "5M",
      work.path,
      "--",
      "bash",
      "-c",
      `stty -echo; ${writer}`,
    ]);
    assert.equal(session.limits.max_log_bytes, limit);
    // A follower from the start: every record it prints comes after the one before it. Its
    // records are checked as they come, not kept.
    const follower = spawn(process.execPath, [cliBin, "logs", "-f", "--json", session.id], {
      env: { ...process.env, CLAUDE_SESSIONS_HOME: home.path },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const followed = { lastSeq: 0, records: 0, disorder: "", tail: "", partial: "", done: false };
    let followerErrors = "";
    follower.stdout.on("data", (chunk: Buffer) => {
      const text = followed.partial + chunk.toString();
      const complete = text.lastIndexOf("\n") + 1;
      followed.partial = text.slice(complete);
      for (const line of text.slice(0, complete).split("\n")) {
        if (line === "") continue;
        const record = JSON.parse(line) as RecordJson;
        if (record.seq <= followed.lastSeq && followed.disorder === "")
          followed.disorder = `seq ${record.seq} after ${followed.lastSeq}`;
        followed.lastSeq = record.seq;
        followed.records += 1;
        // The mark may be cut across two records.
        followed.tail = (followed.tail + record.data).slice(-64);
        if (followed.tail.includes("flood done")) followed.done = true;
      }
    });
    follower.stderr.on("data", (chunk: Buffer) => {
      followerErrors += chunk.toString();
    });
    try {
      await waitFor("the flood to end", () => followed.done, 120_000, 100);
      // The host writes the log (and drops segments) a little behind what it sends: from seq 1,
      // once it has caught up, reading starts at the oldest record kept and says how many went
      // before it.
      const { flooded, fromStart, first } = await waitFor("the log to be written", async () => {
        const flooded = await show(session.id);
        const fromStart = await home.run(["logs", "--json", "--from", "1", session.id]);
        assert.equal(fromStart.code, 0, fromStart.stderr);
        const first = records(fromStart.stdout)[0];
        const settled =
          first?.seq === flooded.log_dropped_entries + 1 &&
          (await show(session.id)).log_dropped_entries === flooded.log_dropped_entries;
        return settled && { flooded, fromStart, first: first as RecordJson };
      });
      assert.ok(flooded.log_dropped_entries > 0, "nothing was dropped");
      assert.equal(
        fromStart.stderr,
        `claude-sessions: ${flooded.log_dropped_entries} earlier record(s) were dropped by log retention (--max-log-size); starting at seq ${first.seq}\n`,
      );

      // On disk: the log and its segments, within about twice the limit.
      const onDisk = bytesOnDisk(join(home.path, "logs", `${session.id}.jsonl`));
      assert.ok(onDisk < 2 * limit, `${onDisk} bytes of log on disk, the limit is ${limit}`);

      const kept = records(fromStart.stdout);
      assertInOrder(kept, "logs --from 1");
      // The text kept is whole lines of the flood, in order, ending where it ended.
      const lines = kept
        .filter((record) => record.kind === "output")
        .map((record) => record.data)
        .join("")
        .split("\r\n")
        .slice(1, -2);
      for (let index = 1; index < lines.length; index++)
        assert.equal(Number(lines[index]), Number(lines[index - 1]) + 1, `line ${index}`);

      // The follower saw nothing reordered, and no torn line (each parsed whole); it is done
      // before the daemon restarts under it.
      const closed = new Promise((resolve) => follower.once("close", resolve));
      follower.kill();
      await closed;
      assert.equal(followed.disorder, "", "logs -f printed records out of order");
      assert.ok(followed.records > 0);
      // A follower that fell behind retention is told, in the one line logs says it in.
      for (const line of followerErrors.split("\n").filter((line) => line !== ""))
        assert.match(
          line,
          /^claude-sessions: \d+ earlier record\(s\) were dropped by log retention/,
        );
      // seq goes on across a daemon restart.
      const lastSeq = (await show(session.id)).last_seq;
      await home.ok(["daemon", "restart"]);
      await home.ok(["send", session.id, "one", "--enter"]);
      const after = await waitFor("the line after the restart", async () => {
        const text = await home.ok(["logs", "--json", "--from", String(lastSeq + 1), session.id]);
        const found = records(text).find((record) => record.data.includes("after one"));
        return found;
      });
      assert.ok(after.seq > lastSeq, `seq ${after.seq} after ${lastSeq}`);
    } finally {
      follower.kill();
    }
    await home.ok(["stop", "--timeout", "1s", session.id]);
    await home.ok(["rm", session.id]);
  });
});

/** The nice value of a process: the 19th field of /proc/<pid>/stat. */
function niceOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[16]);
}

function records(text: string): RecordJson[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as RecordJson);
}

function assertInOrder(list: readonly RecordJson[], what: string): void {
  for (let index = 1; index < list.length; index++) {
    const [before, after] = [list[index - 1] as RecordJson, list[index] as RecordJson];
    assert.ok(after.seq > before.seq, `${what}: seq ${after.seq} after ${before.seq}`);
  }
}
