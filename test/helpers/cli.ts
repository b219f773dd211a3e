/** Running the built `claude-sessions` binary as a user would. */
import { spawn } from "node:child_process";
import { cliBin } from "./paths.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` to its end and collects its output; rejects (after SIGKILL) if it runs longer
 * than `timeoutMs`.
 */
export function runProgram(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string; timeoutMs: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`${command} ${args.join(" ")} timed out; stdout: ${stdout}; stderr: ${stderr}`),
      );
    }, options.timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

export function runCli(
  args: readonly string[],
  options: {
    home: string;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    input?: string;
    timeoutMs?: number;
  },
): Promise<CliResult> {
  return runProgram(process.execPath, [cliBin, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, NO_COLOR: "1", ...options.env, CLAUDE_SESSIONS_HOME: options.home },
    ...(options.input === undefined ? {} : { input: options.input }),
    timeoutMs: options.timeoutMs ?? 30_000,
  });
}

/**
 * Starts a session named `name` running an interactive bash free of the user's startup files,
 * through the CLI (`run` is a CLI bound to a home); fails the test if the start fails.
 */
export async function startShellSession(
  run: (...args: string[]) => Promise<CliResult>,
  name: string,
  dir: string,
): Promise<void> {
  const started = await run(
    "start",
    "--name",
    name,
    dir,
    "--",
    "bash",
    "--norc",
    "--noprofile",
    "-i",
  );
  if (started.code !== 0) throw new Error(`start of ${name} failed: ${started.stderr}`);
}
