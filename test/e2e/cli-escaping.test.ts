/**
 * What the CLI prints that came from a user or a daemon (names, directories, commands, failure
 * reasons, log errors, versions, error messages) never reaches the terminal raw: controls and
 * bidi or zero-width characters are shown as escapes, so a directory named with `ESC]0;TITLE`
 * cannot retitle the terminal. A real daemon serves what it accepts (any directory, any
 * argument); a fake one serves what the daemon would refuse (names with C1 controls).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { homePaths } from "../../daemon/common/paths.js";
import { RpcError } from "../../daemon/rpc/rpc-error.js";
import { bindService, type ServiceImpl } from "../../daemon/rpc/service-binding.js";
import { DaemonService } from "../../gen/claude_sessions/v1/daemon_pb.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import {
  SessionEventKind,
  SessionService,
} from "../../gen/claude_sessions/v1/session_service_pb.js";
import { runCli } from "../helpers/cli.js";
import { assertNoStackTrace, cliHome } from "../helpers/cli-home.js";
import { tempDir, tempHome } from "../helpers/temp-home.js";

/** What a terminal would act on or hide: C0 (but newline), DEL, C1, zero-width and bidi. */
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/u;

function assertPrintable(what: string, text: string): void {
  const found = RAW.exec(text);
  assert.equal(
    found,
    null,
    `${what} printed U+${found?.[0].codePointAt(0)?.toString(16).padStart(4, "0")} raw: ${JSON.stringify(text)}`,
  );
}

describe("e2e: output escaping with a real daemon", () => {
  it("a directory named ESC]0;TITLE and escapes in the command: list and show print them escaped", async () => {
    const home = cliHome();
    const work = tempDir();
    try {
      const dir = join(work.path, "\x1b]0;TITLE\x07\u009b2J\u202eevil");
      mkdirSync(dir);
      const started = await home.ok([
        "start",
        dir,
        "--name",
        "esc",
        "--",
        "sh",
        "-c",
        "exec cat",
        "\x1b[2J",
      ]);
      assertPrintable("start", started);
      const shown = `${work.path}/\\x1b]0;TITLE\\x07\\u009b2J\\u202eevil`;
      assertPrintable("list", await home.ok(["list"]));
      const list = await home.ok(["list", "--long"]);
      assertPrintable("list --long", list);
      assert.ok(list.includes(`Directory: ${shown}\n`), list);
      assert.ok(list.includes("Command: sh -c 'exec cat' '\\x1b[2J'\n"), list);
      const show = await home.ok(["show", "esc"]);
      assertPrintable("show", show);
      assert.match(show, new RegExp(`Directory: +${shown.replaceAll("\\", "\\\\")}\n`));

      // The daemon's message about a directory that does not exist names it escaped too.
      const missing = await home.run(["start", join(work.path, "\x1b]0;GONE\x07")]);
      assert.equal(missing.code, 1);
      assertPrintable("the error", missing.stderr);
      assert.match(missing.stderr, /\\x1b\]0;GONE\\x07/);
      assertNoStackTrace(missing.stderr);
    } finally {
      await home.cleanup();
      work.remove();
    }
  });

  it("a name with a C1 control or a bidi override is refused, naming the code point", async () => {
    const home = cliHome();
    const work = tempDir();
    try {
      for (const [name, codePoint] of [
        ["a\u009bb", "U+009B"],
        ["a\u0085b", "U+0085"],
        ["a\u202eb", "U+202E"],
        ["a\u200bb", "U+200B"],
      ] as const) {
        const result = await home.run(["start", work.path, "--name", name, "--", "true"]);
        assert.equal(result.code, 1, result.stdout);
        assertPrintable("the error", result.stderr);
        assert.match(
          result.stderr,
          new RegExp(`^error: name contains ${codePoint.replace("+", "\\+")}`, "m"),
        );
      }
      assert.match(await home.ok(["list", "--all"]), /No sessions/);
    } finally {
      await home.cleanup();
      work.remove();
    }
  });
});

describe("e2e: output escaping of a command line the CLI cannot parse", () => {
  it("quotes it escaped", async () => {
    const home = tempHome();
    try {
      for (const args of [
        ["\x1b]0;CMD\x07"],
        ["list", "\u009b2J"],
        ["list", "--state", "\x1b[5m"],
      ]) {
        const result = await runCli(args, { home: home.path });
        assert.equal(result.code, 2, result.stderr);
        assertPrintable(args.join(" "), result.stderr);
      }
    } finally {
      home.remove();
    }
  });
});

/** A session full of what a terminal would act on, as a daemon that did not validate might send. */
const evil = {
  id: "0123abcd-\x1b[2J-\u009b31m",
  name: "na\u009bme\u202e\x1b]0;NAME\x07",
  workingDir: "/tmp/\x1b]0;DIR\x07",
  command: ["sh", "-c", "\u0085\u200b", "tag\u{e0001}"],
  state: SessionState.FAILED,
  failureReason: "broke \x1b[31mred",
  logError: "disk \u009b2J",
  logPath: "/tmp/\x1b]0;LOG\x07.jsonl",
};

