import { Command, Option, UsageError } from "clipanion";
import { Activity, type Session } from "../../gen/claude_sessions/v1/session_pb.js";
import { SessionEventKind } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { BaseCommand } from "../base-command.js";
import { ClientError, daemonGone } from "../client-error.js";
import { parseDuration } from "../durations.js";
import { selectorOf } from "../label-args.js";
import {
  describeActivity,
  describeEnd,
  describeState,
  isLive,
  jsonText,
  sessionJson,
  sessionMention,
} from "../output.js";
import { Status } from "../rpc/call-error.js";
import { listAllSessions } from "../session-list.js";

/** What `--for` takes, and the activity each one means (none for `exited`). */
const GOALS = {
  waiting: Activity.WAITING_FOR_INPUT,
  idle: Activity.IDLE,
  working: Activity.WORKING,
  exited: undefined,
} as const;

type Goal = keyof typeof GOALS;

/** What `--for` takes, as completion offers it. */
export const WAIT_GOALS = Object.keys(GOALS) as readonly Goal[];

/** Exit code of a wait interrupted with Ctrl-C, as a shell reports it. */
const EXIT_INTERRUPTED = 130;

/** Whether `session` is as `goal` asks: its activity, or for `exited`, ended however it ended. */
export function hasReached(goal: Goal, session: Session): boolean {
  const activity = GOALS[goal];
  if (activity === undefined) return !isLive(session);
  return isLive(session) && session.activity === activity;
}

/** "idle", "exited (code 0)", "waiting: permission prompt": how a reached session is shown. */
function reachedText(goal: Goal, session: Session): string {
  return goal === "exited" ? describeState(session) : describeActivity(session);
}

export class WaitCommand extends BaseCommand {
  static override paths = [["wait"]];
  static override usage = Command.Usage({
    description: "Wait until sessions are waiting for input, idle, working or exited",
    details: `
      Waits until every session named (or, with \`-l key=value\`, every session whose labels match) is as \`--for\` says (with \`--any\`: until one is), printing a line for each as it gets there, and exits 0. \`waiting\`: it asks you something (a permission prompt, a question); \`idle\`: its turn is done, or its shell is at a prompt; \`working\`: it is at work; \`exited\`: its program has ended, however it ended. A session that already is so counts at once.

      Exits 1 when \`--timeout\` passes first (saying what each session still waiting is doing), when a session ends or is removed before it can get there, or when the daemon goes away; 130 when interrupted. \`--json\` prints each session as it gets there as one JSON object per line.
    `,
    examples: [
      ["Wait until Claude Code has finished its turn", "$0 wait api --for idle"],
      [
        "Until any of three needs you, for at most 10 minutes",
        "$0 wait a b c --any --for waiting --timeout 10m",
      ],
      ["Until a session has ended", "$0 wait build --for exited"],
      ["Until every session labelled team=api is idle", "$0 wait -l team=api --for idle"],
    ],
  });

  protected override readonly daemonNeed = "session";

  goal = Option.String("--for", {
    required: true,
    description: "waiting, idle, working or exited",
  });
  timeout = Option.String("-t,--timeout", {
    description: "Give up after this long (exit 1), e.g. 30s or 10m; default: no limit",
  });
  any = Option.Boolean("--any", false, { description: "Return when one session gets there" });
  json = Option.Boolean("--json", false, { description: "Print JSON lines" });
  selector = Option.Array("-l,--selector", {
    description: "Wait for the sessions whose labels match (repeatable: all must hold)",
  });
  ids = Option.Rest({ name: "id" });

