import { Command, Option } from "clipanion";
import { delay } from "../../daemon/common/async.js";
import { DEFAULT_GRACE_MS } from "../../daemon/common/grace.js";
import { BaseCommand, EXIT_ERROR } from "../base-command.js";
import { durationMessage, parseDuration } from "../durations.js";

export class StopDaemonCommand extends BaseCommand {
  static override paths = [["stop-daemon"]];
  static override usage = Command.Usage({
    description: "Stop the daemon",
    details: `
      Asks the daemon to shut down: running sessions get SIGTERM (SIGKILL after the grace period) and become interrupted, so \`daemon --resume\` brings them back; logs are flushed and the state is written. Waits until the daemon is gone. Never starts a daemon.
    `,
    examples: [
      ["Stop the daemon", "$0 stop-daemon"],
      ["Give sessions 10 seconds to exit", "$0 stop-daemon --timeout 10s"],
    ],
  });

  protected override readonly daemonNeed = "none";

  timeout = Option.String("--timeout", {
    description: "Grace period between SIGTERM and SIGKILL (default 5s)",
  });

  async run(): Promise<number> {
    const client = this.client();
    if (!(await client.isRunning())) {
      this.context.stdout.write("Daemon is not running\n");
      return 0;
    }
    const grace = this.timeout === undefined ? undefined : parseDuration(this.timeout, "--timeout");
    const { pid } = await this.call((daemon) =>
      daemon.daemon.shutdown(grace === undefined ? {} : { gracePeriod: durationMessage(grace) }, {
        deadline: daemon.deadlineAfter(grace ?? DEFAULT_GRACE_MS),
      }),
    );
    // Wait for the process to be gone, so a following `daemon` starts cleanly.
    const waitMs = (grace ?? DEFAULT_GRACE_MS) + 10_000;
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && isAlive(pid)) await delay(25);
    if (isAlive(pid)) {
      this.context.stderr.write(
        `error: the daemon (pid ${pid}) is still running ${waitMs / 1000}s after it was asked to stop; end it with: kill -9 ${pid}\n`,
      );
      return EXIT_ERROR;
    }
    this.context.stdout.write(`✅ Daemon stopped (pid ${pid})\n`);
    return 0;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
