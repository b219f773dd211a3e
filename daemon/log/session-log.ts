/**
 * One session's output log: `logs/<id>.jsonl`, one {@link LogRecord} per line.
 *
 * Output is coalesced into records of at most {@link MAX_RECORD_CHARS}, sealed within
 * {@link SEAL_DELAY_MS}, and appended by one write at a time, so a record reaches the file well
 * within 100 ms. Recent records stay in a bounded in-memory ring; readers ({@link LogCursor}) pull
 * from the ring, or from the file when they fall behind it, so a slow reader costs no memory and
 * still gets every record.
 *
 * A write that fails (a full disk) is cut back to the last whole record and retried with
 * backoff, its records kept in memory meanwhile, so a short outage loses nothing and the file
 * stays one valid record per line with contiguous seqs. Past {@link UNWRITTEN_BUDGET} of records
 * waiting, further output is not made into records (the screen and attached terminals still get
 * it): once records can be made again, an event says how many bytes were not logged and after
 * which seq. Records still unwritten when the log is closed are given up, and their seqs with
 * them (as a next daemon would, reading the file); the next run's first record says so.
 */
import {
  close,
  closeSync,
  constants,
  fstatSync,
  fsync,
  ftruncateSync,
  mkdirSync,
  renameSync,
  rmSync,
  write,
} from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { promisify } from "node:util";
import { Notifier } from "../common/async.js";
import { openRegularFile } from "../common/regular-file.js";
import {
  completeLengthOf,
  fileHolding,
  firstKeptOf,
  firstSeqOf,
  type LogSegment,
  listSegments,
  openLogForReading,
  readRecords,
  SEGMENT_NAME_DIGITS,
  searchOffset,
  segmentsDirOf,
} from "./log-file.js";
import { encodeRecord, type LogKind, type LogRecord, recordCost } from "./log-record.js";

const writeFd = promisify(write) as (fd: number, data: string) => Promise<{ bytesWritten: number }>;
const syncFd = promisify(fsync);
const closeFd = promisify(close);

/** Largest output record, in UTF-16 units; bounds line length for readers. */
export const MAX_RECORD_CHARS = 32 * 1024;
/** How long output may wait to be sealed into a record. */
export const SEAL_DELAY_MS = 8;
/** Memory kept for recent records, beyond those not yet written (unless told otherwise). */
const RING_BUDGET = 4 * 1024 * 1024;
/** The most records (by {@link recordCost}) kept waiting for a log that cannot be written. */
export const UNWRITTEN_BUDGET = 4 * 1024 * 1024;
/** The first retry of a failed write comes after this long; each next one waits twice as long. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;

export interface SessionLogOptions {
  /** Called when writing fails (e.g. a full disk) and again with undefined when it works again. */
  onError?: (message: string | undefined) => void;
  /** Called when output or records are lost for good: how many bytes, and what the log says. */
  onLoss?: (bytes: number, description: string) => void;
  /**
   * Hears of each record as it is sealed. `aligned`: all output appended so far is in this
   * record or an earlier one, and none is in a later one (it was sealed between two appends).
   */
  onSealed?: (record: LogRecord, aligned: boolean) => void;
  /** Hears that every record up to `seq` is in the file. */
  onWritten?: (seq: number) => void;
  /** Memory kept for recent records that are in the file (default 4 MiB). */
  ringBudget?: number;
  /**
   * The most bytes the log keeps on disk (0 or unset: no limit). The file is then kept in
   * segments of about a quarter of it, and the oldest whole segments are deleted.
   */
  maxBytes?: number;
  /** Hears that retention deleted every record before `firstKeptSeq`. */
  onDropped?: (firstKeptSeq: number) => void;
}

/** The smallest segment retention cuts the log into. */
const MIN_SEGMENT_BYTES = 16 * 1024;

