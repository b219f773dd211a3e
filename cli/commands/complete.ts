import { BaseCommand } from "../base-command.js";
import { complete } from "../completion.js";
import { LIVENESS_TIMEOUT_MS } from "../liveness.js";
import { STATE_NAMES } from "../output.js";

/**
 * `__complete -- <words>`: what the completion scripts run on each Tab. Hidden (no usage, so no
 * help lists it). It never starts a daemon and never fails: with none running, or one that does
 * not answer in time, it offers no session and says nothing.
 */
export class CompleteCommand extends BaseCommand {
  static override paths = [["__complete"]];
  static override passthrough = "[-- words...]";

  protected override readonly daemonNeed = "none";

  async run(): Promise<number> {
    const candidates = await complete(this.cli.definitions(), this.context.passthrough ?? [""], {
      states: STATE_NAMES,
      sessions: () => this.sessions(),
      snapshots: () => this.snapshots(),
    });
    for (const candidate of candidates) this.context.stdout.write(`${candidate}\n`);
    return 0;
  }

  /** The names, then the ids, of the daemon's snapshots; none if it does not answer at once. */
  private snapshots(): Promise<string[]> {
    return namesThenIds(() =>
      this.client()
        .sessions.listSnapshots({}, { deadline: Date.now() + LIVENESS_TIMEOUT_MS })
        .then((reply) => reply.snapshots),
    );
  }

  /** The names, then the ids, of the daemon's sessions; none if it does not answer at once. */
  private sessions(): Promise<string[]> {
    return namesThenIds(() =>
      this.client()
        .sessions.listSessions({}, { deadline: Date.now() + LIVENESS_TIMEOUT_MS })
        .then((reply) => reply.sessions),
    );
  }
}

/** The names (where given), then the ids, of what `list` lists; none if it fails. */
async function namesThenIds(
  list: () => Promise<ReadonlyArray<{ name: string; id: string }>>,
): Promise<string[]> {
  try {
    const items = await list();
    return [
      ...items.map((item) => item.name).filter((name) => name !== ""),
      ...items.map((item) => item.id),
    ];
  } catch {
    return [];
  }
}
