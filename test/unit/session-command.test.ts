/**
 * Which program a session runs: Claude Code by default with `--session-id <id>` (unless the user
 * already chose the conversation), `--resume <id>` to continue it, anything else as given.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  commandForFork,
  commandForResume,
  commandForStart,
  findExecutable,
  isClaudeCode,
  splitCommandLine,
} from "../../daemon/session/session-command.js";
import { SessionError } from "../../daemon/session/session-error.js";

const id = "3f0c9a1e-5b7d-4c2a-9e8f-1a2b3c4d5e6f";
/** Claude Code has written a transcript of every conversation asked about. */
const withTranscript = () => true;

describe("session command: start", () => {
  let saved: string | undefined;
  before(() => {
    saved = process.env.CLAUDE_SESSIONS_COMMAND;
    delete process.env.CLAUDE_SESSIONS_COMMAND;
  });
  after(() => {
    if (saved !== undefined) process.env.CLAUDE_SESSIONS_COMMAND = saved;
  });

  it("an empty command is claude with --session-id <the session id>", () => {
    assert.deepEqual(commandForStart([], id, {}), {
      argv: ["claude", "--session-id", id],
      claudeCode: true,
    });
  });

  it("the config file's command comes after CLAUDE_SESSIONS_COMMAND, before claude", () => {
    const configured = ["bash", "-l"];
    assert.deepEqual(commandForStart([], id, {}, configured).argv, ["bash", "-l"]);
    assert.deepEqual(
      commandForStart([], id, { CLAUDE_SESSIONS_COMMAND: "python3 -i" }, configured).argv,
      ["python3", "-i"],
    );
    assert.deepEqual(commandForStart(["vim"], id, {}, configured).argv, ["vim"]);
    assert.deepEqual(commandForStart([], id, {}, ["claude"]).argv, ["claude", "--session-id", id]);
  });

  it("claude with other arguments still gets --session-id, after them", () => {
    assert.deepEqual(commandForStart(["claude", "--model", "opus"], id, {}).argv, [
      "claude",
      "--model",
      "opus",
      "--session-id",
      id,
    ]);
    assert.deepEqual(commandForStart(["/opt/bin/claude"], id, {}).argv, [
      "/opt/bin/claude",
      "--session-id",
      id,
    ]);
  });

  it("claude whose arguments already pick the conversation is left alone", () => {
    for (const args of [
      ["--session-id", "11111111-2222-4333-8444-555555555555"],
      ["--session-id=11111111-2222-4333-8444-555555555555"],
      ["--resume", "abc"],
      ["--resume=abc"],
      ["-r", "abc"],
      ["--continue"],
      ["-c"],
      ["--model", "opus", "--continue"],
    ]) {
      const { argv, claudeCode } = commandForStart(["claude", ...args], id, {});
      assert.deepEqual(argv, ["claude", ...args], args.join(" "));
      assert.equal(claudeCode, true);
    }
  });

  it("any other program runs exactly as given", () => {
    for (const argv of [["bash"], ["python3", "-i"], ["vim", "--session-id"], ["claude-x"]]) {
      assert.deepEqual(commandForStart(argv, id, {}), { argv, claudeCode: false });
    }
  });

  it("CLAUDE_SESSIONS_COMMAND (session env first, then the daemon's) replaces the default", () => {
    assert.deepEqual(
      commandForStart([], id, { CLAUDE_SESSIONS_COMMAND: "bash --norc -c 'echo hi there'" }).argv,
      ["bash", "--norc", "-c", "echo hi there"],
    );
    assert.deepEqual(
      commandForStart([], id, { CLAUDE_SESSIONS_COMMAND: "claude --model opus" }).argv,
      ["claude", "--model", "opus", "--session-id", id],
    );
    process.env.CLAUDE_SESSIONS_COMMAND = "python3";
    try {
      assert.deepEqual(commandForStart([], id, {}).argv, ["python3"]);
      assert.deepEqual(commandForStart([], id, { CLAUDE_SESSIONS_COMMAND: "bash" }).argv, ["bash"]);
      // An explicit command wins over both.
      assert.deepEqual(commandForStart(["cat"], id, { CLAUDE_SESSIONS_COMMAND: "bash" }).argv, [
        "cat",
      ]);
    } finally {
      delete process.env.CLAUDE_SESSIONS_COMMAND;
    }
  });

  it("isClaudeCode looks at the program's base name", () => {
    assert.equal(isClaudeCode(["claude"]), true);
    assert.equal(isClaudeCode(["/usr/local/bin/claude", "-p"]), true);
    assert.equal(isClaudeCode(["bash", "claude"]), false);
    assert.equal(isClaudeCode([]), false);
  });
});