export class SessionLog {
  /** The newest sealed (visible) record's seq. */
  private sealedSeq: number;
  /** The newest record known to be in the file. */
  private writtenSeq: number;
  private open_: LogRecord | undefined;
  private sealTimer: NodeJS.Timeout | undefined;
  private readonly ring: LogRecord[] = [];
  private ringCost = 0;
  private unwritten: LogRecord[] = [];
  /** The cost of the records sealed and not yet in the file (in flight included). */
  private unwrittenCost = 0;
  /** Where the file's last whole record ends: a failed write is cut back to it. */
  private fileLength = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  /** Output not made into records while too much waited, not yet marked in the log. */
  private lost: { bytes: number; afterSeq: number; error: string } | undefined;
  /** Records given up at the last close, marked at the start of the next run. */
  private lostAtClose: string | undefined;
  private fd: number | undefined;
  private writing: Promise<void> | undefined;
  /** Wakes readers waiting for a newer record, or for the end of the log. */
  private readonly newer = new Notifier();
  private error: string | undefined;
  private brokenLine = false;
  /** A close is under way and has not been called off by {@link openForAppend}. */
  private closing = false;
  private closed_: Promise<void> | undefined;
  /** Closes whose last sync and close are in flight: readers must not see the end yet. */
  private syncing = 0;
  /** Another process (the session's host) writes the file; records come by {@link receive}. */
  private mirroring = false;
  private readonly ringBudget: number;

  constructor(
    readonly path: string,
    lastSeq: number,
    private readonly options: SessionLogOptions = {},
  ) {
    this.sealedSeq = lastSeq;
    this.writtenSeq = lastSeq;
    this.ringBudget = options.ringBudget ?? RING_BUDGET;
    this.firstKept = firstKeptOf(path);
  }

  private firstKept: number;
  /** Retention: the sealed segments, oldest first (read when the file is opened). */
  private segments: LogSegment[] = [];
  /** The seq of the first record in the open file, if it holds any. */
  private fileFirstSeq: number | undefined;

  /** The oldest seq the log's files hold: 1 until retention drops a segment. */
  get firstKeptSeq(): number {
    return this.firstKept;
  }

  /** Every record before `seq` is gone from the files (another process dropped them). */
  dropBefore(seq: number): void {
    if (seq > this.firstKept) this.firstKept = seq;
  }

  /** The seq of the newest record readers can see. */
  get lastSeq(): number {
    return this.sealedSeq;
  }

  /**
   * Whether the log can still grow (its session is running). Stays true until a close has
   * synced the file and woken the readers, so that a follower ends only once its session is
   * seen to have ended: the session's state changes as soon as the close resolves.
   */
  get isOpen(): boolean {
    return this.fd !== undefined || this.syncing > 0 || this.mirroring;
  }

  /** The newest record known to be in the file. */
  get writtenUpTo(): number {
    return this.writtenSeq;
  }

  /** The last write error, if writing currently fails. */
  get lastError(): string | undefined {
    return this.error;
  }

