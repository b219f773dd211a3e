/**
 * `state.json`: every session record, rewritten after every change so that `state.json` itself
 * is always a complete copy, never missing, with the previous copy kept as `state.json.bak` for
 * when the main copy is damaged. A write that fails (a full disk) is retried with backoff until
 * one works, so the file catches up with the sessions once space returns.
 *
 * One write, and what a crash at each point of it leaves (load() takes the first complete one of
 * `state.json`, then `state.json.tmp`, then `state.json.bak`):
 *
 * 1. remove any `.tmp`, write the new copy to `.tmp`, fsync it: `state.json` is the current copy,
 *    the `.tmp` partial or complete but not yet promised to anyone: the current copy is loaded.
 * 2. remove `.bak`, `link()` `state.json` as the new `.bak`: `state.json` stays in place.
 * 3. rename `.tmp` over `state.json`: atomic, `state.json` is the old copy or the new one.
 * 4. fsync the directory, so that the rename survives a power cut; only then is the write done.
 *
 * Only when `state.json` is missing (the very first write, or a file removed by hand) can the
 * `.tmp` be loaded: a complete one is newer than any backup.
 */
import { closeSync, constants, existsSync, renameSync, writeSync } from "node:fs";
import { link, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Deferred } from "../common/async.js";
import { openRegularFile, readRegularFile, UnsafeFileError } from "../common/regular-file.js";
import { parseSessionRecord, type SessionRecord, shown } from "../session/session-record.js";

interface StateFile {
  version: 1;
  sessions: SessionRecord[];
}

/** The first retry of a failed write comes after this long; each next one waits twice as long. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

/** Called for each record of a file that is not sound: where it is, why, what it holds. */
type Reject = (index: number, problem: string, value: unknown) => void;

/**
 * The file's sound records, or undefined if it is missing or damaged as a whole. A record that
 * is not sound goes to `reject` and the others are kept: one bad record must not cost every
 * session, nor reach a log path or a reply (ids name log files; a bad time failed every
 * ListSessions). Anything but a regular file at `path` is refused, not taken for a damaged
 * copy (UnsafeFileError).
 */
function parse(path: string, reject: Reject): SessionRecord[] | undefined {
  let text: string;
  try {
    text = readRegularFile(path).toString("utf8");
  } catch (error) {
    if (error instanceof UnsafeFileError) throw error;
    return undefined;
  }
  let sessions: unknown[];
  try {
    const value = JSON.parse(text) as StateFile;
    if (value.version !== 1 || !Array.isArray(value.sessions)) return undefined;
    sessions = value.sessions;
  } catch {
    return undefined;
  }
  const records: SessionRecord[] = [];
  const names = new Map<string, string>();
  const ids = new Set<string>();
  sessions.forEach((value, index) => {
    let record: SessionRecord;
    try {
      record = parseSessionRecord(value);
    } catch (error) {
      reject(index, (error as Error).message, value);
      return;
    }
    const sameName = record.name === "" ? undefined : names.get(record.name);
    if (ids.has(record.id)) reject(index, `id ${record.id} is used by an earlier record`, value);
    else if (sameName !== undefined)
      reject(index, `name '${record.name}' is used by session ${sameName}`, value);
    else {
      ids.add(record.id);
      if (record.name !== "") names.set(record.name, record.id);
      records.push(record);
    }
  });
  return records;
}

/** A {@link StateStore.saved} call: settled by the first write that covers `generation`. */
interface SavedWaiter {
  generation: number;
  written: Deferred<void>;
}

export class StateStore {
  private writing: Promise<void> | undefined;
  private dirty: (() => SessionRecord[]) | undefined;
  /** The snapshot of the last write that failed, written again by the retry. */
  private failed: (() => SessionRecord[]) | undefined;
  /** That write's error, as thrown (its errno code decides the status a caller is given). */
  private failure: unknown;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  private error: string | undefined;
  private closed = false;
  /** How many saves were asked for, and how many of them a finished write covered. */
  private requested = 0;
  private attempted = 0;
  private savedWaiters: SavedWaiter[] = [];

  /**
   * `onError` hears of the first failure of a run of failed writes, and of its end (undefined)
   * once a write works again.
   */
  constructor(
    readonly path: string,
    private readonly onError?: (message: string | undefined) => void,
  ) {}

  /**
   * The saved records: from the main copy, else a complete temp file, else the backup, else
   * none. A damaged main copy is set aside as `state.json.damaged`: left in place, the next write
   * would make it the backup in place of the good one, and a crash before the write after that
   * would lose every session.
   */
  load(warn: (message: string) => void): SessionRecord[] {
    const main = parse(this.path, this.setAside(this.path, warn));
    if (main !== undefined) return main;
    const damaged = existsSync(this.path);
    if (damaged) renameSync(this.path, `${this.path}.damaged`);
    const problem = damaged ? `damaged (kept as ${this.path}.damaged)` : "missing";
    for (const copy of [`${this.path}.tmp`, `${this.path}.bak`]) {
      const records = this.parseCopy(copy, warn);
      if (records !== undefined) {
        warn(`${this.path} is ${problem}; loaded ${records.length} session(s) from ${copy}`);
        return records;
      }
    }
    if (damaged) warn(`${this.path} is ${problem} and has no usable backup; starting empty`);
    return [];
  }

