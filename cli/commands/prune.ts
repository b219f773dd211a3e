import { Command, Option } from "clipanion";
import { formatSize } from "../../daemon/common/sizes.js";
import type { Session } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand } from "../base-command.js";
import { durationMessage, parseDuration } from "../durations.js";
import { selectorOf } from "../label-args.js";
import {
  describeState,
  jsonText,
  printable,
  relativeAge,
  sessionJson,
  sessionMention,
} from "../output.js";

export class PruneCommand extends BaseCommand {
  static override paths = [["prune"]];
  static override usage = Command.Usage({
    description: "Forget ended sessions and delete their logs",
    details:
      "Removes every session that is not running (exited, stopped, failed or interrupted) and ended at least `--older-than` ago (default 0s: all of them), with its log and its git worktree (the branch is kept). A session whose worktree has uncommitted changes is kept, saying why (`rm --force` removes it). `-l key=value` prunes only the sessions whose labels match. `--dry-run` lists what would go and removes nothing.",
    examples: [
      ["See what would go", "$0 prune --dry-run"],
      ["Forget what ended more than a week ago", "$0 prune --older-than 7d"],
      ["Only the team's sessions", "$0 prune -l team=api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  olderThan = Option.String("--older-than", {
    description: "Only sessions that ended at least this long ago (7d, 12h, 30m; default 0s)",
  });
  selector = Option.Array("-l,--selector", {
    description: "Only the sessions whose labels match (repeatable: all must hold)",
  });
  dryRun = Option.Boolean("--dry-run", false, {
    description: "Say what would be removed, and remove nothing",
  });
  json = Option.Boolean("--json", false, {
    description: "Print what went and what stayed as JSON",
  });

  async run(): Promise<number> {
    const olderThan =
      this.olderThan === undefined ? 0 : parseDuration(this.olderThan, "--older-than");
    const result = await this.call((client) =>
      client.sessions.pruneSessions({
        olderThan: durationMessage(olderThan),
        labelSelector: selectorOf(this.selector),
        dryRun: this.dryRun,
      }),
    );
    const kept = result.kept.filter((entry) => entry.session !== undefined);
    if (this.json) {
      this.context.stdout.write(
        `${jsonText(
          {
            dry_run: this.dryRun,
            pruned: result.pruned.map(sessionJson),
            kept: kept.map((entry) => ({
              session: sessionJson(entry.session as Session),
              reason: entry.reason,
            })),
            log_bytes: Number(result.logBytes),
          },
          2,
        )}\n`,
      );
      return 0;
    }
    const verb = this.dryRun ? "Would prune" : "Pruned";
    const lines: string[] = [];
    for (const session of result.pruned)
      lines.push(
        `🗑️  ${verb} ${sessionMention(session)}: ${describeState(session)}, ${ended(session)}`,
      );
    for (const entry of kept)
      lines.push(`⚠️  Kept ${sessionMention(entry.session as Session)}: ${printable(entry.reason)}`);
    const count = result.pruned.length;
    lines.push(
      count === 0
        ? `Nothing to prune${kept.length > 0 ? ` (${kept.length} kept)` : ""}.`
        : `${verb} ${count} session${count === 1 ? "" : "s"} and ${formatSize(Number(result.logBytes))} of logs${this.dryRun ? " (a dry run: nothing was removed)" : ""}.`,
    );
    this.context.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  }
}

/** "ended 2d ago". */
function ended(session: Session): string {
  return `ended ${relativeAge(session.endedAt ?? session.createdAt)} ago`;
}