  /**
   * Opens the file for appending. A line torn by a crash in mid-write is cut off first: its
   * record was never complete, and cutting it keeps the file one valid record per line, where
   * terminating it would leave a broken line in the middle for every reader to trip over.
   *
   * A symbolic link or anything but a regular file in the log's place is refused
   * ({@link openRegularFile}): the daemon never writes a session's output through a link to
   * wherever it points, nor into a FIFO. Throws an `UnsafeFileError` saying how to fix it.
   */
  openForAppend(): void {
    if (this.fd !== undefined) {
      // Still open, perhaps with a close waiting for its last writes (a session that failed to
      // start and is resumed at once): call the close off and keep appending to this file.
      this.closing = false;
      return;
    }
    const fd = openRegularFile(
      this.path,
      constants.O_RDWR | constants.O_APPEND | constants.O_CREAT,
      { mode: 0o600, label: "log " },
    );
    try {
      const complete = completeLengthOf(fd);
      if (fstatSync(fd).size > complete) ftruncateSync(fd, complete);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    this.fd = fd;
    this.fileLength = fstatSync(fd).size;
    this.fileFirstSeq = this.fileLength > 0 ? firstSeqOf(fd) : undefined;
    this.segments = this.options.maxBytes ? listSegments(this.path) : [];
    this.brokenLine = false;
    if (this.lostAtClose !== undefined) {
      const description = this.lostAtClose;
      this.lostAtClose = undefined;
      this.appendEvent(description);
    }
    // Records a mirror received that its host never wrote (see stopMirroring).
    this.startWriting();
  }

  /**
   * Whether output appended now is made into records: false while too much waits for a log
   * that cannot be written (it is then counted as lost, and marked once writes work again).
   */
  get takesOutput(): boolean {
    return !(this.error !== undefined && this.unwrittenCost > UNWRITTEN_BUDGET);
  }

  /** Appends terminal output; it is coalesced with output that has not been sealed yet. */
  appendOutput(data: string): void {
    if (this.error !== undefined && !this.takesOutput) {
      // Whatever is open goes first, so that the loss is marked where it happened.
      this.seal(false);
      this.lost ??= { bytes: 0, afterSeq: this.sealedSeq, error: this.error };
      this.lost.bytes += Buffer.byteLength(data);
      return;
    }
    let rest = data;
    while (rest.length > 0) {
      const current = this.open_ ?? this.openRecord("output");
      const room = MAX_RECORD_CHARS - current.data.length;
      let take = Math.min(room, rest.length);
      // Never split a surrogate pair across records.
      if (take < rest.length && take > 0 && isHighSurrogate(rest.charCodeAt(take - 1))) take -= 1;
      if (take <= 0) {
        this.seal(false);
        continue;
      }
      current.data += rest.slice(0, take);
      rest = rest.slice(take);
      if (current.data.length >= MAX_RECORD_CHARS) this.seal(false);
    }
  }

  /** Appends a lifecycle event as its own record, sealed at once. */
  appendEvent(data: string): LogRecord {
    this.seal();
    const record = this.openRecord("event");
    record.data = data;
    this.seal();
    return record;
  }

  private openRecord(kind: LogKind): LogRecord {
    if (this.lost !== undefined) this.markLoss();
    const record: LogRecord = {
      seq: this.sealedSeq + 1,
      time: new Date().toISOString(),
      kind,
      data: "",
    };
    this.open_ = record;
    if (kind === "output") this.sealTimer = setTimeout(() => this.seal(), SEAL_DELAY_MS);
    return record;
  }

  /** Seals an event saying how much output was not logged, and tells the session. */
  private markLoss(): void {
    const lost = this.lost;
    if (lost === undefined) return;
    this.lost = undefined;
    const description = `${lost.bytes} bytes of output were not logged after seq ${lost.afterSeq}: ${lost.error}`;
    this.appendEvent(description);
    this.options.onLoss?.(lost.bytes, description);
  }

  /** Seals the record being filled, if any: all output appended so far is then in records. */
  sealOpen(): void {
    this.seal();
  }

  /** Makes the open record visible to readers and queues it for writing. */
  private seal(aligned = true): void {
    if (this.sealTimer !== undefined) {
      clearTimeout(this.sealTimer);
      this.sealTimer = undefined;
    }
    const record = this.open_;
    if (record === undefined) return;
    this.open_ = undefined;
    this.sealedSeq = record.seq;
    this.ring.push(record);
    this.ringCost += recordCost(record);
    this.unwrittenCost += recordCost(record);
    this.unwritten.push(record);
    this.startWriting();
    this.options.onSealed?.(record, aligned);
    this.newer.notify();
  }

  private startWriting(): void {
    if (this.writing !== undefined || this.retryTimer !== undefined) return;
    if (this.unwritten.length === 0) return;
    this.writing = this.writeLoop().finally(() => {
      this.writing = undefined;
      this.startWriting();
    });
  }

  private async writeLoop(): Promise<void> {
    while (this.unwritten.length > 0) {
      const batch = this.unwritten;
      this.unwritten = [];
      const fd = this.fd;
      if (fd !== undefined && !(await this.write(fd, batch))) {
        // Kept, ahead of what was sealed meanwhile, for the retry.
        this.unwritten = batch.concat(this.unwritten);
        this.retryLater();
        return;
      }
      const last = batch[batch.length - 1];
      if (last !== undefined) {
        this.fileFirstSeq ??= (batch[0] as LogRecord).seq;
        this.writtenSeq = last.seq;
        if (fd !== undefined) {
          this.keepWithinLimit();
          this.options.onWritten?.(last.seq);
        }
      }
      for (const record of batch) this.unwrittenCost -= recordCost(record);
      this.trimRing();
      if (this.lost !== undefined && this.unwrittenCost <= UNWRITTEN_BUDGET) this.markLoss();
    }
  }

  /** Appends `batch`; false if it failed, the file cut back to its last whole record. */
  private async write(fd: number, batch: readonly LogRecord[]): Promise<boolean> {
    let text = batch.map(encodeRecord).join("");
    if (this.brokenLine) text = `\n${text}`;
    const length = Buffer.byteLength(text);
    try {
      const { bytesWritten } = await writeFd(fd, text);
      if (bytesWritten < length)
        throw Object.assign(new Error("no space left on device (short write)"), { code: "ENOSPC" });
    } catch (error) {
      try {
        ftruncateSync(fd, this.fileLength);
      } catch {
        // Cannot cut it: the next write starts on a line of its own.
        this.brokenLine = true;
        this.fileLength = fstatSync(fd).size;
      }
      const message = `cannot write ${this.path}: ${(error as Error).message}`;
      if (this.error !== message) {
        this.error = message;
        this.options.onError?.(message);
      }
      return false;
    }
    this.fileLength += length;
    this.brokenLine = false;
    this.retryMs = RETRY_FIRST_MS;
    if (this.error !== undefined) {
      this.error = undefined;
      this.options.onError?.(undefined);
    }
    return true;
  }

  /**
   * Retention: once the open file holds a segment's worth, it becomes a sealed segment (renamed
   * whole into the segments directory, where a reader that has it open goes on reading it) and
   * a new file is begun; then the oldest segments are deleted while the log is over its limit.
   * A segment is only ever deleted whole, so no reader meets a torn record.
   */
  private keepWithinLimit(): void {
    const maxBytes = this.options.maxBytes ?? 0;
    const first = this.fileFirstSeq;
    if (maxBytes <= 0 || this.fd === undefined || first === undefined) return;
    const segmentBytes = Math.max(MIN_SEGMENT_BYTES, Math.floor(maxBytes / 4));
    if (this.fileLength < segmentBytes) return;
    const dir = segmentsDirOf(this.path);
    const segment: LogSegment = {
      firstSeq: first,
      path: `${dir}/${String(first).padStart(SEGMENT_NAME_DIGITS, "0")}.jsonl`,
      bytes: this.fileLength,
    };
    let fd: number;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      renameSync(this.path, segment.path);
      fd = openRegularFile(
        this.path,
        constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL,
        { mode: 0o600, label: "log " },
      );
    } catch (error) {
      // The file stays where it is and goes on growing; the next write tries again.
      this.options.onError?.(`cannot start a new log segment: ${(error as Error).message}`);
      return;
    }
    closeSync(this.fd);
    this.fd = fd;
    this.fileLength = 0;
    this.fileFirstSeq = undefined;
    this.segments.push(segment);
    let total = this.segments.reduce((sum, kept) => sum + kept.bytes, 0);
    let dropped = false;
    // The newest segment is always kept: a reader (and a next daemon) then always finds where
    // the log starts, even after one write larger than the limit.
    while (total > maxBytes && this.segments.length > 1) {
      const oldest = this.segments.shift() as LogSegment;
      rmSync(oldest.path, { force: true });
      total -= oldest.bytes;
      this.firstKept = (this.segments[0] as LogSegment).firstSeq;
      dropped = true;
    }
    if (dropped) this.options.onDropped?.(this.firstKept);
  }

