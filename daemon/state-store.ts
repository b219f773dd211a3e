/**
 * `state.json`: every session record, rewritten atomically (temp file, fsync, rename) after
 * every change, with the previous copy kept as `state.json.bak` for when the main copy is
 * damaged.
 */
import { closeSync, constants, existsSync, renameSync, writeSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { openRegularFile, readRegularFile, UnsafeFileError } from "./regular-file.js";
import { parseSessionRecord, type SessionRecord, shown } from "./session-record.js";

interface StateFile {
  version: 1;
  sessions: SessionRecord[];
}

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

export class StateStore {
  private writing: Promise<void> | undefined;
  private dirty: (() => SessionRecord[]) | undefined;
  /** How many saves were asked for, and how many of them a finished write covered. */
  private requested = 0;
  private attempted = 0;
  private savedWaiters: Array<{ generation: number; wake: () => void }> = [];

  constructor(readonly path: string) {}

  /**
   * The saved records: from the main copy, else the backup, else none. A damaged main copy is
   * set aside as `state.json.damaged`: left in place, the next write would make it the backup
   * in place of the good one, and a crash before the write after that would lose every session.
   */
  load(warn: (message: string) => void): SessionRecord[] {
    const main = parse(this.path, this.setAside(this.path, warn));
    if (main !== undefined) return main;
    const damaged = existsSync(this.path);
    if (damaged) renameSync(this.path, `${this.path}.damaged`);
    const problem = damaged ? `damaged (kept as ${this.path}.damaged)` : "missing";
    const backup = parse(`${this.path}.bak`, this.setAside(`${this.path}.bak`, warn));
    if (backup !== undefined) {
      warn(`${this.path} is ${problem}; loaded ${backup.length} session(s) from ${this.path}.bak`);
      return backup;
    }
    if (damaged) warn(`${this.path} is ${problem} and has no usable backup; starting empty`);
    return [];
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
   * first failure is reported once the loop is done.
   */
  private async drain(): Promise<void> {
    let failure: unknown;
    while (this.dirty !== undefined) {
      const snapshot = this.dirty;
      this.dirty = undefined;
      const generation = this.requested;
      try {
        await this.writeAtomically(
          JSON.stringify({ version: 1, sessions: snapshot() } satisfies StateFile, null, 1),
        );
      } catch (error) {
        failure ??= error;
      }
      this.attempted = generation;
      const waiters = this.savedWaiters;
      this.savedWaiters = waiters.filter((waiter) => waiter.generation > generation);
      for (const waiter of waiters) if (waiter.generation <= generation) waiter.wake();
    }
    if (failure !== undefined) throw failure;
  }

  /**
   * Resolves once every save asked for so far has been written (or its write has failed, which
   * the caller of {@link save} reports). Unlike {@link settled}, later saves do not delay it, so
   * a steady stream of changes cannot hold it back.
   */
  saved(): Promise<void> {
    const generation = this.requested;
    if (this.attempted >= generation) return Promise.resolve();
    return new Promise((wake) => this.savedWaiters.push({ generation, wake }));
  }

  private async writeAtomically(text: string): Promise<void> {
    const temp = `${this.path}.tmp`;
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
    // The current copy becomes the backup; if we die between the two renames, load() finds the
    // backup, which is complete.
    try {
      await rename(this.path, `${this.path}.bak`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    await rename(temp, this.path);
  }

  /** Resolves once every scheduled write is done. */
  async settled(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }
}
