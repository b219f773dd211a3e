/**
 * How a command reaches its daemon, through the built CLI: a command that acts on a session
 * does not start a daemon on a home that has never had one (there is no session to act on),
 * but does on a home a daemon has run on (its sessions are there); many CLIs at once against
 * one running daemon all use it, and a command whose daemon is running but not reachable for a
 * moment (its socket deleted, bound again shortly) uses it rather than failing.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertNoStackTrace, type CliHome, cliHome } from "../helpers/cli-home.js";
import { daemonsFor } from "../helpers/proc.js";
import { waitFor } from "../helpers/wait.js";

/** Waits until `pid` is the only daemon for `home`: one a command tried to start gave up. */
async function onlyDaemon(home: string, pid: number | undefined): Promise<void> {
  await waitFor("no other daemon for the home", () => {
    const found = daemonsFor(home);
    return found.length === 1 && found[0] === pid;
  });
}

describe("e2e: how a command reaches its daemon", () => {
  /** A home no daemon has run on, and one a daemon runs on. */
  let fresh: CliHome;
  let home: CliHome;

  before(() => {
    fresh = cliHome();
    home = cliHome();
  });

  after(async () => {
    await fresh.cleanup();
    await home.cleanup();
  });

  it("session commands on a home no daemon has run on exit 1 saying no session matches, and start no daemon", async () => {
    const commands = [
      ["stop", "nope"],
      ["show", "nope"],
      ["rm", "nope"],
      ["logs", "nope"],
      ["capture", "nope"],
      ["send", "nope", "hello"],
      ["resize", "nope", "80", "24"],
      ["resume", "nope"],
      ["attach", "nope"],
    ];
    for (const args of commands) {
      const result = await fresh.run(args);
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      assert.equal(result.stdout, "", args.join(" "));
      assert.equal(
        result.stderr,
        `error: no session matches 'nope' (no daemon is running for ${fresh.path})\n`,
        args.join(" "),
      );
      assertNoStackTrace(result.stderr);
    }
    const both = await fresh.run(["stop", "one", "two"]);
    assert.equal(both.code, 1);
    assert.match(
      both.stderr,
      /^error: no session matches 'one' .*\nerror: no session matches 'two' /,
    );

    assert.equal(existsSync(join(fresh.path, "daemon.sock")), false, "a socket exists");
    assert.deepEqual(daemonsFor(fresh.path), [], "a daemon runs for the home");
    assert.deepEqual(readdirSync(fresh.path), [], "the home is not empty");
  });

  it("session commands on a home a daemon has run on start one, which brings back their sessions", async () => {
    await home.json(["start", "--name", "kept", "--", "sleep", "100"]);
    await home.ok(["stop-daemon"]);
    assert.deepEqual(daemonsFor(home.path), []);

    const show = await home.run(["show", "kept", "--json"]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stderr, /^claude-sessions: started daemon \(pid \d+\)\n$/);
    // Its host kept it running; the new daemon took it over.
    assert.equal((JSON.parse(show.stdout) as { state: string }).state, "running");

    const missing = await home.run(["stop", "nope"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "error: no session matches 'nope'\n");
  });

  it("30 CLIs at once against the running daemon all use it", async () => {
    const [pid] = daemonsFor(home.path);
    const results = await Promise.all(
      Array.from({ length: 30 }, () => home.run(["list", "--all"], { timeoutMs: 120_000 })),
    );
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "");
      assert.match(result.stdout, /^[0-9a-f]{8} {2}kept {2}/m);
    }
    await onlyDaemon(home.path, pid);
  });

  it("a running daemon whose socket is gone for a moment is used by every kind of command", async () => {
    const [pid] = daemonsFor(home.path);
    const socket = join(home.path, "daemon.sock");
    // A unary call, a stream, and `start`, each right after the socket was deleted: the daemon
    // binds it again, and the daemon the command tries to start finds it running.
    for (const args of [
      ["show", "kept"],
      ["logs", "kept"],
      ["start", "--", "true"],
    ]) {
      rmSync(socket);
      const result = await home.run(args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      assert.equal(result.stderr, "", args.join(" "));
    }
    await onlyDaemon(home.path, pid);
  });
});
