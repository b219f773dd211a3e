/**
 * Colour only on a terminal and never with NO_COLOR: the CLI's output through a pipe, and
 * through a real pseudo-terminal with and without NO_COLOR.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { spawn } from "node-pty";
import { type CliHome, cliHome } from "../helpers/cli-home.js";
import { cliBin } from "../helpers/paths.js";

/** An SGR sequence: what colours and bold look like on the wire. */
const SGR = /\x1b\[[0-9;]*m/;

/** Runs the CLI in a pseudo-terminal; resolves with everything it printed and its exit code. */
function runInTerminal(
  args: readonly string[],
  home: string,
  env: Record<string, string | undefined>,
): Promise<{ code: number; output: string }> {
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...env, CLAUDE_SESSIONS_HOME: home }))
    if (value !== undefined) environment[key] = value;
  return new Promise((resolve, reject) => {
    const terminal = spawn(process.execPath, [cliBin, ...args], {
      cols: 200,
      rows: 50,
      env: environment,
    });
    let output = "";
    terminal.onData((data) => {
      output += data;
    });
    const timer = setTimeout(() => {
      terminal.kill("SIGKILL");
      reject(new Error(`claude-sessions ${args.join(" ")} timed out in a terminal: ${output}`));
    }, 30_000);
    terminal.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve({ code: exitCode, output });
    });
  });
}

describe("e2e: colour", () => {
  let home: CliHome;
  let id: string;

  before(async () => {
    home = cliHome();
    await home.ok(["daemon"]);
    const session = await home.json<{ id: string }>(["start", "--name", "c", "--", "sleep", "100"]);
    id = session.id;
  });

  after(async () => {
    await home.cleanup();
  });

  const commands = [["list"], ["show", "c"], ["status"], ["list", "--bogus"], ["--help"]];

  it("a pipe gets no escape codes, even without NO_COLOR", async () => {
    for (const args of commands) {
      const result = await home.run(args, { env: { NO_COLOR: undefined } });
      assert.doesNotMatch(result.stdout, SGR, `stdout of ${args.join(" ")}`);
      assert.doesNotMatch(result.stderr, SGR, `stderr of ${args.join(" ")}`);
    }
  });

  it("a terminal gets no colour codes with NO_COLOR", async () => {
    for (const args of commands) {
      const { output } = await runInTerminal(args, home.path, { NO_COLOR: "1" });
      assert.doesNotMatch(output, SGR, `output of ${args.join(" ")}: ${JSON.stringify(output)}`);
    }
  });

  it("a terminal without NO_COLOR gets colour (so the checks above can fail)", async () => {
    const { code, output } = await runInTerminal(["list"], home.path, { NO_COLOR: undefined });
    assert.equal(code, 0, output);
    // The table shows the id's first 8 characters.
    assert.match(output, new RegExp(id.slice(0, 8)));
    assert.match(output, SGR);
  });
});
