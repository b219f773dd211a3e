import { Command, Option, UsageError } from "clipanion";
import type { Session } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand } from "../base-command.js";
import { parseLabelWords } from "../label-args.js";
import { ON_LIMIT_CHOICES, startLimits } from "../limit-args.js";
import {
  describeEnd,
  isLive,
  jsonText,
  printable,
  sessionJson,
  sessionMention,
} from "../output.js";
import { terminalSize } from "../session-args.js";
import { sessionLabel } from "../session-table.js";
import { attachTerminal } from "../terminal-attach.js";

/** How long a start watches its program for an end at once, to say so rather than "started". */
const SETTLE_MS = 500;

export class StartCommand extends BaseCommand {
  static override paths = [["start"]];
  static override passthrough = "[-- command...]";
  static override usage = Command.Usage({
    description: "Start a session",
    details: `
      Starts a program in a new pseudo-terminal run by the daemon, in the given directory (default: the current one). Relative directories resolve against the current directory; \`~\` expands.

      The program is Claude Code by default (\`claude --session-id <session id>\`, so the session id is the conversation id), or \`$CLAUDE_SESSIONS_COMMAND\`, or whatever follows \`--\`. The session gets this shell's environment and terminal size. A program that exits within 0.5 s is reported so, with how it ended (the exit code stays 0: the start worked).

      \`--worktree [branch]\` runs it in a new git worktree of the directory's repository, on a new branch (\`claude-sessions/<name>\`, else \`claude-sessions/<short id>\`, when none is given) from HEAD or \`--base\`, kept in $CLAUDE_SESSIONS_HOME/worktrees/<repository>-<hash>/<branch>; the untracked files the repository's \`.worktreeinclude\` names (as .gitignore patterns: \`.env\`) are copied in. \`rm\` removes the worktree, keeping the branch. \`--label key=value\` labels the session, for \`-l\` selectors.

      Limits (each defaults to the config file's, else none but 100 MiB of log): \`--max-memory\` bounds the resident memory of the program and every process it started, sampled every second; past it \`--on-limit\` warns (an event in the log and in \`watch\`), stops the session (STOPPED, its reason naming the limit) or restarts it (stopped, then resumed: Claude Code's conversation goes on). \`--nice\` runs it at that niceness. \`--max-log-size\` keeps that much of its log on disk, dropping the oldest output in whole segments; seq numbers go on, and a reader asking for dropped records is told how many.

      Starts the daemon if none is running.
    `,
    examples: [
      ["Start Claude Code in a project", "$0 start ~/src/api"],
      ["Name the session", "$0 start --name api ~/src/api"],
      ["Run another program", "$0 start . -- bash -l"],
      ["Start and attach at once", "$0 start --attach ."],
      ["In a worktree of its own, on branch feat-x", "$0 start --worktree feat-x ~/src/api"],
      ["With labels", "$0 start -l team=api -l role=review ."],
      [
        "Restarted past 2 GiB of memory, 50 MiB of log kept",
        "$0 start --max-memory 2G --on-limit restart --max-log-size 50M .",
      ],
    ],
  });

  protected override readonly daemonNeed = "answer";

  name = Option.String("--name", {
    description: "A unique name, usable instead of the id (not hexadecimal, which reads as an id)",
  });
  attach = Option.Boolean("--attach", false, { description: "Attach to the session once started" });
  json = Option.Boolean("--json", false, { description: "Print the session as JSON" });
  worktree = Option.String("--worktree", {
    tolerateBoolean: true,
    description:
      "Run in a new git worktree on a new branch (named after the session unless given: --worktree feat-x)",
  });
  base = Option.String("--base", {
    description: "What the worktree's branch starts from (default HEAD)",
  });
  labels = Option.Array("-l,--label", { description: "A label, key=value (repeatable)" });
  maxMemory = Option.String("--max-memory", {
    description:
      "The most resident memory the program's whole process tree may use (100M, 2G; 0: no limit)",
  });
  onLimit = Option.String("--on-limit", {
    description: `What passing --max-memory does: ${ON_LIMIT_CHOICES} (restart resumes it; default warn)`,
  });
  nice = Option.String("--nice", {
    description:
      "The program's niceness, -20 to 19 (--nice=-5 for a negative one, which needs privileges)",
  });
  maxLogSize = Option.String("--max-log-size", {
    description: "The most log kept on disk (5M, 1G; 0: all); older output goes in whole segments",
  });
  dir = Option.String({ required: false, name: "dir" });

  async run(): Promise<number> {
    const size = terminalSize(this.context.stdout);
    const labels = parseLabelWords(this.labels ?? [], "--label");
    const limits = startLimits(this);
    if (this.base !== undefined && this.worktree === undefined)
      throw new UsageError("--base is the start of a worktree's branch: give --worktree too");
    const worktree =
      this.worktree === undefined
        ? undefined
        : { branch: typeof this.worktree === "string" ? this.worktree : "", base: this.base ?? "" };
    const { session } = await this.call((client) =>
      client.sessions.startSession({
        workingDir: this.sessionDirectory(client, this.dir),
        command: this.context.passthrough ?? [],
        env: this.sessionEnvironment(client),
        name: this.name ?? "",
        ...(size ?? {}),
        labels,
        ...(worktree !== undefined && { worktree }),
        ...(limits !== undefined && { limits }),
      }),
    );
    if (session === undefined) throw new Error("the daemon returned no session");
    if (this.json) {
      this.context.stdout.write(`${jsonText(sessionJson(session), 2)}\n`);
    } else if (!this.attach) {
      const ended = await this.endedAtOnce(session);
      const started = ended
        ? `Session started, and exited at once: ${sessionMention(ended)} (${describeEnd(ended)})`
        : `✅ Session started: ${sessionMention(session)}`;
      this.context.stdout.write(
        `${started}\n${session.worktree ? `🌿 Worktree: ${printable(session.worktree.path)} on branch ${printable(session.worktree.branch)}\n` : ""}📂 Working directory: ${jsonText(session.workingDir)}\n📝 Logs: ${printable(session.logPath)}\n`,
      );
    }
    if (!this.attach) return 0;
    return attachTerminal(await this.daemon(), session.id, {
      readOnly: false,
      detachKeys: undefined,
      context: this.context,
      title: sessionLabel(session),
    });
  }

  /**
   * The session, if its program ended within {@link SETTLE_MS} of its start: the log's follow
   * stream completes when the session ends. A start is not a failure either way (exit 0).
   */
  private async endedAtOnce(session: Session): Promise<Session | undefined> {
    const client = await this.daemon(session.id);
    const stream = client.sessions.attachSession({ sessionId: session.id, follow: true });
    const timer = setTimeout(() => stream.cancel(), SETTLE_MS);
    try {
      for await (const _ of stream) {
        // Output says nothing about an end; the stream's completion does.
      }
    } catch {
      // Cancelled at SETTLE_MS: still running. Any other failure leaves the start reported as is.
      return undefined;
    } finally {
      clearTimeout(timer);
    }
    const { session: ended } = await client.sessions.getSession({ sessionId: session.id });
    return ended !== undefined && !isLive(ended) ? ended : undefined;
  }
}