  private retryLater(): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.startWriting();
    }, this.retryMs);
    // A retry alone must not keep the daemon alive.
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /**
   * Gives up the records that could not be written (the log is closing): their seqs are given
   * back, so that the file stays contiguous when this log, or a next daemon, goes on from it.
   */
  private giveUpUnwritten(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const given = this.unwritten;
    const first = given[0];
    if (first === undefined) return;
    this.unwritten = [];
    this.unwrittenCost = 0;
    const bytes = given.reduce((sum, record) => sum + Buffer.byteLength(record.data), 0);
    const kept = this.ring.findIndex((record) => record.seq >= first.seq);
    if (kept >= 0) {
      for (const record of this.ring.splice(kept)) this.ringCost -= recordCost(record);
    }
    this.sealedSeq = first.seq - 1;
    this.writtenSeq = first.seq - 1;
    const description = `${given.length} record(s) of the previous run (${bytes} bytes, seqs ${first.seq}-${first.seq + given.length - 1}) were not logged: ${this.error ?? "the log could not be written"}`;
    this.lostAtClose = description;
    this.options.onLoss?.(bytes, description);
  }

  private trimRing(): void {
    let drop = 0;
    let cost = this.ringCost;
    while (drop < this.ring.length && cost > this.ringBudget) {
      const record = this.ring[drop] as LogRecord;
      if (record.seq > this.writtenSeq) break;
      cost -= recordCost(record);
      drop += 1;
    }
    if (drop > 0) {
      this.ring.splice(0, drop);
      this.ringCost = cost;
    }
  }

  /**
   * Seals pending output and waits until everything sealed is in the file, or a write of it has
   * failed once more (a retry waiting is made at once).
   */
  async flush(): Promise<void> {
    this.seal();
    this.markLoss();
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.startWriting();
    while (this.writing !== undefined) await this.writing;
  }

  /**
   * Flushes, syncs and closes the file; readers see the end of the log. If the log is opened
   * again while the last writes are in flight, the file stays open and the close is called off.
   */
  close(): Promise<void> {
    this.closing = true;
    this.closed_ ??= this.finishClose();
    return this.closed_;
  }

  private async finishClose(): Promise<void> {
    // Output appended while the last writes were in flight (after a reopen that a second close
    // then overtook) is sealed and written too.
    do {
      await this.flush();
      if (!this.closing) {
        this.closed_ = undefined;
        return;
      }
    } while (
      this.open_ !== undefined ||
      (this.unwritten.length > 0 && this.retryTimer === undefined)
    );
    this.giveUpUnwritten();
    this.closing = false;
    const fd = this.fd;
    this.fd = undefined;
    // From here on, a reopen is a new file, and closing it is a close of its own.
    this.closed_ = undefined;
    if (fd !== undefined) {
      this.syncing += 1;
      // In the thread pool: a sync of a large log takes tens of milliseconds, which no other
      // session should wait for.
      try {
        await syncFd(fd);
      } catch {
        // A failed fsync (e.g. on a full disk) is already visible as the log error.
      }
      // Closing a regular file fails only on a descriptor that is not open: nothing to do.
      await closeFd(fd).catch(() => undefined);
      this.syncing -= 1;
    }
    this.newer.notify();
  }

  /**
   * Makes this log a mirror of the file another process writes (the session's host): records
   * arrive by {@link receive}, {@link confirmWritten} says which are in the file, and the log
   * is open until {@link stopMirroring}. Everything up to `writtenSeq` is in the file.
   */
  startMirroring(writtenSeq: number): void {
    this.mirroring = true;
    const beyond = this.ring.findIndex((record) => record.seq > writtenSeq);
    if (beyond >= 0) {
      for (const record of this.ring.splice(beyond)) this.ringCost -= recordCost(record);
    }
    // The ring holds a run of records that ends where the next one received continues it, or
    // none: what the host wrote since this log last saw it is read from the file.
    if (this.ring.at(-1)?.seq !== writtenSeq) this.clearRing();
    this.sealedSeq = writtenSeq;
    this.writtenSeq = writtenSeq;
  }

  private clearRing(): void {
    this.ring.length = 0;
    this.ringCost = 0;
  }

  /** A record the host sealed; throws if it is not the next one (the mirror is then unsound). */
  receive(record: LogRecord): void {
    if (record.seq !== this.sealedSeq + 1)
      throw new Error(`the host sent record ${record.seq} after ${this.sealedSeq}`);
    this.sealedSeq = record.seq;
    this.ring.push(record);
    this.ringCost += recordCost(record);
    this.newer.notify();
  }

  /** The host has every record up to `seq` in the file. */
  confirmWritten(seq: number): void {
    if (seq <= this.writtenSeq) return;
    this.writtenSeq = Math.min(seq, this.sealedSeq);
    this.trimRing();
  }

  /**
   * The host is gone and the file ends at `fileLastSeq`. Records received that the file lacks
   * (the host was killed before writing them, or could not write them) are written by this log,
   * which opens the file for them: the caller closes it. Readers see the end of the log when
   * nothing more is to come.
   */
  stopMirroring(fileLastSeq: number): void {
    if (!this.mirroring) return;
    this.mirroring = false;
    const missing = this.ring.filter((record) => record.seq > fileLastSeq);
    if (missing.length > 0 && (missing[0] as LogRecord).seq === fileLastSeq + 1) {
      this.writtenSeq = fileLastSeq;
      this.unwritten = missing;
      this.unwrittenCost = missing.reduce((sum, record) => sum + recordCost(record), 0);
      try {
        this.openForAppend();
      } catch (error) {
        this.options.onError?.((error as Error).message);
      }
    } else {
      // Nothing the file lacks, or not a run of records that continues it: go on from the file.
      const beyond = this.ring.findIndex((record) => record.seq > fileLastSeq);
      if (beyond >= 0) {
        for (const record of this.ring.splice(beyond)) this.ringCost -= recordCost(record);
      }
      this.sealedSeq = Math.max(fileLastSeq, this.writtenSeq);
      this.writtenSeq = this.sealedSeq;
    }
    this.newer.notify();
  }

  /** The seq of the oldest record held in memory. */
  get ringStartSeq(): number | undefined {
    return this.ring[0]?.seq;
  }

  /** Records from the ring starting at `seq`, if the ring still holds it. */
  fromRing(seq: number, maxBytes: number): LogRecord[] | undefined {
    const first = this.ring[0];
    if (first === undefined || seq < first.seq) return undefined;
    // The ring is a run of consecutive seqs; a record past its end is not in it.
    if (seq - first.seq >= this.ring.length) return seq > this.sealedSeq ? [] : undefined;
    const out: LogRecord[] = [];
    let bytes = 0;
    for (let i = seq - first.seq; i < this.ring.length && bytes < maxBytes; i++) {
      const record = this.ring[i] as LogRecord;
      out.push(record);
      bytes += recordCost(record);
    }
    return out;
  }

  /**
   * Resolves when a record newer than `seq` is sealed, the log is closed, or `signal` fires (a
   * reader that gives up is forgotten at once).
   */
  waitForNewerThan(seq: number, signal?: AbortSignal): Promise<void> {
    if (this.sealedSeq > seq || !this.isOpen) return Promise.resolve();
    return this.newer.wait(signal);
  }

  /** How many readers wait for a newer record. */
  get waitingReaders(): number {
    return this.newer.waiting;
  }

  /**
   * A reader positioned at `seq` (records with a smaller seq are skipped); `onFileRead` is
   * called for each batch it reads from the file because the ring no longer holds it.
   */
  cursor(seq: number, onFileRead?: () => void): LogCursor {
    return new LogCursor(this, Math.max(1, seq), onFileRead);
  }

  /** The seq of the first record made at or after `time` (lastSeq + 1 if none). */
  async seqAtTime(time: Date): Promise<number> {
    const iso = time.toISOString();
    const first = this.ring[0];
    if (first !== undefined && first.time <= iso) {
      const hit = this.ring.find((record) => record.time >= iso);
      return hit?.seq ?? this.sealedSeq + 1;
    }
    let file: FileHandle;
    try {
      file = await openLogForReading(this.path);
    } catch {
      return first?.seq ?? this.sealedSeq + 1;
    }
    try {
      const { size } = await file.stat();
      const offset = await searchOffset(file, size, (record) => record.time >= iso);
      const { records } = await readRecords(file, offset, 64 * 1024);
      return records[0]?.seq ?? first?.seq ?? this.sealedSeq + 1;
    } finally {
      await file.close();
    }
  }
}