  async run(): Promise<number> {
    if (!(this.goal in GOALS))
      throw new UsageError(`--for takes ${WAIT_GOALS.join(", ")}, got '${this.goal}'`);
    const goal = this.goal as Goal;
    const timeoutMs =
      this.timeout === undefined ? undefined : parseDuration(this.timeout, "--timeout");
    const started = Date.now();

    if (this.ids.length > 0 === (this.selector !== undefined))
      throw new UsageError(
        "name the sessions to wait for, or select them with -l key=value (not both)",
      );
    const client = await this.streamingDaemon(this.ids[0]);
    const sessions =
      this.selector === undefined
        ? await Promise.all(this.ids.map((id) => this.session(id)))
        : await this.call((c) => listAllSessions(c, [], selectorOf(this.selector)));
    if (sessions.length === 0)
      throw new ClientError(`no session matches -l ${selectorOf(this.selector)}`, Status.NOT_FOUND);
    /** The sessions not there yet, by id, as last seen. */
    const pending = new Map(sessions.map((session) => [session.id, session]));
    let reachedAny = false;
    /** Why a session can no longer get there; the first such reason is the error. */
    const lost: string[] = [];

    /** Takes `session`'s latest state; true once the wait is over, either way. */
    const see = (session: Session): boolean => {
      if (!pending.has(session.id)) return false;
      pending.set(session.id, session);
      if (hasReached(goal, session)) {
        pending.delete(session.id);
        reachedAny = true;
        this.context.stdout.write(
          this.json
            ? `${jsonText(sessionJson(session))}\n`
            : `${sessionMention(session)}: ${reachedText(goal, session)}\n`,
        );
      } else if (!isLive(session)) {
        pending.delete(session.id);
        lost.push(
          `${sessionMention(session)} ended (${describeEnd(session)}) before it was ${goal}`,
        );
      }
      // One that can no longer get there ends a wait for all; a wait for any, once none is left.
      return this.any ? reachedAny || pending.size === 0 : lost.length > 0 || pending.size === 0;
    };
    const outcome = (): number => {
      if (this.any ? reachedAny : lost.length === 0) return 0;
      throw new ClientError(lost[0] as string, Status.FAILED_PRECONDITION);
    };

    // Those already there count at once, with no watch to open.
    if (sessions.map(see).includes(true)) return outcome();

    // The watch lists every session first, then each change; a change made between the
    // GetSession calls above and the watch is in its listing.
    const stream = client.sessions.watchSessions({ includeExisting: true });
    let ending: "timeout" | "interrupt" | undefined;
    const end = (why: "timeout" | "interrupt") => {
      ending ??= why;
      stream.cancel();
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => end("timeout"), Math.max(0, timeoutMs - (Date.now() - started)));
    const interrupt = () => end("interrupt");
    process.once("SIGINT", interrupt);
    try {
      for await (const event of stream) {
        const { session } = event;
        if (session === undefined) continue;
        if (event.kind === SessionEventKind.REMOVED) {
          if (!pending.delete(session.id)) continue;
          lost.push(`${sessionMention(session)} was removed before it was ${goal}`);
          if (!this.any || pending.size === 0) return outcome();
          continue;
        }
        if (see(session)) return outcome();
      }
    } catch (error) {
      if (ending === undefined) throw error;
    } finally {
      clearTimeout(timer);
      process.off("SIGINT", interrupt);
      stream.cancel();
    }
    if (ending === "interrupt") return EXIT_INTERRUPTED;
    if (ending === "timeout") {
      const still = [...pending.values()]
        .map((session) => `${sessionMention(session)} is ${describeActivity(session)}`)
        .join("; ");
      throw new ClientError(
        `timed out after ${this.timeout} waiting for ${goal}: ${still}`,
        Status.DEADLINE_EXCEEDED,
      );
    }
    // The daemon ends a watch only when it shuts down.
    throw daemonGone(this.address, "it ended the watch");
  }

  /** The session `id` names, as it is now. */
  private async session(id: string): Promise<Session> {
    const { session } = await this.call((c) => c.sessions.getSession({ sessionId: id }), id);
    if (session === undefined) throw new Error("the daemon returned no session");
    return session;
  }
}
