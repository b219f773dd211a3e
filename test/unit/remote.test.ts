/**
 * Reaching a daemon on another machine: `ssh://` addresses, the dial hello, ssh's arguments and
 * failures as one line, contexts in the home, which daemon a command talks to, daemon options
 * before the command, and the HOST column of `list --all-contexts`.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { UsageError } from "clipanion";
import { ClientError } from "../../cli/client-error.js";
import { hoistDaemonOptions } from "../../cli/main.js";
import { addContext, findContext, readContexts, writeContexts } from "../../cli/remote/contexts.js";
import { DIAL_PROTOCOL, helloLine, parseHello } from "../../cli/remote/dial-hello.js";
import { RemoteError } from "../../cli/remote/remote-error.js";
import { dialFailure, sshArguments, sshCommandOf } from "../../cli/remote/ssh-transport.js";
import { parseSshAddress, type SshAddress } from "../../cli/remote/ssh-url.js";
import { resolveTarget } from "../../cli/remote/target.js";
import { Status } from "../../cli/rpc/call-error.js";
import { sessionTable } from "../../cli/session-table.js";
import { homePaths } from "../../daemon/common/paths.js";
import { Activity, SessionSchema, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { tempHome } from "../helpers/temp-home.js";

/** The one-line UsageError parsing `text` gives. */
function addressRefusal(text: string, what = "--host"): string {
  try {
    parseSshAddress(text, what);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    assert.ok(!error.message.includes("\n"), `more than one line: ${error.message}`);
    return error.message;
  }
  assert.fail(`accepted '${text}'`);
}

/** The ClientError `run` throws. */
function clientError(run: () => unknown): ClientError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ClientError, String(error));
    assert.ok(!error.message.includes("\n"), `more than one line: ${error.message}`);
    return error;
  }
  assert.fail("did not throw");
}

/** A home function that fails the test if the home is read. */
const NO_HOME = (): string => assert.fail("the home was read");

