import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { jsonText, printable, useColor } from "../output.js";
import { snapshotDetails, snapshotJson, snapshotTable } from "../snapshot-output.js";
import { GIT_WORK_MS } from "./branch-off.js";

export class SnapshotCommand extends BaseCommand {
  static override paths = [["snapshot"]];
  static override usage = Command.Usage({
    description: "Record a point of a session, to restore later",
    details: `
      Records the session as it is now, running or ended: its screen (with its colours), how far its log has come (its seq), a copy of its Claude Code conversation's transcript, and, in a git repository, every file as a git commit, uncommitted changes and untracked files included (ignored ones are not). The commit is made as \`git stash create\` makes one, without touching the working tree or the index, and is kept under \`refs/claude-sessions/snapshots/<id>\` so that \`git gc\` keeps it.

      A snapshot outlives its session: \`rm\` of the session keeps it; \`snapshot rm\` forgets it. \`restore\` starts a new session from it.
    `,
    examples: [
      ["Snapshot a session", "$0 snapshot api --name before-refactor"],
      ["List its snapshots", "$0 snapshots api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  name = Option.String("--name", { description: "A name for the snapshot" });
  json = Option.Boolean("--json", false, { description: "Print the snapshot as JSON" });
  id = Option.String({ name: "id" });

  async run(): Promise<number> {
    const { snapshot } = await this.call(
      (client) =>
        client.sessions.createSnapshot(
          {
            sessionId: this.id,
            name: this.name ?? "",
            env: this.sessionEnvironment(client),
          },
          { deadline: client.deadlineAfter(GIT_WORK_MS) },
        ),
      this.id,
    );
    if (snapshot === undefined) throw new Error("the daemon returned no snapshot");
    if (this.json) {
      this.context.stdout.write(`${jsonText(snapshotJson(snapshot), 2)}\n`);
      return 0;
    }
    const files = snapshot.files;
    const lines = [
      `📸 Snapshot taken: ${snapshot.id}${snapshot.name ? ` (${printable(snapshot.name)})` : ""} at log seq ${snapshot.seq}`,
      files
        ? `🌿 Files: commit ${files.commit.slice(0, 12)} (${files.changedFileCount} changed file${files.changedFileCount === 1 ? "" : "s"}${files.uncommitted ? ", uncommitted changes included" : ""}), kept as ${printable(files.ref)}`
        : "🌿 Files: not recorded (not in a git repository)",
      ...(snapshot.claudeCode
        ? [
            snapshot.hasTranscript
              ? `💬 Conversation: ${printable(snapshot.conversationId)} (transcript copied)`
              : "💬 Conversation: none yet (no prompt was sent)",
          ]
        : []),
      `↩️  Restore it with: claude-sessions restore ${printable(snapshot.name) || snapshot.id.slice(0, 8)}`,
    ];
    this.context.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  }
}

export class SnapshotsCommand extends BaseCommand {
  static override paths = [["snapshots"], ["snapshot", "ls"]];
  static override usage = Command.Usage({
    description: "List snapshots",
    details: `
      Lists every snapshot, oldest first, or those of one session (by its id, prefix or name; a session removed since by its full id): when it was taken, its name, its session, its log seq, its commit and how many files it changed (since the worktree's base commit, or, outside a worktree of ours, since HEAD).
    `,
    examples: [
      ["Every snapshot", "$0 snapshots"],
      ["A session's snapshots, as JSON", "$0 snapshots api --json"],
    ],
  });

  protected override readonly daemonNeed = "answer";

  json = Option.Boolean("--json", false, { description: "Print the snapshots as JSON" });
  id = Option.String({ required: false, name: "id" });

  async run(): Promise<number> {
    const { snapshots } = await this.call((client) =>
      client.sessions.listSnapshots({ sessionId: this.id ?? "" }),
    );
    if (this.json) {
      this.context.stdout.write(`${jsonText(snapshots.map(snapshotJson), 2)}\n`);
      return 0;
    }
    if (snapshots.length === 0) {
      this.context.stdout.write(
        `No snapshots${this.id ? ` of ${printable(this.id)}` : ""}. Take one with: claude-sessions snapshot <id>\n`,
      );
      return 0;
    }
    this.context.stdout.write(`${snapshotTable(snapshots)}\n`);
    return 0;
  }
}

export class SnapshotShowCommand extends BaseCommand {
  static override paths = [["snapshot", "show"]];
  static override usage = Command.Usage({
    description: "Show a snapshot: its details and its screen",
    details: `
      Prints what the snapshot recorded, the files it changed, and the screen as text; \`--screen\` prints the screen alone with its colours (the escape sequences that draw it), for a terminal to show.
    `,
    examples: [["Show a snapshot", "$0 snapshot show before-refactor"]],
  });

  protected override readonly daemonNeed = "session";

  json = Option.Boolean("--json", false, { description: "Print the snapshot as JSON" });
  screen = Option.Boolean("--screen", false, {
    description: "Print the screen alone, with its escape sequences",
  });
  snapshot = Option.String({ name: "snapshot" });

  async run(): Promise<number> {
    const { snapshot, screenFrame } = await this.call((client) =>
      client.sessions.getSnapshot({ snapshotId: this.snapshot }),
    );
    if (snapshot === undefined) throw new Error("the daemon returned no snapshot");
    if (this.screen) this.context.stdout.write(`${screenFrame}\x1b[0m\n`);
    else if (this.json) this.context.stdout.write(`${jsonText(snapshotJson(snapshot), 2)}\n`);
    else
      this.context.stdout.write(
        `${snapshotDetails(snapshot, useColor(this.context.stdout))}\n\n${snapshot.screenText.split("\n").map(printable).join("\n")}\n`,
      );
    return 0;
  }
}

export class SnapshotRemoveCommand extends BaseCommand {
  static override paths = [["snapshot", "rm"]];
  static override usage = Command.Usage({
    description: "Forget snapshots",
    details: `
      Forgets each snapshot: its screen, its copy of the transcript and its git ref (so \`git gc\` may drop its commit). Sessions restored from it are not touched.
    `,
    examples: [["Forget a snapshot", "$0 snapshot rm before-refactor"]],
  });

  protected override readonly daemonNeed = "session";

  snapshots = Option.Rest({ required: 1, name: "snapshot" });

  async run(): Promise<number> {
    let failed = 0;
    for (const query of this.snapshots) {
      try {
        const { snapshot } = await this.call((client) =>
          client.sessions.removeSnapshot({ snapshotId: query }),
        );
        this.context.stdout.write(
          `🗑️  Snapshot removed: ${snapshot?.id ?? query}${snapshot?.name ? ` (${printable(snapshot.name)})` : ""}\n`,
        );
      } catch (error) {
        if (this.snapshots.length === 1) throw error;
        failed++;
        this.context.stderr.write(`claude-sessions: ${printable((error as Error).message)}\n`);
      }
    }
    return failed > 0 ? 1 : 0;
  }
}
