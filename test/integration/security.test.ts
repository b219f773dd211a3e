/**
 * Nobody else gets in: another local user (nobody) can neither connect to the socket nor read
 * the state or the logs, even with the home opened up for traversal, nor keep the daemon from
 * starting by taking its lock first; every file the daemon
 * makes is private whatever the umask; and symbolic links planted at the socket, at `logs/`,
 * at a log file, at the state's temp file and at the pid file are refused or replaced, never
 * followed, their targets untouched. What acts as a second user needs root; elsewhere it is
 * skipped, saying so.
 */

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { homePaths } from "../../daemon/common/paths.js";
import { homeLockKey, LOCK_KEY_FILE, lockName } from "../../daemon/server/instance-lock.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { runCli } from "../helpers/cli.js";
import { exitOf, fixturePerTest } from "../helpers/daemon-fixture.js";
import { cliBin } from "../helpers/paths.js";
import { isAlive, waitFor } from "../helpers/wait.js";

const fixture = fixturePerTest();

const NOBODY = 65534;
/** setpriv's arguments that run a program as user nobody, with no group of ours. */
const AS_NOBODY = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"];

/**
 * Why a test that acts as a second user cannot run here, or false when it can: only root may
 * switch to another uid (setpriv) or give a file away (chown). CI runs as root, so they run there.
 */
function needsRoot(what: string): string | false {
  return process.getuid?.() === 0 ? false : `needs root: ${what}`;
}
const AS_NOBODY_SKIP = needsRoot("runs a program as user nobody with setpriv");

/**
 * What user `nobody` gets when it tries each access, run with python3 (node under /root may not
 * be executable by nobody): "OK" or the errno name.
 */
