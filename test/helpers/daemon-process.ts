/**
 * A real daemon process on a temporary home, for integration tests: started with
 * `dist/daemon/main.js --foreground`, talked to through the real socket and typed client.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { DaemonClient } from "../../cli/client.js";
import { homePaths } from "../../daemon/common/paths.js";
import { daemonMain } from "./paths.js";
import { type TempHome, tempHome } from "./temp-home.js";
import { isAlive, waitFor } from "./wait.js";

export interface DaemonHandle {
  home: string;
  socket: string;
  process: ChildProcess;
  pid: number;
  client: DaemonClient;
  /** Everything the daemon wrote to stderr so far. */
  output(): string;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait (a crash). */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export interface StartDaemonOptions {
  home?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /**
   * A command that sets something up and then execs the daemon (e.g. `prlimit --fsize=N`), so
   * the daemon keeps its pid.
   */
  wrapper?: string[];
  /** Options for the daemon's node (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/** Starts a daemon and waits until it answers Ping. */
export async function startDaemon(options: StartDaemonOptions = {}): Promise<DaemonHandle> {
  const home = options.home ?? tempHome().path;
  const paths = homePaths(home);
  const [program, ...args] = [
    ...(options.wrapper ?? []),
    process.execPath,
    ...(options.nodeArgs ?? []),
    daemonMain,
    "--foreground",
    ...(options.args ?? []),
  ] as [string, ...string[]];
  const child = spawn(program, args, {
    env: { ...process.env, ...options.env, CLAUDE_SESSIONS_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const client = new DaemonClient(paths.socket);
  try {
    await waitFor(
      "the daemon to answer",
      async () => {
        if (child.exitCode !== null)
          throw new Error(`daemon exited with ${child.exitCode}: ${output}`);
        return (await client.isRunning(500)) ? true : undefined;
      },
      15_000,
      30,
    );
  } catch (error) {
    child.kill("SIGKILL");
    client.close();
    throw error;
  }
  return {
    home,
    socket: paths.socket,
    process: child,
    pid: child.pid as number,
    client,
    output: () => output,
    exited,
    async stop() {
      client.close();
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      client.close();
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * A daemon on its own temp home, stopped and removed after the test (use in before/after
 * hooks). Sessions' processes are checked gone by the daemon's own shutdown.
 */
export async function withDaemon(): Promise<
  DaemonHandle & { cleanup(): Promise<void>; tempHome: TempHome }
> {
  const home = tempHome();
  const daemon = await startDaemon({ home: home.path });
  return {
    ...daemon,
    tempHome: home,
    async cleanup() {
      await daemon.stop();
      await waitFor("daemon exit", () => !isAlive(daemon.pid), 15_000);
      home.remove();
    },
  };
}

/** A daemon process started bare, for races and start-up failures: no waiting, no client. */
export interface RawDaemon {
  process: ChildProcess;
  pid: number;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

export function spawnDaemon(home: string, args: readonly string[] = []): RawDaemon {
  const child = spawn(process.execPath, [daemonMain, "--foreground", ...args], {
    env: { ...process.env, CLAUDE_SESSIONS_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  return { process: child, pid: child.pid as number, output: () => output, exited };
}

/** A raw daemon's exit code, or "still running" if it has not exited within `timeoutMs`. */
export function exitOf(daemon: RawDaemon, timeoutMs = 15_000): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    daemon.exited,
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("still running"), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}
