/**
 * The API from another language: examples/python/generate.sh turns proto/ into Python stubs with
 * grpcio-tools, and examples/python/claude_sessions_client.py drives a real daemon with them,
 * exactly as its README tells a user to.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { type CliResult, runProgram } from "../helpers/cli.js";
import { DaemonFixture, type DaemonHandle } from "../helpers/daemon-fixture.js";
import { repoRoot } from "../helpers/paths.js";
import type { TempHome } from "../helpers/temp-home.js";
import { isAlive, waitFor } from "../helpers/wait.js";

/** Debian's interpreter: the one python3-grpcio and python3-grpc-tools install into. */
const python = "/usr/bin/python3";
const example = join(repoRoot, "examples/python");

function run(command: string, args: readonly string[], timeoutMs: number): Promise<CliResult> {
  return runProgram(command, args, {
    cwd: repoRoot,
    // No __pycache__ left in the working copy.
    env: { ...process.env, PYTHON: python, PYTHONDONTWRITEBYTECODE: "1" },
    timeoutMs,
  });
}

/** The text after `kind: ` on every line that starts with it. */
function printed(stdout: string, kind: string): string[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith(`${kind}: `))
    .map((line) => line.slice(kind.length + 2));
}

describe("examples/python: a client generated from proto/ drives a real daemon", () => {
  const fixture = new DaemonFixture();
  let daemon: DaemonHandle | undefined;
  let workDir: TempHome | undefined;

  before(async () => {
    // CI installs these; a machine without them must fail loudly, not skip.
    const probe = spawnSync(python, ["-c", "import grpc, grpc_tools.protoc"], {
      encoding: "utf8",
    });
    assert.equal(
      probe.status,
      0,
      `${python} cannot import grpc and grpc_tools; install python3-grpcio and python3-grpc-tools ` +
        `(apt-get install -y python3-grpcio python3-grpc-tools): ${probe.error?.message ?? probe.stderr}`,
    );
    daemon = await fixture.start();
    workDir = fixture.work;
  });

  after(async () => {
    await fixture.cleanup();
  });

  it("generate.sh writes the message and service modules into examples/python/gen", async () => {
    const result = await run(join(example, "generate.sh"), [], 60_000);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    for (const name of ["daemon", "session", "snapshot", "session_service"]) {
      for (const suffix of ["_pb2.py", "_pb2_grpc.py"]) {
        const file = join(example, "gen/claude_sessions/v1", `${name}${suffix}`);
        assert.ok(existsSync(file), `${file} was not generated`);
      }
    }
  });

  it("the client pings, starts bash, sees its output and screen, and stops it", async () => {
    assert.ok(daemon && workDir, "the daemon did not start");
    const result = await run(
      python,
      [join(example, "claude_sessions_client.py"), daemon.socket, workDir.path],
      60_000,
    );
    const all = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    assert.equal(result.code, 0, all);
    assert.equal(result.stderr, "", all);

    const [pong] = printed(result.stdout, "pong");
    assert.match(pong ?? "", new RegExp(`^version=\\S+ pid=${daemon.pid} `), all);

    const [started] = printed(result.stdout, "started");
    const id = /^([0-9a-f-]{36}) pid=(\d+) state=RUNNING$/.exec(started ?? "");
    assert.ok(id?.[1] && id[2], all);

    // Exactly the marker on a line: bash ran the command (the typed line also holds the marker,
    // but after the prompt and "echo ").
    assert.ok(printed(result.stdout, "output").includes("hello-from-python"), all);
    assert.ok(printed(result.stdout, "screen").includes("hello-from-python"), all);
    assert.ok(
      printed(result.stdout, "screen").some((line) => line.endsWith("echo hello-from-python")),
      all,
    );
    const stopped = printed(result.stdout, "stopped");
    assert.equal(stopped.length, 1, all);
    assert.match(stopped[0] ?? "", /^STOPPED\b/, all);

    // The daemon agrees, and the shell is gone.
    const { session } = await daemon.client.sessions.getSession({ sessionId: id[1] });
    assert.equal(session?.state, SessionState.STOPPED);
    assert.equal(session?.workingDir, workDir.path);
    assert.deepEqual(session?.command, ["bash", "--norc", "--noprofile"]);
    await waitFor("the session's bash to be gone", () => !isAlive(Number(id[2])), 5_000);
  });
});
