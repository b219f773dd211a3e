/**
 * The one way tests and benchmarks get a daemon. A {@link DaemonFixture} owns a temporary state
 * home and a temporary working directory; it starts real daemons on the home
 * (`dist/daemon/main.js --foreground`, waited for until they answer Ping, or bare for start-up
 * races), and its cleanup ends everything it started or that serves its home, whoever started
 * it (the CLI starts daemons of its own): clients closed, daemons stopped (killed if they do not
 * stop), session processes that outlived them killed, directories removed.
 *
 * `useDaemon()` gives a suite one running daemon; `fixturePerTest()` makes fixtures that are
 * cleaned up after each test, whatever its outcome.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { after, afterEach, before } from "node:test";
import { DaemonClient } from "../../cli/client.js";
import { homePaths } from "../../daemon/common/paths.js";
import { daemonMain } from "./paths.js";
import { carryingSessionId, daemonsFor, hostsFor, isRunning } from "./proc.js";
import { type TempHome, tempDir, tempHome } from "./temp-home.js";
import { waitFor } from "./wait.js";

/** A daemon started and waited for: it answered Ping on its socket. */
export interface DaemonHandle {
  home: string;
  socket: string;
  process: ChildProcess;
  pid: number;
  client: DaemonClient;
  /** Everything the daemon wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait (a crash). */
  kill(): Promise<void>;
  exited: Promise<number | null>;
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

export interface StartOptions {
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

export interface FixtureOptions {
  /**
   * A home the fixture uses but does not own (a small disk, a path the daemon must create):
   * daemons on it are ended at cleanup, the directory is left to its owner.
   */
  home?: string;
  /** Prefix of the temp directories' names. */
  prefix?: string;
}

/** How long a daemon gets to stop on SIGTERM at cleanup before it is killed. */
const STOP_MS = 30_000;

function spawnOn(home: string, options: StartOptions) {
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
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return { child, output: () => output };
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Sends SIGKILL to a process and to its process group (a session's program and its children). */
function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** A temporary home (and working directory) with the daemons started on it. */
export class DaemonFixture {
  readonly #options: FixtureOptions;
  #home: TempHome | undefined;
  #work: TempHome | undefined;
  readonly #handles: DaemonHandle[] = [];
  readonly #raw: RawDaemon[] = [];
  readonly #pids = new Set<number>();

  /** The environment sessions get in these tests: just a PATH. */
  readonly env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

  constructor(options: FixtureOptions = {}) {
    this.#options = options;
  }

  /** The state home: made on first use, unless the fixture was given one. */
  get home(): TempHome {
    if (this.#home === undefined) {
      const given = this.#options.home;
      this.#home =
        given === undefined
          ? tempHome(this.#options.prefix)
          : { path: given, remove: () => undefined };
    }
    return this.#home;
  }

  /** A directory sessions can run in: made on first use. */
  get work(): TempHome {
    this.#work ??= tempDir(
      this.#options.prefix === undefined ? undefined : `${this.#options.prefix}w-`,
    );
    return this.#work;
  }

  /** The daemon started last. */
  get daemon(): DaemonHandle {
    const daemon = this.#handles.at(-1);
    if (daemon === undefined) throw new Error("no daemon was started on this fixture");
    return daemon;
  }

  /** Starts a daemon on the home and waits until it answers Ping. */
  async start(options: StartOptions = {}): Promise<DaemonHandle> {
    const home = this.home.path;
    const paths = homePaths(home);
    const { child, output } = spawnOn(home, options);
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    const client = new DaemonClient(paths.socket);
    try {
      await waitFor(
        "the daemon to answer",
        async () => {
          if (child.exitCode !== null)
            throw new Error(`daemon exited with ${child.exitCode}: ${output()}`);
          return (await client.isRunning(500)) ? true : undefined;
        },
        // A daemon answers in well under a second; while the load tests start hundreds of
        // session hosts on two cores, a new one has waited more than 15 s for the CPU.
        30_000,
        30,
      );
    } catch (error) {
      child.kill("SIGKILL");
      client.close();
      await exited;
      throw error;
    }
    const handle: DaemonHandle = {
      home,
      socket: paths.socket,
      process: child,
      pid: child.pid as number,
      client,
      output,
      exited,
      async stop() {
        client.close();
        if (!hasExited(child)) child.kill("SIGTERM");
        return exited;
      },
      async kill() {
        client.close();
        if (!hasExited(child)) child.kill("SIGKILL");
        await exited;
      },
    };
    this.#handles.push(handle);
    return handle;
  }

  /** Spawns a daemon on the home without waiting for it. */
  spawn(args: readonly string[] = []): RawDaemon {
    const { child, output } = spawnOn(this.home.path, { args: [...args] });
    const exited = new Promise<number | string>((resolve) =>
      child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
    );
    const daemon = { process: child, pid: child.pid as number, output, exited };
    this.#raw.push(daemon);
    return daemon;
  }

  /** A session process that must not outlive the test, even if its daemon was killed. */
  reap(pid: number): void {
    if (pid > 0) this.#pids.add(pid);
  }

  /**
   * Ends everything: stops the daemons it started (SIGTERM, then
   * SIGKILL if they do not stop), kills the bare ones, ends any other daemon serving the home
   * (one the CLI started) the same way, kills the session processes it was told to reap, and
   * removes its directories. Safe to call more than once.
   */
  async cleanup(): Promise<void> {
    const ends: Array<Promise<unknown>> = [];
    for (const daemon of this.#handles.splice(0)) {
      const timer = setTimeout(() => daemon.process.kill("SIGKILL"), STOP_MS);
      ends.push(daemon.stop().finally(() => clearTimeout(timer)));
    }
    for (const daemon of this.#raw.splice(0)) {
      if (!hasExited(daemon.process)) daemon.process.kill("SIGKILL");
      ends.push(daemon.exited);
    }
    await Promise.all(ends);
    if (this.#home !== undefined) {
      for (const pid of daemonsFor(this.#home.path)) await this.#endDaemon(pid);
      await endHosts(this.#home.path);
    }
    for (const pid of this.#pids) if (isRunning(pid)) killGroup(pid);
    this.#pids.clear();
    this.#home?.remove();
    this.#work?.remove();
  }

  /** Ends a daemon the fixture did not start: SIGTERM, then SIGKILL if it does not stop. */
  async #endDaemon(pid: number): Promise<void> {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return;
    }
    try {
      await waitFor("a daemon of the home to stop", () => !isRunning(pid), STOP_MS, 50);
    } catch {
      killGroup(pid);
      await waitFor("a daemon of the home to die", () => !isRunning(pid), 5000);
    }
  }
}

/** How long the hosts of a home get to end their sessions on SIGTERM at cleanup. */
const HOST_STOP_MS = 10_000;

/**
 * Ends the session hosts of `home`, which outlive its daemons: SIGTERM (each ends its program
 * as a daemon stopping its sessions would), SIGKILL to those still there after
 * {@link HOST_STOP_MS}, and SIGKILL to any process that still carries one of the home's
 * session ids.
 */
export async function endHosts(home: string): Promise<void> {
  const hosts = hostsFor(home);
  for (const pid of hosts) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Gone already.
    }
  }
  try {
    await waitFor(
      "the hosts to end",
      () => hosts.every((pid) => !isRunning(pid)),
      HOST_STOP_MS,
      25,
    );
  } catch {
    for (const pid of hosts) if (isRunning(pid)) killGroup(pid);
  }
  let ids: string[] = [];
  try {
    ids = readdirSync(`${home}/logs`)
      .filter((name) => name.endsWith(".jsonl"))
      .map((name) => name.slice(0, -".jsonl".length));
  } catch {
    // No logs: no sessions.
  }
  for (const id of ids) for (const info of carryingSessionId(id)) killGroup(info.pid);
}

/**
 * One running daemon for the calling suite: started before its first test on a fixture of its
 * own, cleaned up after its last.
 */
export function useDaemon(options: StartOptions = {}): DaemonFixture {
  const fixture = new DaemonFixture();
  before(async () => {
    await fixture.start(options);
  });
  after(() => fixture.cleanup());
  return fixture;
}

/**
 * Fixtures for the calling file or suite: each one the returned function makes is cleaned up
 * after the test that made it, whatever its outcome.
 */
export function fixturePerTest(): (options?: FixtureOptions) => DaemonFixture {
  const made: DaemonFixture[] = [];
  afterEach(async () => {
    // The last made first: a fixture on another's home ends before that home is removed.
    for (const fixture of made.splice(0).reverse()) await fixture.cleanup();
  });
  return (options) => {
    const fixture = new DaemonFixture(options);
    made.push(fixture);
    return fixture;
  };
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
