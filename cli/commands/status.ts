import { existsSync } from "node:fs";
import { Command, Option } from "clipanion";
import type { DaemonCounters } from "../../gen/claude_sessions/v1/daemon_pb.js";
import { BaseCommand } from "../base-command.js";
import { LIVENESS_TIMEOUT_MS } from "../liveness.js";
import { jsonText, printable } from "../output.js";
import { RemoteError } from "../remote/remote-error.js";
import { CallError, Status } from "../rpc/call-error.js";

/** LSB: "program is not running". */
const EXIT_NOT_RUNNING = 3;

function formatUptime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d${hours % 24}h`;
}

/** The daemon's counters with the .proto's field names, as numbers. */
function countersJson(counters: DaemonCounters | undefined): Record<string, number> {
  return {
    terminal_backlog_limit_bytes: Number(counters?.terminalBacklogLimitBytes ?? 0),
    terminal_backlog_peak_bytes: Number(counters?.terminalBacklogPeakBytes ?? 0),
    terminal_resyncs: Number(counters?.terminalResyncs ?? 0),
    follower_held_limit_bytes: Number(counters?.followerHeldLimitBytes ?? 0),
    follower_held_peak_bytes: Number(counters?.followerHeldPeakBytes ?? 0),
    follower_file_reads: Number(counters?.followerFileReads ?? 0),
  };
}

export class StatusCommand extends BaseCommand {
  static override paths = [["status"]];
  static override usage = Command.Usage({
    description: "Tell whether the daemon is running",
    details: `
      Exits 0 when the daemon is running and 3 when it is not (the LSB convention), or when
      something holds its socket but does not answer within 3 seconds (said so). Never starts a
      daemon.
    `,
    examples: [
      ["Check the daemon", "$0 status"],
      ["Machine-readable", "$0 status --json"],
    ],
  });

  protected override readonly daemonNeed = "none";

  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const client = this.client();
    let ping: Awaited<ReturnType<typeof client.daemon.ping>> | undefined;
    let hung = false;
    try {
      ping = await client.daemon.ping({}, { deadline: Date.now() + LIVENESS_TIMEOUT_MS });
    } catch (error) {
      // The other machine could not be reached: that is not a daemon that is not running.
      if (error instanceof RemoteError && !error.notRunning) throw error;
      // Something accepted the connection but never answered.
      hung = error instanceof CallError && error.code === Status.DEADLINE_EXCEEDED;
    }
    if (ping === undefined) {
      const problem = hung
        ? `a process holds ${printable(client.address)} but does not answer; see daemon.log in its home`
        : undefined;
      if (this.json)
        this.context.stdout.write(
          `${jsonText({ running: false, socket: client.address, ...(problem ? { problem } : {}) })}\n`,
        );
      else if (problem !== undefined)
        this.context.stdout.write(`❌ Daemon is not answering: ${problem}\n`);
      else
        this.context.stdout.write(
          `❌ Daemon is not running${client.remote ? ` on ${printable(client.address)}` : ""}\n`,
        );
      return EXIT_NOT_RUNNING;
    }
    const uptimeMs =
      Number(ping.uptime?.seconds ?? 0) * 1000 + Math.floor((ping.uptime?.nanos ?? 0) / 1e6);
    if (this.json) {
      this.context.stdout.write(
        `${jsonText({
          running: true,
          pid: ping.pid,
          version: ping.version,
          uptime_ms: uptimeMs,
          home: ping.home,
          socket: client.address,
          config: ping.configPath || null,
          sessions: ping.sessionCount,
          running_sessions: ping.runningCount,
          counters: countersJson(ping.counters),
        })}\n`,
      );
    } else {
      this.context.stdout.write(
        `✅ Daemon is running (pid ${ping.pid}, version ${printable(ping.version)}, up ${formatUptime(uptimeMs)}, ${ping.runningCount} of ${ping.sessionCount} sessions running)\n${ping.configPath ? `⚙️  Config: ${printable(ping.configPath)}${existsSync(ping.configPath) ? "" : " (none: the built-in defaults)"}\n` : ""}`,
      );
    }
    return 0;
  }
}