function asNobody(checks: ReadonlyArray<[string, string]>): Record<string, string> {
  const script = `
import errno, json, os, socket, sys
results = {}
checks = json.loads(sys.argv[1])
for name, path in checks:
    try:
        if name.startswith("connect"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
            finally:
                s.close()
        elif name.startswith("list"):
            os.listdir(path)
        elif name.startswith("write"):
            with open(path, "ab") as f:
                f.write(b"x")
        else:
            with open(path, "rb") as f:
                f.read(1)
        results[name] = "OK"
    except OSError as e:
        results[name] = errno.errorcode.get(e.errno, str(e.errno))
print(json.dumps(results))
`;
  const result = spawnSync(
    "setpriv",
    [...AS_NOBODY, "/usr/bin/python3", "-c", script, JSON.stringify(checks)],
    {
      cwd: "/",
      env: { PATH: "/usr/bin:/bin" },
      encoding: "utf8",
      timeout: 15_000,
      killSignal: "SIGKILL",
    },
  );
  assert.equal(result.status, 0, `python as nobody: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, string>;
}

/** Every path under `dir`, the directory itself included. */
function walk(dir: string): string[] {
  return [
    dir,
    ...readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return lstatSync(path).isDirectory() ? walk(path) : [path];
    }),
  ];
}

function modeOf(path: string): string {
  return (lstatSync(path).mode & 0o777).toString(8).padStart(4, "0");
}

describe("another local user", { skip: AS_NOBODY_SKIP }, () => {
  it("cannot connect to the socket or read state, logs or the daemon log; every file is private even under umask 000", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    // A user whose umask lets everyone read: the daemon must not rely on it.
    const launched = spawnSync(
      "bash",
      ["-c", `umask 000; exec "${process.execPath}" "${cliBin}" daemon`],
      {
        env: { ...process.env, CLAUDE_SESSIONS_HOME: home.path, NO_COLOR: "1" },
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    assert.equal(launched.status, 0, launched.stderr);
    const pid = Number(readFileSync(paths.pid, "utf8"));
    daemons.reap(pid);
    try {
      // Sessions started and stopped, so state.json has been rewritten and has a backup.
      const started = await runCli(
        ["start", work.path, "--name", "one", "--", "sh", "-c", "echo private-output; exec cat"],
        {
          home: home.path,
        },
      );
      assert.equal(started.code, 0, started.stderr);
      const second = await runCli(["start", work.path, "--", "true"], { home: home.path });
      assert.equal(second.code, 0, second.stderr);
      const stopped = await runCli(["stop", "one"], { home: home.path });
      assert.equal(stopped.code, 0, stopped.stderr);
      await waitFor("state.json.bak", () => existsSync(`${paths.state}.bak`));

      const entries = walk(home.path);
      const logs = readdirSync(paths.logs).map((name) => join(paths.logs, name));
      assert.equal(logs.length, 2);
      for (const path of [
        paths.home,
        paths.logs,
        paths.socket,
        paths.pid,
        paths.log,
        paths.state,
        `${paths.state}.bak`,
        join(paths.home, LOCK_KEY_FILE),
        ...logs,
      ]) {
        assert.ok(entries.includes(path), `${path} exists`);
      }
      const open = entries.filter((path) => (lstatSync(path).mode & 0o077) !== 0);
      assert.deepEqual(
        open.map((path) => `${path} ${modeOf(path)}`),
        [],
        "nothing in the home is open to group or other",
      );
      for (const path of entries) {
        assert.equal(lstatSync(path).uid, process.getuid?.(), `${path} is ours`);
      }

      const checks: Array<[string, string]> = [
        ["connect socket", paths.socket],
        ["list home", paths.home],
        ["list logs", paths.logs],
        ["read state.json", paths.state],
        ["read state.json.bak", `${paths.state}.bak`],
        ["read daemon.log", paths.log],
        ["read daemon.pid", paths.pid],
        ["read lock.key", join(paths.home, LOCK_KEY_FILE)],
        ["write state.json", paths.state],
        ...logs.map((path, index): [string, string] => [`read log ${index}`, path]),
      ];
      const denied = asNobody(checks);
      for (const [name] of checks) assert.equal(denied[name], "EACCES", `${name}: ${denied[name]}`);

      // Each file refuses on its own too: with the home opened for traversal (a user's chmod
      // 711 mistake), the socket, logs/ and every file still keep nobody out.
      chmodSync(paths.home, 0o711);
      let layered: Record<string, string>;
      try {
        layered = asNobody(checks.filter(([name]) => name !== "list home"));
      } finally {
        chmodSync(paths.home, 0o700);
      }
      for (const [name, result] of Object.entries(layered))
        assert.equal(result, "EACCES", `${name} with the home at 0711`);
      console.log(
        `security: ${entries.length} paths in the home, all private under umask 000; nobody denied ${Object.keys(denied).length} + ${Object.keys(layered).length} accesses`,
      );
    } finally {
      const stop = await runCli(["stop-daemon"], { home: home.path });
      assert.equal(stop.code, 0, stop.stderr);
      await waitFor("the daemon to exit", () => !isAlive(pid), 15_000);
    }
  });
});

describe("another local user squatting the lock", { skip: AS_NOBODY_SKIP }, () => {
  it("cannot keep the daemon from starting, by a name it guessed or one it saw in use", async () => {
    const daemons = fixture();
    const { home } = daemons;
    // Names without their leading NUL, which a command line cannot carry.
    const key = homeLockKey(home.path);
    const seen = lockName(home.path, key, 0).slice(1);
    const next = lockName(home.path, key, 1).slice(1);
    // The name a lock derived from the home's path alone would have: anyone can compute it.
    const digest = createHash("sha256").update(home.path).digest("hex").slice(0, 32);
    const guessable = `claude-sessions/${process.getuid?.() ?? 0}/${digest}`;

    // Nobody watches /proc/net/unix while a daemon runs, waits for it to stop, then binds the
    // name it saw (and the guessable one) before the daemon starts again.
    const first = await daemons.start();
    const squatter = spawn(
      "setpriv",
      [
        ...AS_NOBODY,
        "/usr/bin/python3",
        "-c",
        [
          "import socket, sys, time",
          "listed = open('/proc/net/unix').read()",
          "print('seen' if '@' + sys.argv[1] in listed else 'unseen', flush=True)",
          "sys.stdin.readline()",
          "held = []",
          "for text in sys.argv[1:]:",
          "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
          // Node binds an abstract name padded with NULs to the whole of sun_path (108 bytes).
          "    name = b'\\0' + text.encode()",
          "    s.bind(name + b'\\0' * (108 - len(name)))",
          "    s.listen()",
          "    held.append(s)",
          "print('bound', flush=True)",
          "time.sleep(120)",
        ].join("\n"),
        seen,
        guessable,
      ],
      { cwd: "/", env: { PATH: "/usr/bin:/bin" }, stdio: ["pipe", "pipe", "inherit"] },
    );
    const lines = squatter.stdout.setEncoding("utf8");
    // If the squatter dies (setpriv refused, no python3), fail now rather than wait for a line
    // until the file's timeout, leaving the daemon running.
    const died = new Promise<never>((_, reject) =>
      squatter.on("exit", (code) => reject(new Error(`the squatter exited ${code} early`))),
    );
    died.catch(() => {});
    const nextLine = async () => ((await Promise.race([once(lines, "data"), died])) as [string])[0];
    try {
      const visible = await nextLine();
      assert.equal(visible.trim(), "seen", "a lock name in use is visible to every user");
      assert.equal(await first.stop(), 0);
      squatter.stdin.write("go\n");
      const bound = await nextLine();
      assert.equal(bound.trim(), "bound", "nobody holds both names");

      const daemon = await daemons.start();
      const { pid } = await daemon.client.daemon.ping({});
      assert.equal(pid, daemon.pid);
      assert.match(readFileSync("/proc/net/unix", "latin1"), new RegExp(`@${next}@`));
      // And the lock still does its job against a second daemon of the same home.
      const second = daemons.spawn();
      assert.equal(await exitOf(second), 1);
      assert.match(second.output(), /a daemon is already running for/);
    } finally {
      squatter.kill("SIGKILL");
    }
  });
});

describe("planted symbolic links", () => {
  it("at the socket path: the daemon exits 1 saying so, the link's target untouched", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    const target = join(work.path, "precious");
    writeFileSync(target, "do not touch\n");
    const before = statSync(target);
    for (const [what, pointsAt] of [
      ["a file", target],
      ["nothing", join(work.path, "absent")],
      ["a directory", work.path],
    ] as const) {
      symlinkSync(pointsAt, paths.socket);
      const daemon = daemons.spawn();
      assert.equal(await exitOf(daemon), 1, `${what}: ${daemon.output()}`);
      assert.match(
        daemon.output(),
        /daemon\.sock exists and is not a socket \(a symbolic link\); remove it and start again/,
      );
      assert.doesNotMatch(daemon.output(), /\n\s+at /, "no stack trace");
      assert.ok(lstatSync(paths.socket).isSymbolicLink(), "the link is left for the user to see");
      rmSync(paths.socket);
    }
    assert.equal(readFileSync(target, "utf8"), "do not touch\n");
    assert.equal(statSync(target).mtimeMs, before.mtimeMs);
    assert.equal(existsSync(join(work.path, "absent")), false);
    assert.deepEqual(readdirSync(work.path).sort(), ["precious"]);
  });

  it("at daemon.log: the CLI refuses to start a daemon writing through it, in one line", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    const target = join(work.path, "precious");
    writeFileSync(target, "do not touch\n");
    symlinkSync(target, paths.log);
    const cli = await runCli(["daemon"], { home: home.path });
    assert.equal(cli.code, 1, cli.stderr);
    assert.equal(
      cli.stderr,
      `error: ${paths.log} is a symbolic link; the daemon does not write through links: remove it (rm ${paths.log})\n`,
    );
    assert.equal(readFileSync(target, "utf8"), "do not touch\n");
    assert.equal(existsSync(paths.socket), false, "no daemon was started");
  });

  it("in place of logs/, or logs/ not private: the daemon exits 1 saying how to fix it, nothing written elsewhere", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    const elsewhere = join(work.path, "elsewhere");
    mkdirSync(elsewhere, { mode: 0o700 });
    const cases: Array<[string, () => void, RegExp]> = [
      [
        "a link to a directory",
        () => symlinkSync(elsewhere, paths.logs),
        /logs is a symbolic link; remove the link \(rm .*logs\); the daemon creates a real directory there/,
      ],
      [
        "a dangling link",
        () => symlinkSync(join(work.path, "absent"), paths.logs),
        /logs is a symbolic link; remove the link/,
      ],
      [
        "a file",
        () => writeFileSync(paths.logs, ""),
        /logs is not a directory; remove it \(rm .*logs\)/,
      ],
      [
        "a directory open to others",
        () => {
          mkdirSync(paths.logs);
          chmodSync(paths.logs, 0o755);
        },
        /logs is accessible to other users \(mode 0755\); fix it with: chmod 700 .*logs/,
      ],
    ];
    for (const [what, plant, message] of cases) {
      plant();
      const daemon = daemons.spawn();
      assert.equal(await exitOf(daemon), 1, `${what}: ${daemon.output()}`);
      assert.match(daemon.output(), message, what);
      assert.doesNotMatch(daemon.output(), /\n\s+at /, "no stack trace");
      assert.equal(existsSync(paths.socket), false, `${what}: no socket left`);
      rmSync(paths.logs, { recursive: true, force: true });
    }
    assert.deepEqual(readdirSync(elsewhere), [], "nothing was written through the link");
    assert.equal(existsSync(join(work.path, "absent")), false);
  });

  it("logs/ owned by another user: the daemon exits 1 saying how to take it back", {
    skip: needsRoot("gives logs/ to user nobody with chown"),
  }, async () => {
    const daemons = fixture();
    const { home } = daemons;
    const paths = homePaths(home.path);
    mkdirSync(paths.logs, { mode: 0o700 });
    chownSync(paths.logs, NOBODY, NOBODY);
    const daemon = daemons.spawn();
    assert.equal(await exitOf(daemon), 1, daemon.output());
    assert.match(
      daemon.output(),
      /logs belongs to uid 65534, not to you \(uid \d+\); give it back to you with: chown -R \d+ .*logs/,
    );
    assert.doesNotMatch(daemon.output(), /\n\s+at /, "no stack trace");
    assert.equal(existsSync(paths.socket), false, "no socket left");
  });

  it("at a log file, the state's temp file and the pid file: never written through", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    const target = join(work.path, "precious");
    writeFileSync(target, "do not touch\n");
    // Left by a crash: a pid file and a state temp file, both links to the precious file.
    symlinkSync(target, paths.pid);
    symlinkSync(target, `${paths.state}.tmp`);
    const daemon = await daemons.start();
    assert.ok(lstatSync(paths.pid).isFile(), "the pid file is a new file, not the link");
    assert.equal(readFileSync(paths.pid, "utf8").trim(), String(daemon.pid));
    const { sessions } = daemon.client;
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const { session } = await sessions.startSession({
      workingDir: work.path,
      command: ["cat"],
      env,
      name: "victim",
    });
    assert.ok(session);
    daemons.reap(session.pid);
    await waitFor("state.json to hold the session", () => {
      try {
        return readFileSync(paths.state, "utf8").includes(session.id);
      } catch {
        return false;
      }
    });
    assert.ok(lstatSync(paths.state).isFile());
    assert.equal(
      readFileSync(target, "utf8"),
      "do not touch\n",
      "state written through the temp link",
    );

    // A stopped session's log replaced by a link: resuming it is refused.
    await sessions.stopSession({ sessionId: session.id, gracePeriod: { seconds: 2n } });
    rmSync(session.logPath);
    symlinkSync(target, session.logPath);
    const refused = await sessions.resumeSession({ sessionId: session.id }).then(
      () => assert.fail("resumed with its log a symbolic link"),
      (error: { code: number; details: string }) => error,
    );
    assert.match(
      refused.details,
      /is a symbolic link; the daemon does not write through links: remove it/,
    );
    assert.equal(
      readFileSync(target, "utf8"),
      "do not touch\n",
      "the log was written through the link",
    );
    const failed = (await sessions.getSession({ sessionId: session.id })).session;
    assert.equal(failed?.state, SessionState.FAILED);
    assert.equal((await daemon.client.daemon.ping({})).pid, daemon.pid);

    // A running session's log replaced by a link while the daemon is down: the next daemon
    // still starts, marks it interrupted and reports the log problem instead of writing.
    rmSync(session.logPath);
    const { session: other } = await sessions.startSession({
      workingDir: work.path,
      command: ["cat"],
      env,
    });
    assert.ok(other);
    daemons.reap(other.pid);
    await daemon.kill();
    rmSync(other.logPath);
    symlinkSync(target, other.logPath);
    const next = await daemons.start();
    const interrupted = (await next.client.sessions.getSession({ sessionId: other.id })).session;
    assert.equal(interrupted?.state, SessionState.INTERRUPTED);
    assert.match(interrupted?.logError ?? "", /is a symbolic link/);
    assert.match(next.output(), /is a symbolic link; the daemon does not write through links/);
    assert.equal(readFileSync(target, "utf8"), "do not touch\n");
  });
});