/** Every method of `SessionService` unimplemented, but those given. */
function sessionService(handlers: Partial<ServiceImpl<(typeof SessionService)["method"]>>) {
  const impl: Record<string, unknown> = {};
  for (const method of SessionService.methods) {
    impl[method.localName] = async () => {
      throw new RpcError(grpc.status.UNIMPLEMENTED, `${method.name} is not served here`);
    };
  }
  return { ...impl, ...handlers } as ServiceImpl<(typeof SessionService)["method"]>;
}

describe("e2e: output escaping with a daemon that sends anything", () => {
  it("list, show, watch, status and error messages print every field escaped", async () => {
    const home = tempHome();
    const server = new grpc.Server();
    const daemon = bindService(DaemonService, {
      ping: async () => ({ version: "1.0\x1b]0;VERSION\x07", pid: process.pid }),
      reloadConfig: async () => ({}),
      shutdown: async () => ({ pid: process.pid }),
    });
    const sessions = bindService(
      SessionService,
      sessionService({
        listSessions: async () => ({ sessions: [evil] }),
        getSession: async (request) => {
          if (request.sessionId === "evil") return { session: evil };
          throw new RpcError(grpc.status.NOT_FOUND, "no session \x1b]0;ERROR\x07\u009b2J");
        },
        stopSession: async () => {
          throw new RpcError(grpc.status.FAILED_PRECONDITION, "cannot \u202estop\x1b[5m");
        },
        watchSessions: async (_request, call) => {
          call.write({ kind: SessionEventKind.EXISTING, session: evil });
        },
      }),
    );
    server.addService(daemon.definition, daemon.handlers);
    server.addService(sessions.definition, sessions.handlers);
    const socket = homePaths(home.path).socket;
    const umask = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) =>
        server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (error) =>
          error ? reject(error) : resolve(),
        ),
      );
    } finally {
      process.umask(umask);
    }
    try {
      const run = (args: string[]) => runCli(args, { home: home.path });
      const table = await run(["list"]);
      assert.equal(table.code, 0, table.stderr);
      assertPrintable("list", table.stdout);
      const list = await run(["list", "--long"]);
      assert.equal(list.code, 0, list.stderr);
      assertPrintable("list --long", list.stdout);
      for (const shown of [
        "0123abcd-\\x1b[2J-\\u009b31m (na\\u009bme\\u202e\\x1b]0;NAME\\x07)",
        "Directory: /tmp/\\x1b]0;DIR\\x07",
        "Command: sh -c '\\u0085\\u200b' 'tag\\u{e0001}'",
        "Status: failed: broke \\x1b[31mred",
        "Logs: /tmp/\\x1b]0;LOG\\x07.jsonl",
        "Log error: disk \\u009b2J",
      ]) {
        assert.ok(list.stdout.includes(shown), `${shown} in ${list.stdout}`);
      }

      // JSON as well: every field escaped, and read back exactly as sent.
      const json = await run(["list", "--json"]);
      assert.equal(json.code, 0, json.stderr);
      assertPrintable("list --json", json.stdout);
      const [listed] = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
      assert.deepEqual(
        [listed?.id, listed?.name, listed?.working_dir, listed?.command, listed?.log_error],
        [evil.id, evil.name, evil.workingDir, evil.command, evil.logError],
      );

      const show = await run(["show", "evil"]);
      assert.equal(show.code, 0, show.stderr);
      assertPrintable("show", show.stdout);
      assert.match(show.stdout, /Name: +na\\u009bme\\u202e\\x1b\]0;NAME\\x07\n/);

      const watch = await run(["watch"]);
      // This daemon ends the watch once it has sent its events: for watch, a daemon gone.
      assert.equal(watch.code, 1, watch.stderr);
      assert.match(watch.stderr, /went away \(it ended the watch\)/);
      assertPrintable("watch", watch.stdout);
      // Named by its name and short id.
      assert.match(watch.stdout, / existing na\\u009bme\\u202e\\x1b\]0;NAME\\x07 \(0123abcd\): /);

      const status = await run(["status"]);
      assert.equal(status.code, 0, status.stderr);
      assertPrintable("status", status.stdout);
      assert.match(status.stdout, /version 1\.0\\x1b\]0;VERSION\\x07,/);

      const version = await run(["version"]);
      assertPrintable("version", version.stdout);

      const missing = await run(["show", "other"]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, "error: no session \\x1b]0;ERROR\\x07\\u009b2J\n");

      const stop = await run(["stop", "evil"]);
      assert.equal(stop.code, 1);
      assert.equal(stop.stderr, "error: cannot \\u202estop\\x1b[5m\n");
    } finally {
      server.forceShutdown();
      home.remove();
    }
  });
});