describe("ssh addresses", () => {
  it("reads a host alone, with a user, and with a port", () => {
    assert.deepEqual(parseSshAddress("ssh://box", "--host"), {
      user: undefined,
      host: "box",
      port: undefined,
      url: "ssh://box",
    });
    assert.deepEqual(parseSshAddress("ssh://ann@box", "--host"), {
      user: "ann",
      host: "box",
      port: undefined,
      url: "ssh://ann@box",
    });
    assert.deepEqual(parseSshAddress("ssh://ann@box.example.com:2222", "--host"), {
      user: "ann",
      host: "box.example.com",
      port: 2222,
      url: "ssh://ann@box.example.com:2222",
    });
  });

  it("takes an IPv6 address in brackets, giving the host without them and the url with them", () => {
    assert.deepEqual(parseSshAddress("ssh://[::1]:22", "--host"), {
      user: undefined,
      host: "::1",
      port: 22,
      url: "ssh://[::1]:22",
    });
    const bare = parseSshAddress("ssh://ann@[fe80::1]", "--host");
    assert.equal(bare.host, "fe80::1");
    assert.equal(bare.url, "ssh://ann@[fe80::1]");
  });

  it("allows a trailing slash, and leaves it out of the url", () => {
    assert.deepEqual(parseSshAddress("ssh://ann@box:2222/", "--host"), {
      user: "ann",
      host: "box",
      port: 2222,
      url: "ssh://ann@box:2222",
    });
  });

  it("refuses what is not ssh://[user@]host[:port] in one line naming where it came from", () => {
    for (const text of [
      "box",
      "tcp://box",
      "ssh://ann:secret@box",
      "ssh://box/x",
      "ssh://box?x=1",
      "ssh://box#x",
      "ssh://box:0",
      "ssh://-oProxyCommand=x",
      "ssh://-ann@box",
      "ssh://",
    ]) {
      const message = addressRefusal(text, "CLAUDE_SESSIONS_HOST");
      assert.match(message, /CLAUDE_SESSIONS_HOST/, text);
      assert.ok(message.includes("ssh://[user@]host[:port]"), message);
      assert.ok(message.includes(`'${text}'`), message);
    }
  });

  it("says why an address is refused", () => {
    assert.match(addressRefusal("box"), /no ssh:\/\//);
    assert.match(addressRefusal("tcp://x"), /only ssh:\/\//);
    assert.match(addressRefusal("ssh://ann:pw@box"), /password/);
    assert.match(addressRefusal("ssh://h/x"), /nothing may follow/);
    assert.match(addressRefusal("ssh://h?x"), /nothing may follow/);
    assert.match(addressRefusal("ssh://h:0"), /port 0/);
    assert.match(addressRefusal("ssh://-h"), /starts with '-'/);
    assert.match(addressRefusal("ssh://-u@h"), /starts with '-'/);
  });
});

describe("dial hello", () => {
  it("is one line ending in a newline, read back as written", () => {
    const line = helloLine({ version: "1.2.3" });
    assert.ok(line.endsWith("\n"));
    assert.equal(line.indexOf("\n"), line.length - 1);
    assert.deepEqual(parseHello(line.slice(0, -1)), {
      protocol: DIAL_PROTOCOL,
      version: "1.2.3",
      userHome: undefined,
      startedPid: undefined,
      error: undefined,
    });
  });

  it("carries the far user's home", () => {
    const line = helloLine({ version: "1.2.3", userHome: "/home/ann" });
    assert.equal(parseHello(line.trimEnd())?.userHome, "/home/ann");
  });

  it("carries the pid of a daemon it started", () => {
    const line = helloLine({ version: "1.2.3", startedPid: 4242 });
    assert.equal(parseHello(line.trimEnd())?.startedPid, 4242);
    assert.equal(parseHello(line.trimEnd())?.error, undefined);
  });

  it("carries an error with its status code, on one line even if the error has a newline", () => {
    const line = helloLine({
      version: "1.2.3",
      error: { message: "no daemon\nand no way to start one", code: Status.UNAVAILABLE },
    });
    assert.equal(line.indexOf("\n"), line.length - 1);
    assert.deepEqual(parseHello(line.slice(0, -1)), {
      protocol: DIAL_PROTOCOL,
      version: "1.2.3",
      userHome: undefined,
      startedPid: undefined,
      error: {
        message: "no daemon\nand no way to start one",
        code: Status.UNAVAILABLE,
        notRunning: false,
      },
    });
  });

  it("says when the only trouble is that no daemon runs there", () => {
    const line = helloLine({
      version: "1.2.3",
      error: { message: "no daemon runs", code: Status.UNAVAILABLE, notRunning: true },
    });
    assert.deepEqual(parseHello(line.trimEnd())?.error, {
      message: "no daemon runs",
      code: Status.UNAVAILABLE,
      notRunning: true,
    });
  });

  it("is not found in a login greeting, broken JSON, or JSON without an integer protocol", () => {
    assert.equal(parseHello("Welcome to Ubuntu 24.04 LTS"), undefined);
    assert.equal(parseHello(""), undefined);
    assert.equal(parseHello('{"claude_sessions_dial":1,"version":'), undefined);
    assert.equal(parseHello('{"claude_sessions_dial":"1","version":"1.2.3"}'), undefined);
    assert.equal(parseHello('{"claude_sessions_dial":1.5,"version":"1.2.3"}'), undefined);
    assert.equal(parseHello('{"claude_sessions_dial":null,"version":"1.2.3"}'), undefined);
    assert.equal(parseHello('{"version":"1.2.3"}'), undefined);
  });
});

describe("ssh arguments", () => {
  const plain = parseSshAddress("ssh://box", "--host");
  const full = parseSshAddress("ssh://ann@box:2222", "--host");

  it("never prompts, asks for no terminal, and runs dial-stdio after '--' and the host", () => {
    const args = sshArguments({
      address: plain,
      program: "claude-sessions",
      start: true,
      sshCommand: ["ssh"],
    });
    assert.ok(args.includes("-T"), args.join(" "));
    const batch = args.indexOf("BatchMode=yes");
    assert.ok(batch > 0, args.join(" "));
    assert.equal(args[batch - 1], "-o");
    assert.ok(!args.includes("-p"), args.join(" "));
    assert.ok(!args.includes("-l"), args.join(" "));
    assert.ok(!args.includes("ssh"), args.join(" "));
    assert.deepEqual(args.slice(-3), ["--", "box", "claude-sessions dial-stdio"]);
  });

  it("gives the port and the user only when the address has them", () => {
    const args = sshArguments({
      address: full,
      program: "claude-sessions",
      start: true,
      sshCommand: ["ssh"],
    });
    const port = args.indexOf("-p");
    const user = args.indexOf("-l");
    assert.equal(args[port + 1], "2222");
    assert.equal(args[user + 1], "ann");
    const separator = args.indexOf("--");
    assert.ok(port < separator && user < separator, args.join(" "));
    assert.deepEqual(args.slice(separator), ["--", "box", "claude-sessions dial-stdio"]);
  });

  it("asks the far side not to start a daemon with --no-start, and runs the program named", () => {
    const args = sshArguments({
      address: plain,
      program: "/opt/cs/bin/claude-sessions",
      start: false,
      sshCommand: ["ssh"],
    });
    assert.equal(args.at(-1), "/opt/cs/bin/claude-sessions dial-stdio --no-start");
  });

  it("puts the extra words of the ssh command first", () => {
    const args = sshArguments({
      address: full,
      program: "claude-sessions",
      start: true,
      sshCommand: ["ssh", "-F", "/x"],
    });
    assert.deepEqual(args.slice(0, 2), ["-F", "/x"]);
    assert.equal(args.at(-2), "box");
  });

  it("the ssh command is ssh unless CLAUDE_SESSIONS_SSH_COMMAND names another, split as a shell would", () => {
    assert.deepEqual(sshCommandOf({}), ["ssh"]);
    assert.deepEqual(sshCommandOf({ CLAUDE_SESSIONS_SSH_COMMAND: "" }), ["ssh"]);
    assert.deepEqual(sshCommandOf({ CLAUDE_SESSIONS_SSH_COMMAND: "   " }), ["ssh"]);
    assert.deepEqual(sshCommandOf({ CLAUDE_SESSIONS_SSH_COMMAND: "ssh -F '/a b/c'" }), [
      "ssh",
      "-F",
      "/a b/c",
    ]);
    assert.deepEqual(
      sshCommandOf({ CLAUDE_SESSIONS_SSH_COMMAND: '/usr/bin/ssh  -o "ProxyJump=j h" -v' }),
      ["/usr/bin/ssh", "-o", "ProxyJump=j h", "-v"],
    );
  });

  it("an unclosed quote in CLAUDE_SESSIONS_SSH_COMMAND is an error naming it", () => {
    assert.throws(
      () => sshCommandOf({ CLAUDE_SESSIONS_SSH_COMMAND: "ssh -F '/a b" }),
      (error: unknown) =>
        error instanceof Error && error.message.includes("CLAUDE_SESSIONS_SSH_COMMAND"),
    );
  });
});

describe("dial failures", () => {
  const address = parseSshAddress("ssh://ann@box:2222", "--host");
  const options = { address, program: "claude-sessions" };

  /** The failure for ssh's exit and stderr, checked to be one line. */
  function failure(exitCode: number | null, stderr: string, at: SshAddress = address) {
    const error = dialFailure({ address: at, program: "claude-sessions" }, exitCode, stderr);
    assert.ok(error instanceof RemoteError);
    assert.ok(!error.details.includes("\n"), `more than one line: ${error.details}`);
    assert.ok(!error.message.includes("\n"), `more than one line: ${error.message}`);
    return error;
  }

  it("an unknown host key says so, with the ssh command that checks it by hand", () => {
    const error = failure(
      255,
      "No ED25519 host key is known for box and you have requested strict checking.\nHost key verification failed.\n",
    );
    assert.match(error.details, /host key/);
    assert.ok(error.details.includes("ssh -p 2222 ann@box"), error.details);
    const bare = failure(255, "Host key verification failed.\n", parseSshAddress("ssh://box", "x"));
    assert.ok(bare.details.endsWith("ssh box"), bare.details);
  });

  it("a refused login is UNAUTHENTICATED and points at ssh-add", () => {
    const error = failure(255, "ann@box: Permission denied (publickey).\n");
    assert.equal(error.code, Status.UNAUTHENTICATED);
    assert.match(error.details, /ssh-add/);
    assert.ok(error.details.includes("Permission denied (publickey)"), error.details);
  });

  it("a host that cannot be reached says so, with ssh's words", () => {
    const error = failure(255, "ssh: connect to host box port 2222: Connection refused\r\n");
    assert.equal(error.code, Status.UNAVAILABLE);
    assert.match(error.details, /cannot reach/);
    assert.ok(error.details.includes("Connection refused"), error.details);
  });

  it("no claude-sessions on the far side says it is not installed, and how to name its path", () => {
    const error = failure(127, "bash: line 1: claude-sessions: command not found\n");
    assert.equal(error.code, Status.FAILED_PRECONDITION);
    assert.match(error.details, /not installed/);
    assert.match(error.details, /--program/);
  });

  it("a claude-sessions without dial-stdio is too old", () => {
    const error = failure(
      2,
      "error: unknown command 'dial-stdio'; the commands: daemon, list, start (details: claude-sessions --help)\n",
    );
    assert.equal(error.code, Status.FAILED_PRECONDITION);
    assert.match(error.details, /too old/);
  });

  it("anything else gives ssh's exit code, or says a signal ended it", () => {
    const error = failure(3, "something odd\nhappened\n");
    assert.match(error.details, /exited with 3/);
    assert.ok(error.details.includes("happened"), error.details);
    assert.match(failure(null, "").details, /a signal/);
    assert.equal(dialFailure(options, 1, "").code, Status.UNAVAILABLE);
  });

  it("what ssh printed is made printable, never a second line or a terminal escape", () => {
    const error = failure(255, "ssh: connect to host box: \x1b]0;title\x07 refused\n");
    assert.ok(!error.details.includes("\x1b"), error.details);
  });
});

describe("contexts", () => {
  it("a home without a contexts file has none", () => {
    const home = tempHome();
    try {
      assert.deepEqual(readContexts(home.path), { current: undefined, contexts: {} });
    } finally {
      home.remove();
    }
  });

  it("an added context is read back with its host normalized, from a file only its owner reads", () => {
    const home = tempHome();
    try {
      addContext(home.path, "box", { host: "ssh://ann@box:2222/", program: "/opt/cs" }, false);
      addContext(home.path, "lab.1", { host: "ssh://lab", description: "the lab" }, false);
      assert.deepEqual(readContexts(home.path), {
        current: undefined,
        contexts: {
          box: { host: "ssh://ann@box:2222", program: "/opt/cs", description: undefined },
          "lab.1": { host: "ssh://lab", program: undefined, description: "the lab" },
        },
      });
      assert.equal(statSync(homePaths(home.path).contexts).mode & 0o777, 0o600);
    } finally {
      home.remove();
    }
  });

  it("an existing name is replaced only when asked", () => {
    const home = tempHome();
    try {
      addContext(home.path, "box", { host: "ssh://box" }, false);
      const error = clientError(() => addContext(home.path, "box", { host: "ssh://other" }, false));
      assert.equal(error.code, Status.ALREADY_EXISTS);
      assert.match(error.message, /box/);
      assert.equal(readContexts(home.path).contexts.box?.host, "ssh://box");
      addContext(home.path, "box", { host: "ssh://other" }, true);
      assert.equal(readContexts(home.path).contexts.box?.host, "ssh://other");
    } finally {
      home.remove();
    }
  });

  it("refuses the name default, names that are not names, and hosts that are not addresses", () => {
    const home = tempHome();
    try {
      const refused = clientError(() =>
        addContext(home.path, "default", { host: "ssh://b" }, false),
      );
      assert.equal(refused.code, Status.INVALID_ARGUMENT);
      for (const name of ["", "-box", ".box", "a b", "a/b", "box\n", "x".repeat(64)]) {
        const error = clientError(() => addContext(home.path, name, { host: "ssh://b" }, false));
        assert.equal(error.code, Status.INVALID_ARGUMENT, JSON.stringify(name));
      }
      assert.throws(() => addContext(home.path, "box", { host: "box" }, false), UsageError);
      assert.equal(existsSync(homePaths(home.path).contexts), false);
      addContext(home.path, "x".repeat(63), { host: "ssh://b" }, false);
    } finally {
      home.remove();
    }
  });

  it("a contexts file that is not JSON is an error naming the file", () => {
    const home = tempHome();
    try {
      const path = homePaths(home.path).contexts;
      writeFileSync(path, "{ not json", { mode: 0o600 });
      const error = clientError(() => readContexts(home.path));
      assert.ok(error.message.includes(path), error.message);
      assert.equal(error.code, Status.FAILED_PRECONDITION);
      assert.equal(readFileSync(path, "utf8"), "{ not json");
    } finally {
      home.remove();
    }
  });

  it("a missing context is NOT_FOUND, listing the names there are", () => {
    const error = clientError(() =>
      findContext(
        { current: undefined, contexts: { zed: { host: "ssh://z" }, box: { host: "ssh://b" } } },
        "nope",
      ),
    );
    assert.equal(error.code, Status.NOT_FOUND);
    assert.match(error.message, /'nope'/);
    assert.match(error.message, /default, box, zed/);
  });
});

describe("which daemon a command talks to", () => {
  it("refuses two of --socket, --host and --context", () => {
    for (const flags of [
      { socket: "/s", host: "ssh://b" },
      { socket: "/s", context: "box" },
      { host: "ssh://b", context: "box" },
    ]) {
      assert.throws(() => resolveTarget(flags, NO_HOME, {}), UsageError);
    }
  });

  it("--socket is the local daemon on that socket, whatever the environment says", () => {
    assert.deepEqual(
      resolveTarget({ socket: "/tmp/x.sock" }, NO_HOME, {
        CLAUDE_SESSIONS_HOST: "ssh://box",
        CLAUDE_SESSIONS_CONTEXT: "box",
      }),
      { kind: "local", socket: "/tmp/x.sock" },
    );
  });

  it("--host is that host over ssh, running the program the environment names or claude-sessions", () => {
    assert.deepEqual(resolveTarget({ host: "ssh://ann@box:2222" }, NO_HOME, {}), {
      kind: "ssh",
      address: { user: "ann", host: "box", port: 2222, url: "ssh://ann@box:2222" },
      program: "claude-sessions",
      context: undefined,
    });
    const target = resolveTarget({ host: "ssh://box" }, NO_HOME, {
      CLAUDE_SESSIONS_REMOTE_PROGRAM: "/opt/cs/bin/claude-sessions",
      CLAUDE_SESSIONS_HOST: "ssh://elsewhere",
    });
    assert.equal(target.kind, "ssh");
    assert.equal(target.kind === "ssh" && target.address.host, "box");
    assert.equal(target.kind === "ssh" && target.program, "/opt/cs/bin/claude-sessions");
    assert.throws(
      () => resolveTarget({ host: "box" }, NO_HOME, {}),
      (error: unknown) => error instanceof UsageError && error.message.includes("--host"),
    );
  });

  it("--context is the context's host and program, its program before the environment's", () => {
    const home = tempHome();
    try {
      addContext(home.path, "box", { host: "ssh://ann@box", program: "/opt/cs" }, false);
      addContext(home.path, "lab", { host: "ssh://lab:2200" }, false);
      const env = { CLAUDE_SESSIONS_REMOTE_PROGRAM: "/env/cs" };
      assert.deepEqual(
        resolveTarget({ context: "box" }, () => home.path, env),
        {
          kind: "ssh",
          address: { user: "ann", host: "box", port: undefined, url: "ssh://ann@box" },
          program: "/opt/cs",
          context: "box",
        },
      );
      assert.deepEqual(
        resolveTarget({ context: "lab" }, () => home.path, env),
        {
          kind: "ssh",
          address: { user: undefined, host: "lab", port: 2200, url: "ssh://lab:2200" },
          program: "/env/cs",
          context: "lab",
        },
      );
      const missing = clientError(() => resolveTarget({ context: "nope" }, () => home.path, {}));
      assert.equal(missing.code, Status.NOT_FOUND);
    } finally {
      home.remove();
    }
  });

  it("CLAUDE_SESSIONS_HOST is that host over ssh", () => {
    const target = resolveTarget({}, NO_HOME, { CLAUDE_SESSIONS_HOST: "ssh://box:2222" });
    assert.equal(target.kind, "ssh");
    assert.equal(target.kind === "ssh" && target.address.url, "ssh://box:2222");
    assert.equal(target.kind === "ssh" && target.program, "claude-sessions");
    assert.equal(target.kind === "ssh" && target.context, undefined);
  });

  it("CLAUDE_SESSIONS_CONTEXT is that context, before the stored current one", () => {
    const home = tempHome();
    try {
      writeContexts(home.path, {
        current: "box",
        contexts: { box: { host: "ssh://box" }, lab: { host: "ssh://lab" } },
      });
      const target = resolveTarget({}, () => home.path, { CLAUDE_SESSIONS_CONTEXT: "lab" });
      assert.equal(target.kind === "ssh" && target.context, "lab");
      assert.equal(target.kind === "ssh" && target.address.host, "lab");
    } finally {
      home.remove();
    }
  });

  it("with no flag and no environment, the stored current context, or the local daemon", () => {
    const home = tempHome();
    try {
      assert.deepEqual(
        resolveTarget({}, () => home.path, {}),
        {
          kind: "local",
          socket: undefined,
        },
      );
      writeContexts(home.path, {
        current: "box",
        contexts: { box: { host: "ssh://ann@box", program: "/opt/cs" } },
      });
      assert.deepEqual(
        resolveTarget({}, () => home.path, {}),
        {
          kind: "ssh",
          address: { user: "ann", host: "box", port: undefined, url: "ssh://ann@box" },
          program: "/opt/cs",
          context: "box",
        },
      );
      writeContexts(home.path, {
        current: undefined,
        contexts: { box: { host: "ssh://ann@box" } },
      });
      assert.deepEqual(
        resolveTarget({}, () => home.path, {}),
        {
          kind: "local",
          socket: undefined,
        },
      );
    } finally {
      home.remove();
    }
  });

  it("--context default is the local daemon, whatever the current context is", () => {
    const home = tempHome();
    try {
      writeContexts(home.path, { current: "box", contexts: { box: { host: "ssh://box" } } });
      assert.deepEqual(
        resolveTarget({ context: "default" }, () => home.path, {}),
        {
          kind: "local",
          socket: undefined,
        },
      );
    } finally {
      home.remove();
    }
  });
});

describe("daemon options before the command", () => {
  it("moves --host and its value after the command's words", () => {
    assert.deepEqual(hoistDaemonOptions(["--host", "ssh://x", "list", "-a"]), [
      "list",
      "-a",
      "--host=ssh://x",
    ]);
  });

  it("takes the --option=value form as it is", () => {
    assert.deepEqual(hoistDaemonOptions(["--context=box", "list"]), ["list", "--context=box"]);
  });

  it("moves several leading options, in their order", () => {
    assert.deepEqual(
      hoistDaemonOptions(["--context", "box", "--socket=/s", "--host", "ssh://h", "show", "api"]),
      ["show", "api", "--context=box", "--socket=/s", "--host=ssh://h"],
    );
  });

  it("leaves options that do not lead, and a --host with no value, where they are", () => {
    assert.deepEqual(hoistDaemonOptions(["list", "--host", "ssh://x"]), [
      "list",
      "--host",
      "ssh://x",
    ]);
    assert.deepEqual(hoistDaemonOptions(["--host"]), ["--host"]);
    assert.deepEqual(hoistDaemonOptions(["-a", "--host", "ssh://x", "list"]), [
      "-a",
      "--host",
      "ssh://x",
      "list",
    ]);
    assert.deepEqual(hoistDaemonOptions([]), []);
  });
});

describe("session table across hosts", () => {
  const NOW = Date.parse("2026-12-02T12:00:00Z");
  const sessions = [
    create(SessionSchema, {
      id: "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
      name: "api",
      workingDir: "/srv/api",
      state: SessionState.RUNNING,
      createdAt: timestampFromMs(NOW - 180_000),
      activity: Activity.WORKING,
      foregroundCommand: "claude",
    }),
    create(SessionSchema, {
      id: "77aa0000-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
      name: "web",
      workingDir: "/srv/web",
      state: SessionState.RUNNING,
      createdAt: timestampFromMs(NOW - 60_000),
      activity: Activity.IDLE,
      foregroundCommand: "bash",
    }),
  ];

  it("starts each row with its host, under HOST", () => {
    const lines = sessionTable(sessions, {
      color: false,
      width: 120,
      now: NOW,
      hosts: ["default", "build-box"],
    })
      .trimEnd()
      .split("\n");
    assert.equal(lines.length, 3);
    const [header = "", first = "", second = ""] = lines;
    assert.match(header, /^HOST +ID +NAME /);
    assert.match(first, /^default +3f2a9c1e +api /);
    assert.match(second, /^build-box +77aa0000 +web /);
    const idColumn = header.indexOf("ID");
    assert.equal(first.indexOf("3f2a9c1e"), idColumn);
    assert.equal(second.indexOf("77aa0000"), idColumn);
    for (const line of lines) assert.ok(line.length <= 120, line);
  });

  it("has no HOST column without hosts", () => {
    const table = sessionTable(sessions, { color: false, width: 120, now: NOW });
    assert.match(table, /^ID +NAME /);
    assert.ok(!table.includes("HOST"), table);
    assert.ok(!table.includes("default"), table);
  });
});
