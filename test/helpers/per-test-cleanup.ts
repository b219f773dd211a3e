/**
 * What a test that starts and crashes its own daemons leaves to clean up: daemons (stopped),
 * raw daemon processes (killed), session processes the daemon may have failed to end (killed)
 * and temp directories (removed), all after each test, whatever its outcome.
 */
import { afterEach } from "node:test";
import {
  type DaemonHandle,
  type RawDaemon,
  type StartDaemonOptions,
  spawnDaemon,
  startDaemon,
} from "./daemon-process.js";
import { isRunning } from "./proc.js";
import { type TempHome, tempDir, tempHome } from "./temp-home.js";

export interface PerTestCleanup {
  daemons: DaemonHandle[];
  raw: RawDaemon[];
  pids: number[];
  dirs: TempHome[];
  /** A temp state home and a temp working directory. */
  tempDirs(): { home: TempHome; work: TempHome };
  /** Starts a daemon that is stopped after the test. */
  daemon(options: StartDaemonOptions): Promise<DaemonHandle>;
  /** Spawns a daemon process without waiting for it; killed after the test. */
  spawn(home: string): RawDaemon;
  /** Forgets a daemon the test ended itself (a crash). */
  forget(daemon: DaemonHandle): void;
}

/** Registers the after-each hook of the calling test file. */
export function perTestCleanup(): PerTestCleanup {
  const cleanup: PerTestCleanup = {
    daemons: [],
    raw: [],
    pids: [],
    dirs: [],
    tempDirs() {
      const home = tempHome();
      const work = tempDir();
      cleanup.dirs.push(home, work);
      return { home, work };
    },
    async daemon(options) {
      const daemon = await startDaemon(options);
      cleanup.daemons.push(daemon);
      return daemon;
    },
    spawn(home) {
      const daemon = spawnDaemon(home);
      cleanup.raw.push(daemon);
      return daemon;
    },
    forget(daemon) {
      const index = cleanup.daemons.indexOf(daemon);
      if (index >= 0) cleanup.daemons.splice(index, 1);
    },
  };
  afterEach(async () => {
    for (const daemon of cleanup.daemons.splice(0)) await daemon.stop();
    for (const daemon of cleanup.raw.splice(0)) {
      if (daemon.process.exitCode === null && daemon.process.signalCode === null) {
        daemon.process.kill("SIGKILL");
      }
      await daemon.exited;
    }
    // A process the daemon failed to end must not outlive the test.
    for (const pid of cleanup.pids.splice(0)) {
      if (isRunning(pid)) process.kill(pid, "SIGKILL");
    }
    for (const dir of cleanup.dirs.splice(0)) dir.remove();
  });
  return cleanup;
}