  /**
   * A copy's records. The temp file is only ever a leftover of a write: anything but a regular
   * file there (a link, a FIFO) is no copy of ours, and the next write removes it.
   */
  private parseCopy(copy: string, warn: (message: string) => void): SessionRecord[] | undefined {
    try {
      return parse(copy, this.setAside(copy, warn));
    } catch (error) {
      if (!(error instanceof UnsafeFileError) || !copy.endsWith(".tmp")) throw error;
      warn(`${copy} is ignored: ${error.message}`);
      return undefined;
    }
  }

  /**
   * Sets each unsound record of `file` aside: appended to `state.json.quarantine` (mode 0600,
   * one JSON object a line, with where it was and why), so that the next write, which leaves it
   * out, loses nothing the user may want back, and warned about with its index and problem.
   */
  private setAside(file: string, warn: (message: string) => void): Reject {
    const quarantine = `${this.path}.quarantine`;
    return (index, problem, value) => {
      const id =
        typeof value === "object" && value !== null && "id" in value
          ? ` (id ${shown(value.id)})`
          : "";
      const entry = { time: new Date().toISOString(), file, index, problem, record: value };
      let kept = `set aside in ${quarantine}`;
      try {
        const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
        const fd = openRegularFile(quarantine, flags, { mode: 0o600 });
        try {
          writeSync(fd, `${JSON.stringify(entry)}\n`);
        } finally {
          closeSync(fd);
        }
      } catch (error) {
        kept = `dropped (cannot write ${quarantine}: ${(error as Error).message})`;
      }
      warn(`${file}: sessions[${index}]${id} ${kept}: ${problem}`);
    };
  }

  /**
   * Schedules a write of `snapshot()`. Writes never overlap; changes made while one is under way
   * are written together right after it.
   */
  save(snapshot: () => SessionRecord[]): Promise<void> {
    this.dirty = snapshot;
    this.requested += 1;
    if (this.writing === undefined) {
      this.writing = this.drain().finally(() => {
        this.writing = undefined;
      });
    }
    return this.writing;
  }

  /**
   * Writes until nothing is dirty. A failed write does not end the loop: changes made while it
   * ran would otherwise wait, unwritten, for the next change (and so would {@link saved}); the
   * first failure is reported once the loop is done, and the last snapshot is retried later.
   */
  private async drain(): Promise<void> {
    let failure: unknown;
    while (this.dirty !== undefined) {
      const snapshot = this.dirty;
      this.dirty = undefined;
      const generation = this.requested;
      let error: unknown;
      try {
        await this.writeAtomically(
          JSON.stringify({ version: 1, sessions: snapshot() } satisfies StateFile, null, 1),
        );
      } catch (caught) {
        error = caught;
        failure ??= caught;
      }
      this.attempted = generation;
      this.recordOutcome(snapshot, error);
      const waiters = this.savedWaiters;
      this.savedWaiters = waiters.filter((waiter) => waiter.generation > generation);
      for (const { generation: wanted, written } of waiters) {
        if (wanted > generation) continue;
        if (error === undefined) written.resolve();
        else written.reject(error);
      }
    }
    if (failure !== undefined) throw failure;
  }

  private recordOutcome(snapshot: () => SessionRecord[], error: unknown): void {
    if (error === undefined) {
      this.failed = undefined;
      this.retryMs = RETRY_FIRST_MS;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      if (this.error !== undefined) {
        this.error = undefined;
        this.onError?.(undefined);
      }
      return;
    }
    this.failed = snapshot;
    this.failure = error;
    const message = `cannot write ${this.path}: ${(error as Error).message}`;
    if (this.error !== message) {
      this.error = message;
      this.onError?.(message);
    }
    if (this.retryTimer !== undefined || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // A write under way (a change since) retries by itself if it fails too.
      if (this.failed === undefined || this.writing !== undefined) return;
      this.save(this.failed).catch(() => undefined);
    }, this.retryMs);
    // A retry alone must not keep the daemon alive.
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /**
   * Resolves once every save asked for so far has been written; rejects with the error of the
   * write that covered them if it failed. Unlike {@link settled}, later saves do not delay it,
   * so a steady stream of changes cannot hold it back.
   */
  saved(): Promise<void> {
    const generation = this.requested;
    if (this.attempted >= generation) {
      return this.failed === undefined ? Promise.resolve() : Promise.reject(this.failure);
    }
    const written = new Deferred<void>();
    this.savedWaiters.push({ generation, written });
    return written.promise;
  }

  /** The last write error, while writes fail. */
  get lastError(): string | undefined {
    return this.error;
  }

  private async writeAtomically(text: string): Promise<void> {
    const temp = `${this.path}.tmp`;
    const backup = `${this.path}.bak`;
    // Only this daemon writes here (it holds the home's lock), so whatever is at the temp path
    // is a leftover: removed first (a symbolic link is removed, not its target), then created
    // afresh, never following a link planted in between (O_EXCL, O_NOFOLLOW).
    await rm(temp, { force: true });
    const file = await open(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    // The current copy becomes the backup by a second name, so that it never leaves its own.
    // With no current copy (the first write, or one loaded from a backup) the backup stays.
    if (existsSync(this.path)) {
      await rm(backup, { force: true });
      await link(this.path, backup);
    }
    await rename(temp, this.path);
    const directory = await open(dirname(this.path), constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  /** Resolves once every scheduled write is done. */
  async settled(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  /** Stops retrying failed writes (the daemon is done with the file). */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
