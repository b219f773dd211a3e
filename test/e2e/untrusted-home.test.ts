/**
 * A client sends a session's whole environment to whatever answers at the socket, so it must
 * know that only the user's own daemon can be there: like tmux's client, the CLI and
 * `DaemonClient` refuse a home or socket that another user owns or can reach, before they
 * connect, with the one-line fix the daemon gives for the same home. The fake daemons here
 * count every connection and byte: they must get none.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, lchownSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { DaemonClient } from "../../cli/client.js";
import { homePaths } from "../../daemon/common/paths.js";
import { runCli } from "../helpers/cli.js";
import { assertNoStackTrace } from "../helpers/cli-home.js";
import { type TempHome, tempDir, tempHome } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

/** A call that does reach a fake gives up quickly instead of waiting the default 30 s. */
const env = { CLAUDE_SESSIONS_CALL_TIMEOUT: "2s", SECRET_TOKEN: "do-not-send" };
const NOBODY = 65534;
const uid = process.getuid?.() ?? 0;

/** A stand-in for a daemon on `socket` that takes connections and bytes and never answers. */
interface FakeDaemon {
  connections: number;
  bytes: number;
  close(): Promise<void>;
}

async function fakeDaemon(socket: string, mode: number): Promise<FakeDaemon> {
  const open: Socket[] = [];
  const server: Server = createServer((connection) => {
    fake.connections++;
    open.push(connection);
    connection.on("data", (chunk: Buffer) => {
      fake.bytes += chunk.length;
    });
  });
  const fake: FakeDaemon = {
    connections: 0,
    bytes: 0,
    async close() {
      for (const connection of open) connection.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  chmodSync(socket, mode);
  return fake;
}

const homes: TempHome[] = [];
const fakes: FakeDaemon[] = [];
afterEach(async () => {
  for (const fake of fakes.splice(0)) await fake.close();
  for (const home of homes.splice(0)) home.remove();
});

/** A home with a fake daemon at its socket. */
async function plantedHome(homeMode: number, socketMode = 0o600) {
  const home = tempHome();
  homes.push(home);
  const { socket } = homePaths(home.path);
  const fake = await fakeDaemon(socket, socketMode);
  fakes.push(fake);
  chmodSync(home.path, homeMode);
  return { home: home.path, socket, fake };
}

/** Runs each command that talks to a daemon, and checks each one refused with `message`. */
async function assertRefused(home: string, message: string, args: string[] = []) {
  const work = tempDir();
  homes.push(work);
  for (const command of [
    ["start", work.path, "--", "bash"],
    ["list"],
    ["status"],
    ["show", "x"],
    ["stop-daemon"],
  ]) {
    const result = await runCli([...command, ...args], { home, env });
    assert.equal(result.code, 1, `${command[0]}: ${result.stdout}${result.stderr}`);
    assert.equal(result.stdout, "", command[0]);
    assert.equal(result.stderr, `error: ${message}\n`, command[0]);
    assertNoStackTrace(result.stderr);
  }
}

describe("e2e: a home or socket that is not the user's own", () => {
  it("a home open to others (0777): every command exits 1 with the daemon's fix, the fake gets no connection", async () => {
    const { home, socket, fake } = await plantedHome(0o777, 0o777);
    const message = `${home} is accessible to other users (mode 0777); fix it with: chmod 700 ${home}`;
    await assertRefused(home, message);
    // Naming the socket does not skip the check of the directory it is in.
    await assertRefused(home, message, ["--socket", socket]);
    assert.deepEqual(
      { connections: fake.connections, bytes: fake.bytes },
      { connections: 0, bytes: 0 },
    );

    // The daemon refuses that home in the same words.
    chmodSync(home, 0o700);
    rmSync(socket);
    chmodSync(home, 0o777);
    const daemon = await runCli(["daemon", "--foreground"], { home, env });
    assert.equal(daemon.code, 1);
    assert.match(daemon.stderr, /^\S+ error [^\n]+\n$/, "one line of the daemon's log");
    assert.ok(daemon.stderr.endsWith(` error ${message}\n`), daemon.stderr);
  });

  it("a socket of ours open to others, or a link to a socket: refused, nothing sent", async () => {
    const open = await plantedHome(0o700, 0o666);
    await assertRefused(
      open.home,
      `${open.socket} is accessible to other users (mode 0666); fix it with: chmod 600 ${open.socket}`,
    );
    assert.equal(open.fake.connections, 0);

    const elsewhere = await plantedHome(0o700);
    const linked = tempHome();
    homes.push(linked);
    const socket = homePaths(linked.path).socket;
    symlinkSync(elsewhere.socket, socket);
    await assertRefused(
      linked.path,
      `${socket} exists and is not a socket (a symbolic link); remove it and start again`,
    );
    assert.equal(elsewhere.fake.connections, 0);

    writeFileSync(join(open.home, "other.sock"), "");
    const notSocket = join(open.home, "other.sock");
    const result = await runCli(["list", "--socket", notSocket], { home: open.home, env });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `error: ${notSocket} exists and is not a socket (a file); remove it and start again\n`,
    );
  });

  it("DaemonClient refuses too, unless told explicitly to allow it", async () => {
    const { home, socket, fake } = await plantedHome(0o777);
    const message = `${home} is accessible to other users (mode 0777); fix it with: chmod 700 ${home}`;
    assert.throws(() => DaemonClient.connect({ home }), { message });
    assert.throws(() => DaemonClient.connect({ socket }), { message });
    assert.throws(() => new DaemonClient(socket), { message });
    assert.equal(fake.connections, 0);

    const allowed = new DaemonClient(socket, { allowUnsafeSocket: true });
    try {
      assert.equal(await allowed.isRunning(300), false, "the fake never answers");
      // The fake counts the connection when its own accept is handled, which on a busy machine
      // may come after the client has given up waiting for an answer.
      await waitFor("the client, told to, to connect", () => fake.connections === 1);
    } finally {
      allowed.close();
    }
  });
});

const AS_ROOT_SKIP = uid === 0 ? false : "needs root: a home served by user nobody (setpriv)";

describe("e2e: a home served by another user", { skip: AS_ROOT_SKIP }, () => {
  it("nobody's 0777 home with a fake daemon.sock: start exits 1 and nobody gets a connection, let alone the environment", async () => {
    // Nobody makes a home anyone may use and serves a socket in it, counting what arrives.
    const squatter = spawn(
      "setpriv",
      [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "/usr/bin/python3",
        "-c",
        [
          "import json, os, select, socket, sys, tempfile",
          "home = tempfile.mkdtemp(prefix='cs-squat-', dir='/tmp')",
          "os.chmod(home, 0o777)",
          "server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
          "server.bind(home + '/daemon.sock')",
          "os.chmod(home + '/daemon.sock', 0o777)",
          "server.listen()",
          "print(home, flush=True)",
          "peers, counts = [], {'connections': 0, 'bytes': 0}",
          "while True:",
          "    ready = select.select([server, sys.stdin] + peers, [], [])[0]",
          "    if sys.stdin in ready: break",
          "    if server in ready:",
          "        peers.append(server.accept()[0])",
          "        counts['connections'] += 1",
          "    for c in [c for c in peers if c in ready]:",
          "        data = c.recv(65536)",
          "        counts['bytes'] += len(data)",
          "        if not data: peers.remove(c)",
          "print(json.dumps(counts), flush=True)",
        ].join("\n"),
      ],
      { cwd: "/", env: { PATH: "/usr/bin:/bin" }, stdio: ["pipe", "pipe", "inherit"] },
    );
    const lines = squatter.stdout.setEncoding("utf8");
    let home: string | undefined;
    try {
      home = ((await once(lines, "data")) as [string])[0].trim();
      assert.match(home, /^\/tmp\/cs-squat-/);
      const work = tempDir();
      homes.push(work);
      const result = await runCli(["start", work.path, "--", "bash"], { home, env });
      assert.equal(result.code, 1, result.stdout);
      assert.equal(result.stdout, "");
      assert.equal(
        result.stderr,
        `error: ${home} belongs to uid ${NOBODY}, not to you (uid 0); use a directory of your own (CLAUDE_SESSIONS_HOME)\n`,
      );
      squatter.stdin.end("done\n");
      const counts = JSON.parse(((await once(lines, "data")) as [string])[0]);
      assert.deepEqual(counts, { connections: 0, bytes: 0 });
    } finally {
      squatter.kill("SIGKILL");
      if (home !== undefined) rmSync(home, { recursive: true, force: true });
    }
  });

  it("a socket in our home that belongs to nobody: refused, saying to remove it", async () => {
    const { home, socket, fake } = await plantedHome(0o700);
    lchownSync(socket, NOBODY, NOBODY);
    await assertRefused(
      home,
      `${socket} belongs to uid ${NOBODY}, not to you (uid 0); remove it (rm ${socket}); your own daemon makes its socket when it starts`,
    );
    assert.equal(fake.connections, 0);
  });
});

// A home that does not exist yet is no reason to refuse: the daemon started for it makes it.
describe("e2e: a home that does not exist yet", () => {
  it("is not refused: status says no daemon runs", async () => {
    const parent = tempHome();
    homes.push(parent);
    const home = join(parent.path, "new");
    const status = await runCli(["status"], { home, env });
    assert.equal(status.code, 3, status.stderr);
    mkdirSync(home, { mode: 0o700 });
    const again = await runCli(["status"], { home, env });
    assert.equal(again.code, 3, again.stderr);
  });
});
