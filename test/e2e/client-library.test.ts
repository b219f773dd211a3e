/**
 * `DaemonClient` as a program gets it: imported by the package's name (`claude-sessions` and
 * `claude-sessions/client`), from a project that has the package in its node_modules, talking
 * to a real daemon; what the package does not export cannot be imported.
 */
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runProgram } from "../helpers/cli.js";
import { type CliHome, cliHome } from "../helpers/cli-home.js";
import { repoRoot } from "../helpers/paths.js";
import { tempDir } from "../helpers/temp-home.js";

/** What the program below prints. */
interface Report {
  same: boolean;
  pid: number;
  sessions: string[];
  internal: string;
}

const program = `
import { DaemonClient } from "claude-sessions";
import { DaemonClient as FromSubpath } from "claude-sessions/client";

const client = DaemonClient.connect();
try {
  const { pid } = await client.daemon.ping({});
  const { sessions } = await client.sessions.listSessions({});
  let internal = "imported";
  try {
    await import("claude-sessions/dist/daemon/main.js");
  } catch (error) {
    internal = error.code;
  }
  console.log(JSON.stringify({ same: DaemonClient === FromSubpath, pid, sessions: sessions.map((s) => s.name), internal }));
} finally {
  client.close();
}
`;

describe("e2e: the client library, imported by the package's name", () => {
  let home: CliHome;
  const project = tempDir("csl-");

  before(() => {
    home = cliHome();
    // A project that depends on claude-sessions, as npm links a local package into it.
    mkdirSync(join(project.path, "node_modules"));
    symlinkSync(repoRoot, join(project.path, "node_modules", "claude-sessions"));
    writeFileSync(join(project.path, "package.json"), '{ "type": "module" }\n');
    writeFileSync(join(project.path, "main.js"), program);
  });

  after(async () => {
    await home.cleanup();
    project.remove();
  });

  it("connects to the daemon of CLAUDE_SESSIONS_HOME and calls it", async () => {
    await home.json(["start", "--name", "lib", "--", "sleep", "100"]);
    const result = await runProgram(process.execPath, ["main.js"], {
      cwd: project.path,
      env: { ...process.env, CLAUDE_SESSIONS_HOME: home.path },
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    assert.equal(report.same, true, "both entry points export the same DaemonClient");
    assert.equal(report.pid, home.daemonPid());
    assert.deepEqual(report.sessions, ["lib"]);
    assert.equal(report.internal, "ERR_PACKAGE_PATH_NOT_EXPORTED");
  });

  it("the CLI is still the package's bin", async () => {
    const result = await runProgram(
      join(project.path, "node_modules", "claude-sessions", "bin", "claude-sessions.js"),
      ["version"],
      {
        cwd: project.path,
        env: { ...process.env, CLAUDE_SESSIONS_HOME: home.path },
        timeoutMs: 30_000,
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^claude-sessions \d+\.\d+\.\d+\ndaemon /);
  });
});
