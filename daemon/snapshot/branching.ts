/**
 * Fork and snapshots: the three things that make an agent's state (its conversation, the files
 * it changed, its screen) taken together. A fork branches a session now: a new worktree whose
 * branch starts at the source's HEAD with its uncommitted changes carried over, and Claude
 * Code's conversation continued in a new branch of it (`--resume <it> --fork-session`). A
 * snapshot records them for later (a git commit under a ref of ours, a copy of the transcript,
 * the screen); a restore makes a new session from one, as a fork from that point.
 */
import { randomUUID } from "node:crypto";
import {
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { HomePaths } from "../common/paths.js";
import type { Logger } from "../server/logger.js";
import { claudeProjectDir, findClaudeTranscript } from "../session/claude-transcript.js";
import { checkLabels } from "../session/labels.js";
import type { Session } from "../session/session.js";
import {
  chosenConversation,
  commandForFork,
  forkedConversation,
} from "../session/session-command.js";
import { SessionError } from "../session/session-error.js";
import type { SessionManager } from "../session/session-manager.js";
import type { SessionOrigin, SessionRecord } from "../session/session-record.js";
import { checkNewName, checkSize, checkWorkingDir } from "../session/session-validation.js";
import {
  addWorktree,
  defaultBranch,
  discardWorktree,
  type WorktreeRecord,
} from "../session/worktree.js";
import {
  captureWorktreeState,
  changedFiles,
  dropRef,
  hasCommit,
  keepRef,
} from "../session/worktree-state.js";
import { type SnapshotRecord, SnapshotStore, snapshotRef } from "./snapshot-store.js";

/** What the new session of a fork or a restore gets; what is left out comes from the source. */
export interface BranchOptions {
  name?: string;
  labels?: Readonly<Record<string, string>>;
  branch?: string;
  env?: Readonly<Record<string, string>>;
  cols?: number | undefined;
  rows?: number | undefined;
}

/** Where a new session branches off: the files, the conversation, the screen. */
interface BranchPoint {
  record: Pick<SessionRecord, "command" | "claudeCode" | "workingDir"> & {
    limits?: SessionRecord["limits"] | undefined;
  };
  /** The state of its files (stash-like commit), or undefined outside git. */
  files?: {
    repository: string;
    head: string;
    commit: string;
    relativeDir: string;
    uncommitted: boolean;
  };
  /** Claude Code: the conversation and the transcript to branch it from. */
  conversation?: { id: string; transcript: string };
  /** A conversation id for the transcript's copy if the new directory has another by its id. */
  spareConversationId: string;
  labels: Readonly<Record<string, string>>;
  size: { cols: number; rows: number };
  origin: SessionOrigin;
  event: string;
  placeholder?: string;
}

export class Branching {
  readonly snapshots: SnapshotStore;

  constructor(
    private readonly manager: SessionManager,
    private readonly paths: HomePaths,
    private readonly logger: Logger,
  ) {
    this.snapshots = new SnapshotStore(paths.snapshots);
  }

  /** Reads the snapshots on disk; one that cannot be read is skipped, and logged. */
  load(): void {
    for (const problem of this.snapshots.load()) this.logger.warn(problem);
  }

  /** A new session branching off `query`'s session as it is now (see the module's comment). */
  async fork(query: string, options: BranchOptions): Promise<Session> {
    const source = this.manager.get(query);
    const { record } = source;
    const called = record.name || record.id;
    checkNewName(options.name ?? "");
    checkDirectoryThere(record);
    const env = this.manager.environmentFor(options.env, record.id);
    const conversation = this.conversationOf(record, env);
    const state = await captureWorktreeState(
      record.workingDir,
      `fork of session ${called}`,
      this.paths.run,
    );
    return this.branchOff(options, {
      record,
      ...(state !== undefined && { files: state }),
      ...(conversation !== undefined && { conversation }),
      spareConversationId: randomUUID(),
      labels: record.labels ?? {},
      size: { cols: record.cols, rows: record.rows },
      origin: {
        sessionId: record.id,
        ...(conversation !== undefined && { conversationId: conversation.id }),
        ...(state !== undefined && { commit: state.commit }),
      },
      event: `forked from session ${record.id}`,
    });
  }

  /** Records `query`'s session as it is now: screen, seq, transcript and files. */
  async snapshot(
    query: string,
    options: { name?: string; env?: Readonly<Record<string, string>> },
  ): Promise<SnapshotRecord> {
    if (this.manager.isClosing)
      throw new SessionError(
        "unavailable",
        "the daemon is shutting down; snapshot it once it runs again",
      );
    const session = this.manager.get(query);
    const { record } = session;
    const called = record.name || record.id;
    const name = checkNewName(options.name ?? "");
    if (name !== "") this.snapshots.checkNameFree(name);
    checkDirectoryThere(record);
    const id = randomUUID();
    const seq = session.log.lastSeq;
    const [{ frame, cols, rows }, { text }] = await Promise.all([
      session.frame(),
      session.capture({ escapes: false, scrollback: false }),
    ]);
    const env = this.manager.environmentFor(options.env, record.id);
    const conversation = this.conversationOf(record, env);
    const state = await captureWorktreeState(
      record.workingDir,
      `snapshot ${name || id} of session ${called}`,
      this.paths.run,
    );
    let files: SnapshotRecord["files"];
    if (state !== undefined) {
      const base = record.worktree?.baseCommit ?? state.head;
      const changed = await changedFiles(state.repository, base, state.commit);
      await keepRef(state.repository, snapshotRef(id), state.commit);
      files = {
        repository: state.repository,
        commit: state.commit,
        head: state.head,
        branch: state.branch,
        relativeDir: state.relativeDir,
        changedFiles: changed,
        base,
        uncommitted: state.uncommitted,
      };
    }
    const snapshot: SnapshotRecord = {
      id,
      name,
      createdAt: new Date().toISOString(),
      sessionId: record.id,
      sessionName: record.name,
      workingDir: record.workingDir,
      command: [...record.command],
      claudeCode: record.claudeCode,
      seq,
      cols,
      rows,
      screenText: text,
      ...(conversation !== undefined && { conversationId: conversation.id }),
      hasTranscript: conversation !== undefined,
      ...(files !== undefined && { files }),
      ...(record.labels !== undefined && { labels: { ...record.labels } }),
    };
    try {
      // Another snapshot may have taken the name while git worked.
      if (name !== "") this.snapshots.checkNameFree(name);
      this.snapshots.add(snapshot, frame, conversation?.transcript);
    } catch (error) {
      if (files !== undefined)
        await dropRef(files.repository, snapshotRef(id)).catch(() => undefined);
      if (error instanceof SessionError) throw error;
      throw new SessionError(
        "failed-precondition",
        `cannot write the snapshot under ${this.paths.snapshots}: ${(error as Error).message}`,
      );
    }
    this.logger.info(
      `session ${record.id}: snapshot ${id}${name ? ` (${name})` : ""} at seq ${seq}${files ? `, commit ${files.commit}` : ""}${conversation ? `, conversation ${conversation.id}` : ""}`,
    );
    return snapshot;
  }

  /** A new session from a snapshot (see the module's comment). */
  async restore(query: string, options: BranchOptions): Promise<Session> {
    const snapshot = this.snapshots.get(query);
    const { files } = snapshot;
    if (files !== undefined && !(await hasCommit(files.repository, files.commit))) {
      throw new SessionError(
        "failed-precondition",
        `snapshot ${snapshot.name || snapshot.id}'s commit ${files.commit} is no longer in ${files.repository} (the repository was moved or its ref ${snapshotRef(snapshot.id)} deleted)`,
      );
    }
    const transcript = this.snapshots.transcriptPath(snapshot.id);
    const conversation =
      snapshot.hasTranscript && snapshot.conversationId !== undefined && existsSync(transcript)
        ? { id: snapshot.conversationId, transcript }
        : undefined;
    return this.branchOff(options, {
      record: {
        command: snapshot.command,
        claudeCode: snapshot.claudeCode,
        workingDir: snapshot.workingDir,
        limits: this.manager.has(snapshot.sessionId)
          ? this.manager.get(snapshot.sessionId).record.limits
          : undefined,
      },
      ...(files !== undefined && { files }),
      ...(conversation !== undefined && { conversation }),
      spareConversationId: snapshot.id,
      labels: snapshot.labels ?? {},
      size: { cols: snapshot.cols, rows: snapshot.rows },
      origin: {
        sessionId: snapshot.sessionId,
        snapshotId: snapshot.id,
        ...(conversation !== undefined && { conversationId: conversation.id }),
        ...(files !== undefined && { commit: files.commit }),
      },
      event: `restored from snapshot ${snapshot.id}`,
      placeholder: this.snapshots.frame(snapshot.id),
    });
  }

  /** Forgets a snapshot: its files and its ref (its session, if any, is not touched). */
  async removeSnapshot(query: string): Promise<SnapshotRecord> {
    const snapshot = this.snapshots.get(query);
    // Its files first: a snapshot that cannot be removed keeps its commit too.
    this.snapshots.remove(snapshot.id);
    if (snapshot.files !== undefined)
      await dropRef(snapshot.files.repository, snapshotRef(snapshot.id)).catch((error: Error) =>
        this.logger.warn(`snapshot ${snapshot.id}: ${error.message}`),
      );
    this.logger.info(`snapshot ${snapshot.id} removed`);
    return snapshot;
  }

  /** The snapshots of the session `query` names (one removed since: by its full id), or all. */
  list(query: string): SnapshotRecord[] {
    if (query.trim() === "") return this.snapshots.list();
    try {
      return this.snapshots.list(this.manager.get(query).id);
    } catch (error) {
      const removed = this.snapshots.list(query.trim().toLowerCase());
      if (error instanceof SessionError && error.code === "not-found" && removed.length > 0)
        return removed;
      throw error;
    }
  }

  /**
   * Claude Code's current conversation of `record` and where its transcript is, if Claude Code
   * wrote one (it does at the first prompt); undefined for other programs. A fork not yet
   * prompted has none of its own: it is still the conversation it branched off.
   */
  private conversationOf(
    record: Readonly<SessionRecord>,
    env: Readonly<Record<string, string>>,
  ): { id: string; transcript: string } | undefined {
    if (!record.claudeCode) return undefined;
    const ids = [
      record.conversationId ?? chosenConversation(record.command) ?? record.id,
      forkedConversation(record.command),
    ];
    for (const id of ids) {
      const transcript =
        id === undefined ? undefined : findClaudeTranscript(id, record.workingDir, env);
      if (transcript !== undefined && id !== undefined) return { id, transcript };
    }
    return undefined;
  }

  /** Starts the new session of a fork or a restore from `point`. */
  private async branchOff(options: BranchOptions, point: BranchPoint): Promise<Session> {
    const name = checkNewName(options.name ?? "");
    if (name !== "") this.manager.checkNameFree(name);
    const asked = options.labels ?? {};
    const labels = checkLabels(Object.keys(asked).length > 0 ? asked : point.labels);
    const { cols, rows } = checkSize(options.cols, options.rows, point.size);
    const id = randomUUID();
    const env = this.manager.environmentFor(options.env, id);
    let workingDir = point.record.workingDir;
    let worktree: WorktreeRecord | undefined;
    if (point.files !== undefined) {
      const made = await addWorktree({
        repository: point.files.repository,
        branch: options.branch || defaultBranch(name, id),
        baseCommit: point.files.head,
        worktreesDir: this.paths.worktrees,
        relativeDir: point.files.relativeDir,
        ...(point.files.uncommitted && { uncommitted: point.files.commit }),
        branchOption: "--branch <branch>",
      });
      worktree = made.worktree;
      workingDir = made.workingDir;
    } else {
      checkWorkingDir(workingDir);
    }
    let resumed: string | undefined;
    try {
      resumed =
        point.conversation === undefined
          ? undefined
          : placeTranscript(point.conversation, workingDir, env, point.spareConversationId);
    } catch (error) {
      if (worktree !== undefined) await discardWorktree(worktree);
      throw error;
    }
    const argv = commandForFork(point.record.command, resumed, id);
    return this.manager.startPlanned({
      id,
      name,
      workingDir,
      argv,
      env,
      cols,
      rows,
      claudeCode: point.record.claudeCode,
      labels,
      limits: point.record.limits ?? this.manager.defaultLimits,
      ...(point.record.claudeCode && { conversationId: id }),
      ...(worktree !== undefined && { worktree }),
      origin: point.origin,
      event: point.event,
      ...(point.placeholder !== undefined && { placeholder: point.placeholder }),
    });
  }
}

/** Refuses to branch off or record a session whose directory is gone: it has no files to give. */
function checkDirectoryThere(record: Readonly<SessionRecord>): void {
  if (existsSync(record.workingDir)) return;
  const called = record.name || record.id;
  throw new SessionError(
    "failed-precondition",
    `session ${called}'s directory ${record.workingDir} is gone, with the files it had; restore one of its snapshots instead (claude-sessions snapshots ${called})`,
  );
}

/**
 * Puts the transcript of `conversation` where Claude Code run in `workingDir` looks for it
 * (`claude --resume` finds conversations of its own directory only), and returns the id to
 * resume: the conversation's, or `spareId` when that directory already holds a different
 * transcript under it (a restore in the directory where the conversation went on since).
 */
function placeTranscript(
  conversation: { id: string; transcript: string },
  workingDir: string,
  env: Readonly<Record<string, string>>,
  spareId: string,
): string {
  const projectDir = claudeProjectDir(workingDir, env);
  const target = join(projectDir, `${conversation.id}.jsonl`);
  if (existsSync(target)) {
    if (realpathSync(target) === realpathSync(conversation.transcript)) return conversation.id;
    if (readFileSync(target).equals(readFileSync(conversation.transcript))) return conversation.id;
    const spare = join(projectDir, `${spareId}.jsonl`);
    if (!existsSync(spare)) copyFileSync(conversation.transcript, spare, constants.COPYFILE_EXCL);
    return spareId;
  }
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  copyFileSync(conversation.transcript, target, constants.COPYFILE_EXCL);
  return conversation.id;
}
