import { Command, Option, UsageError } from "clipanion";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand } from "../base-command.js";
import { selectorOf } from "../label-args.js";
import { jsonText, parseState, sessionBlock, sessionJson, stateName, useColor } from "../output.js";
import { listAllSessions } from "../session-list.js";
import { sessionTable } from "../session-table.js";

/** What `list` shows without --all: sessions that run, or should. */
const ACTIVE = [SessionState.STARTING, SessionState.RUNNING, SessionState.INTERRUPTED];

export class ListCommand extends BaseCommand {
  static override paths = [["list"], ["ls"]];
  static override usage = Command.Usage({
    description: "List sessions",
    details: `
      Lists running and interrupted sessions, or every session with \`--all\`, oldest first, as a table: the id's first 8 characters (enough to name the session), the name, the state, what it is doing (working, waiting for input, idle) and its foreground command, the age (since it was created: 45s, 3m, 2h, 5d), the branch of its worktree if any session has one, and the directory, cut on the left to fit the terminal's width (80 columns when not a terminal). \`-l key=value\` (repeatable: every one must hold; also key!=value, key, !key) lists only the sessions whose labels match. \`--long\` prints every session's details in a block instead; \`--json\` prints a JSON array of sessions (the format is described in the README).
    `,
    examples: [
      ["Active sessions", "$0 list"],
      ["Every session, in detail", "$0 list --all --long"],
      ["Every session, as JSON", "$0 list --all --json"],
      ["Only exited sessions", "$0 list --state exited"],
      ["Only the sessions labelled team=api", "$0 list -l team=api"],
    ],
  });

  protected override readonly daemonNeed = "answer";

  all = Option.Boolean("-a,--all", false, { description: "Include ended sessions" });
  long = Option.Boolean("--long", false, { description: "Print each session in detail" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });
  state = Option.Array("--state", { description: "Only sessions in this state (repeatable)" });
  selector = Option.Array("-l,--selector", {
    description:
      "Only sessions whose labels match: key=value, key!=value, key, !key (repeatable: all must hold)",
  });

  async run(): Promise<number> {
    const states: SessionState[] = [];
    for (const name of this.state ?? []) {
      const state = parseState(name);
      if (state === undefined) {
        throw new UsageError(
          `unknown state '${name}'; use starting, running, exited, stopped, failed or interrupted`,
        );
      }
      states.push(state);
    }
    const label = listTitle(states, this.all);
    if (states.length === 0 && !this.all) states.push(...ACTIVE);
    const sessions = await this.call((client) =>
      listAllSessions(client, states, selectorOf(this.selector)),
    );
    const { stdout } = this.context;
    if (this.json) {
      stdout.write(`${jsonText(sessions.map(sessionJson), 2)}\n`);
      return 0;
    }
    if (sessions.length === 0) {
      stdout.write(`📋 No ${label.toLowerCase()}. Start one with: claude-sessions start <dir>\n`);
      return 0;
    }
    const color = useColor(stdout);
    if (!this.long) {
      const width = (stdout as NodeJS.WriteStream).isTTY
        ? (stdout as NodeJS.WriteStream).columns
        : undefined;
      stdout.write(sessionTable(sessions, { color, width }));
      return 0;
    }
    stdout.write(
      `📋 ${label} (${sessions.length}):\n\n${sessions.map((session) => sessionBlock(session, color)).join("\n\n")}\n`,
    );
    return 0;
  }
}

/**
 * What the listed sessions are, from the states asked for: "Exited or stopped sessions";
 * "Active sessions" by default, "Sessions" with `--all`.
 */
function listTitle(states: readonly SessionState[], all: boolean): string {
  if (states.length === 0) return all ? "Sessions" : "Active sessions";
  const names = [...new Set(states.map(stateName))];
  const last = names.pop() as string;
  const words = names.length > 0 ? `${names.join(", ")} or ${last}` : last;
  return `${words.charAt(0).toUpperCase()}${words.slice(1)} sessions`;
}