/**
 * Reads a log in order from a seq: from the ring while it can, else from the file, or from the
 * segment that holds it. A position retention has dropped moves on to the oldest record kept,
 * counted in {@link dropped}.
 */
export class LogCursor {
  private file: FileHandle | undefined;
  private filePath = "";
  private offset: number | undefined;
  /** How many records this cursor was asked for that retention had dropped. */
  dropped = 0;

  constructor(
    private readonly log: SessionLog,
    /** The next seq this cursor will return. */
    public seq: number,
    private readonly onFileRead?: () => void,
  ) {}

  /**
   * The next records (at most about `maxBytes`), or an empty array when the cursor has caught
   * up with the log. Never returns a record twice; never skips one that is in the file.
   */
  async next(maxBytes: number): Promise<LogRecord[]> {
    while (this.seq <= this.log.lastSeq) {
      const kept = this.log.firstKeptSeq;
      if (this.seq < kept) {
        await this.closeFile();
        this.dropped += kept - this.seq;
        this.seq = kept;
        continue;
      }
      const fromRing = this.log.fromRing(this.seq, maxBytes);
      let records: LogRecord[];
      if (fromRing !== undefined && fromRing.length > 0) {
        await this.closeFile();
        records = this.advance(fromRing);
      } else {
        records = this.advance(await this.fromFile(maxBytes));
      }
      if (records.length > 0) return records;
    }
    return [];
  }

