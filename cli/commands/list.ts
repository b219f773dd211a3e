import { Command, Option, UsageError } from "clipanion";
import { resolveHome } from "../../daemon/common/paths.js";
import { type Session, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand, EXIT_ERROR, warningLine } from "../base-command.js";
import { toClientError } from "../client-error.js";
import { selectorOf } from "../label-args.js";
import { jsonText, parseState, sessionBlock, sessionJson, stateName, useColor } from "../output.js";
import { DEFAULT_CONTEXT, readContexts } from "../remote/contexts.js";
import { contextTarget } from "../remote/target.js";
import { listAllSessions } from "../session-list.js";
import { sessionTable } from "../session-table.js";

/** What `list` shows without --all: sessions that run, or should. */
const ACTIVE = [SessionState.STARTING, SessionState.RUNNING, SessionState.INTERRUPTED];

export class ListCommand extends BaseCommand {
  static override paths = [["list"], ["ls"]];
  static override usage = Command.Usage({
    description: "List sessions",
    details: `
      Lists running and interrupted sessions, or every session with \`--all\`, oldest first, as a table: the id's first 8 characters (enough to name the session), the name, the state, what it is doing (working, waiting for input, idle) and its foreground command, the age (since it was created: 45s, 3m, 2h, 5d), the branch of its worktree if any session has one, and the directory, cut on the left to fit the terminal's width (80 columns when not a terminal). \`--all-contexts\` lists the sessions of every context (this machine's daemon, \`default\`, and each one \`context add\` named), asked in parallel, with a HOST column; a context that cannot be reached is one line of warning on stderr (exit 1 only if none could be). \`-l key=value\` (repeatable: every one must hold; also key!=value, key, !key) lists only the sessions whose labels match. \`--long\` prints every session's details in a block instead; \`--json\` prints a JSON array of sessions (the format is described in the README).
    `,
    examples: [
      ["Active sessions", "$0 list"],
      ["Every session, in detail", "$0 list --all --long"],
      ["Every session, as JSON", "$0 list --all --json"],
      ["Only exited sessions", "$0 list --state exited"],
      ["Only the sessions labelled team=api", "$0 list -l team=api"],
      ["The sessions of every machine", "$0 list --all-contexts"],
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

  allContexts = Option.Boolean("--all-contexts", false, {
    description: "The sessions of every context, with a HOST column",
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
    const selector = selectorOf(this.selector);
    let sessions: Session[];
    let hosts: string[] | undefined;
    if (this.allContexts) {
      const found = await this.everyContext(states, selector);
      if (found === undefined) return EXIT_ERROR;
      sessions = found.map(([, session]) => session);
      hosts = found.map(([host]) => host);
    } else {
      sessions = await this.call((client) => listAllSessions(client, states, selector));
    }
    const { stdout } = this.context;
    if (this.json) {
      const rows = sessions.map((session, index) => ({
        ...(hosts === undefined ? {} : { context: hosts[index] }),
        ...sessionJson(session),
      }));
      stdout.write(`${jsonText(rows, 2)}\n`);
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
      stdout.write(sessionTable(sessions, { color, width, hosts }));
      return 0;
    }
    const blocks = sessions.map(
      (session, index) =>
        `${hosts === undefined ? "" : `Context: ${hosts[index]}\n`}${sessionBlock(session, color)}`,
    );
    stdout.write(`📋 ${label} (${sessions.length}):\n\n${blocks.join("\n\n")}\n`);
    return 0;
  }

  /**
   * The sessions of every context, each with its context's name: this machine's first, then
   * the others by name, all asked at once. A context that cannot be reached is a warning;
   * undefined if none could be.
   */
  private async everyContext(
    states: readonly SessionState[],
    selector: string,
  ): Promise<Array<[string, Session]> | undefined> {
    if (this.host !== undefined || this.contextName !== undefined || this.socket !== undefined) {
      throw new UsageError(
        "--all-contexts lists every context; it takes no --host, --context or --socket",
      );
    }
    const home = resolveHome();
    const names = Object.keys(readContexts(home).contexts).sort();
    this.useLocalDaemon();
    if (names.length > 0) await this.loadSshTransport();
    const asked = [DEFAULT_CONTEXT, ...names].map(
      async (name): Promise<Array<[string, Session]>> => {
        const target = contextTarget(home, name, process.env);
        if (target.kind === "local") {
          const local = await this.call((client) => listAllSessions(client, states, selector));
          return local.map((session) => [name, session]);
        }
        const client = this.remoteClient(target);
        try {
          await client.connect();
          const remote = await listAllSessions(client, states, selector);
          return remote.map((session) => [name, session]);
        } catch (error) {
          throw toClientError(error, client.address);
        } finally {
          client.close();
        }
      },
    );
    const results = await Promise.allSettled(asked);
    const found: Array<[string, Session]> = [];
    results.forEach((result, index) => {
      if (result.status === "fulfilled") found.push(...result.value);
      else {
        const name = index === 0 ? DEFAULT_CONTEXT : (names[index - 1] as string);
        const { message } = result.reason as Error;
        this.context.stderr.write(warningLine(`context ${name}: ${message}`));
      }
    });
    return results.some((result) => result.status === "fulfilled") ? found : undefined;
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
