/**
 * `claude-sessions --host ssh://... list` (10 sessions on the far daemon) through a real sshd
 * on this machine, against `ssh host true` with the same config: what a remote command costs
 * above ssh's own round trip (the far `dial-stdio` starting, the hello, the call). Measured
 * twice: a new ssh connection per command, and over one shared connection (ssh's
 * ControlMaster, which the README suggests for frequent use). Needs root, for sshd and its
 * user; otherwise the row says so and measures nothing.
 */
import { join } from "node:path";
import { splitWords } from "../../cli/shell-quote.js";
import { cliBin } from "../../test/helpers/paths.js";
import { sshdSkip, startSshd, type TestSshd } from "../../test/helpers/sshd.js";
import { check, type Figure, type Row } from "../lib/figure.js";
import { timedRun } from "../lib/processes.js";
import { median } from "../lib/stats.js";

const SESSIONS = 10;
const RUNS = 15;
const WARM_UP = 2;
/** What a remote `list` may add to ssh's own round trip. */
const MAX_ADDED_MS = 250;

export const remoteListRow: Row = {
  name: "remote-list",
  title: "claude-sessions --host ssh:// list (10 sessions) vs ssh host true, through a real sshd",
  async run(log) {
    const skip = sshdSkip();
    if (skip !== false) {
      log(`skipped: ${skip}`);
      return [];
    }
    const sshd = await startSshd();
    try {
      const env = {
        ...process.env,
        // This side keeps nothing: no contexts, no daemon.
        CLAUDE_SESSIONS_HOME: join(sshd.userHome, "..", "local-home"),
        CLAUDE_SESSIONS_SSH_COMMAND: sshd.sshCommand,
        CLAUDE_SESSIONS_REMOTE_PROGRAM: sshd.program,
        NO_COLOR: "1",
      };
      for (let i = 0; i < SESSIONS; i++) {
        const started = await timedRun(
          process.execPath,
          [cliBin, "--host", sshd.url, "start", "~", "--", "sleep", "1000"],
          { env },
        );
        check(started.code === 0, `start over ssh exited with ${started.code}: ${started.stderr}`);
      }
      const shared = `${sshd.sshCommand} -o ControlMaster=auto -o ControlPersist=60 -o ControlPath=${join(sshd.userHome, "..", "mux-%C")}`;
      const figures = [
        ...(await measure(sshd, env, "a new ssh connection each", log)),
        ...(await measure(
          sshd,
          { ...env, CLAUDE_SESSIONS_SSH_COMMAND: shared },
          "one shared ssh connection (ControlMaster)",
          log,
        )),
      ];
      const stopped = await timedRun(
        process.execPath,
        [cliBin, "--host", sshd.url, "stop-daemon", "--stop-sessions", "--timeout", "1s"],
        { env },
      );
      check(stopped.code === 0, `stop-daemon over ssh exited with ${stopped.code}`);
      return figures;
    } finally {
      await sshd.dispose();
    }
  },
};

async function measure(
  sshd: TestSshd,
  env: NodeJS.ProcessEnv,
  how: string,
  log: (line: string) => void,
): Promise<Figure[]> {
  const [ssh = "ssh", ...sshArgs] = splitWords(env.CLAUDE_SESSIONS_SSH_COMMAND ?? "ssh");
  const port = sshd.url.replace(/^.*:/, "");
  const list = async () => {
    const run = await timedRun(process.execPath, [cliBin, "--host", sshd.url, "list"], { env });
    check(run.code === 0, `list over ssh exited with ${run.code}: ${run.stderr}`);
    const shown = run.stdout.trimEnd().split("\n").length - 1;
    check(shown === SESSIONS, `list over ssh showed ${shown} sessions: ${run.stdout}`);
    return run.ms;
  };
  const bare = async () => {
    const run = await timedRun(
      ssh,
      [...sshArgs, "-T", "-o", "BatchMode=yes", "-p", port, "-l", sshd.user, "127.0.0.1", "true"],
      { env },
    );
    check(run.code === 0, `ssh true exited with ${run.code}: ${run.stderr}`);
    return run.ms;
  };
  for (let i = 0; i < WARM_UP; i++) {
    await bare();
    await list();
  }
  const times = { list: [] as number[], bare: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      times.bare.push(await bare());
      times.list.push(await list());
    } else {
      times.list.push(await list());
      times.bare.push(await bare());
    }
  }
  log(`${how}: list ${times.list.map((ms) => ms.toFixed(0)).join(" ")} ms`);
  log(`${how}: ssh true ${times.bare.map((ms) => ms.toFixed(0)).join(" ")} ms`);
  return [
    {
      label: `list over ssh, ${how}: above ssh's own round trip`,
      unit: "ms",
      value: median(times.list),
      baseline: median(times.bare),
      target: { kind: "delta-max", limit: MAX_ADDED_MS },
      note: `median of ${RUNS}; baseline ssh host true, same config`,
    },
  ];
}