  private advance(records: LogRecord[]): LogRecord[] {
    const fresh = records.filter(
      (record) => record.seq >= this.seq && record.seq <= this.log.lastSeq,
    );
    const last = fresh[fresh.length - 1];
    if (last !== undefined) this.seq = last.seq + 1;
    return fresh;
  }

  /**
   * The next records from the file that holds them. The file is chosen by name, and retention
   * may rename or delete it meanwhile: a file that turns out not to start with the record
   * wanted is let go of and the choice made again.
   */
  private async fromFile(maxBytes: number): Promise<LogRecord[]> {
    for (let attempt = 0; ; attempt++) {
      if (this.file === undefined) {
        const path = fileHolding(this.log.path, this.seq);
        try {
          this.file = await openLogForReading(path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
          if (attempt < 3) continue;
          return this.skipLost();
        }
        this.filePath = path;
        this.offset = undefined;
      }
      const file = this.file;
      const fresh = this.offset === undefined;
      if (this.offset === undefined) {
        const { size } = await file.stat();
        const target = this.seq;
        this.offset = await searchOffset(file, size, (record) => record.seq >= target);
      }
      const { records, next } = await readRecords(file, this.offset, maxBytes);
      this.offset = next;
      this.onFileRead?.();
      const first = records[0];
      const wrongFile =
        first === undefined ? this.filePath !== this.log.path : first.seq > this.seq;
      // The end of a segment, or a file that no longer holds the record: choose again.
      if (wrongFile && (attempt < 3 || !fresh)) {
        await this.closeFile();
        continue;
      }
      if (records.length === 0) return this.skipLost();
      return records;
    }
  }

  /**
   * The file does not hold the records we need (deleted, or lost to a write error): continue at
   * the oldest record still in memory rather than stall.
   */
  private skipLost(): LogRecord[] {
    const ringStart = this.log.ringStartSeq;
    this.seq = ringStart !== undefined && ringStart > this.seq ? ringStart : this.log.lastSeq + 1;
    return [];
  }

  async close(): Promise<void> {
    await this.closeFile();
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    this.filePath = "";
    this.offset = undefined;
    if (file !== undefined) await file.close();
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