describe("session command: resume", () => {
  it("claude with no transcript of its conversation starts it afresh with --session-id <id>", () => {
    const other = "11111111-2222-4333-8444-555555555555";
    const asked: string[] = [];
    const none = (conversation: string) => {
      asked.push(conversation);
      return false;
    };
    assert.deepEqual(
      commandForResume(["claude", "--model", "opus", "--session-id", id], id, none),
      ["claude", "--model", "opus", "--session-id", id],
    );
    assert.deepEqual(commandForResume(["claude", "--resume", other], id, none), [
      "claude",
      "--session-id",
      other,
    ]);
    assert.deepEqual(asked, [id, other]);
    assert.deepEqual(commandForResume(["claude", "--continue"], id, none), [
      "claude",
      "--continue",
    ]);
    assert.deepEqual(commandForResume(["bash"], id, none), ["bash"]);
  });

  it("claude started with --session-id resumes with --resume <id>", () => {
    const started = commandForStart([], id, {}).argv;
    assert.deepEqual(commandForResume(started, id, withTranscript), ["claude", "--resume", id]);
    assert.deepEqual(
      commandForResume(["claude", "--model", "opus", "--session-id", id], id, withTranscript),
      ["claude", "--model", "opus", "--resume", id],
    );
  });

  it("claude started on another conversation resumes that conversation", () => {
    const other = "11111111-2222-4333-8444-555555555555";
    assert.deepEqual(commandForResume(["claude", `--session-id=${other}`], id, withTranscript), [
      "claude",
      "--resume",
      other,
    ]);
    assert.deepEqual(commandForResume(["claude", "--resume", other], id, withTranscript), [
      "claude",
      "--resume",
      other,
    ]);
    assert.deepEqual(commandForResume(["claude", "-r", other, "--verbose"], id, withTranscript), [
      "claude",
      "--verbose",
      "--resume",
      other,
    ]);
  });

  it("claude started with --continue continues again", () => {
    assert.deepEqual(commandForResume(["claude", "--continue"], id, withTranscript), [
      "claude",
      "--continue",
    ]);
    assert.deepEqual(commandForResume(["claude", "-c", "--verbose"], id, withTranscript), [
      "claude",
      "--verbose",
      "--continue",
    ]);
  });

  it("any other program runs again as it was", () => {
    assert.deepEqual(commandForResume(["bash", "--norc"], id, withTranscript), ["bash", "--norc"]);
    assert.deepEqual(commandForResume(["vim", "--resume", "x"], id, withTranscript), [
      "vim",
      "--resume",
      "x",
    ]);
  });
});

describe("session command: words and executables", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync("/tmp/csu-");
    mkdirSync(`${dir}/bin`);
    writeFileSync(`${dir}/bin/tool`, "#!/bin/sh\n");
    chmodSync(`${dir}/bin/tool`, 0o755);
    writeFileSync(`${dir}/bin/plain`, "not a program\n");
    chmodSync(`${dir}/bin/plain`, 0o644);
    // A script and a binary that only lack the execute bit.
    writeFileSync(`${dir}/bin/script`, "#!/bin/sh\n", { mode: 0o644 });
    writeFileSync(`${dir}/bin/binary`, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]), {
      mode: 0o644,
    });
    mkdirSync(`${dir}/bin/folder`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("splits a command line into words like a shell, without expansions", () => {
    assert.deepEqual(splitCommandLine(`a  "b c" 'd "e"' f\\ g "h\\"i" $HOME ''`), [
      "a",
      "b c",
      'd "e"',
      "f g",
      'h"i',
      "$HOME",
      "",
    ]);
    assert.deepEqual(splitCommandLine("   "), []);
    assert.throws(
      () => splitCommandLine("echo 'open"),
      (error: unknown) => {
        assert.ok(error instanceof SessionError);
        assert.equal(error.code, "invalid-argument");
        assert.match(error.message, /unterminated ' quote/);
        return true;
      },
    );
  });

  it("finds a program in the session's PATH, or by path relative to the working directory", () => {
    const env = { PATH: `/nonexistent:${dir}/bin` };
    assert.equal(findExecutable("tool", "/", env), `${dir}/bin/tool`);
    assert.equal(findExecutable("./bin/tool", dir, {}), `${dir}/bin/tool`);
    assert.equal(findExecutable(`${dir}/bin/tool`, "/", {}), `${dir}/bin/tool`);
  });

  it("a missing program is FAILED_PRECONDITION naming it and the fix", () => {
    const env = { PATH: `${dir}/bin` };
    const cases: Array<[string, RegExp]> = [
      ["no-such-program", /command not found: no-such-program in PATH/],
      ["folder", /command not found: folder/],
      [`${dir}/bin/missing`, new RegExp(`command not found: ${dir}/bin/missing;`)],
      ["claude", /Claude Code \(claude\) is not installed.*npm install -g/],
      ["plain", new RegExp(`${dir}/bin/plain is not a program \\(`)],
      ["script", new RegExp(`${dir}/bin/script is not executable; fix it with: chmod \\+x`)],
      ["binary", new RegExp(`${dir}/bin/binary is not executable; fix it with: chmod \\+x`)],
    ];
    for (const [program, message] of cases) {
      assert.throws(
        () => findExecutable(program, dir, env),
        (error: unknown) => {
          assert.ok(error instanceof SessionError);
          assert.equal(error.code, "failed-precondition");
          assert.match(error.message, message);
          return true;
        },
        program,
      );
    }
  });
});

describe("session command: fork", () => {
  const source = "11111111-2222-4333-8444-555555555555";

  it("claude continues the conversation in a new branch of it, named by the new session's id", () => {
    assert.deepEqual(
      commandForFork(["claude", "--model", "opus", "--session-id", source], source, id),
      ["claude", "--model", "opus", "--resume", source, "--fork-session", "--session-id", id],
    );
    // A fork of a fork branches off the conversation given, not the one its command names.
    const fork = commandForFork(
      ["claude", "--resume", "x", "--fork-session", "--session-id", source],
      source,
      id,
    );
    assert.deepEqual(fork, ["claude", "--resume", source, "--fork-session", "--session-id", id]);
  });

  it("claude with no conversation to branch from starts afresh; other programs run as they did", () => {
    assert.deepEqual(commandForFork(["claude", "--continue", "-p"], undefined, id), [
      "claude",
      "-p",
      "--session-id",
      id,
    ]);
    assert.deepEqual(commandForFork(["bash", "--norc"], source, id), ["bash", "--norc"]);
  });

  it("a fork resumes its own conversation once it has one, and branches off again while it has none", () => {
    const fork = commandForFork(["claude", "--session-id", source], source, id);
    assert.deepEqual(commandForResume(fork, id, withTranscript, id), ["claude", "--resume", id]);
    const onlySource = (conversation: string) => conversation === source;
    assert.deepEqual(commandForResume(fork, id, onlySource, id), fork);
    assert.deepEqual(
      commandForResume(fork, id, () => false, id),
      ["claude", "--session-id", id],
    );
  });
});
