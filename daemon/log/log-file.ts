/**
 * Reading a session's JSONL log file without loading it: records are in seq order, so a record
 * is found by binary search over byte offsets and the cost of a read does not grow with the log.
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
} from "node:fs";
import { type FileHandle, rm } from "node:fs/promises";
import { openRegularFileHandle } from "../common/regular-file.js";
import { decodeRecord, type LogRecord } from "./log-record.js";

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/** A complete line: its text and the offset just past its newline. */
interface Line {
  text: string;
  end: number;
}

/**
 * The complete lines of a block read from the file (its first `bytesRead` bytes), each with its
 * record (undefined for a line that is not one), where it starts and where the next one does.
 */
function* linesIn(
  buffer: Buffer,
  bytesRead: number,
): Generator<{ record: LogRecord | undefined; start: number; next: number }> {
  let start = 0;
  for (;;) {
    const newline = buffer.indexOf(NEWLINE, start);
    if (newline < 0 || newline >= bytesRead) return;
    yield {
      record: decodeRecord(buffer.toString("utf8", start, newline)),
      start,
      next: newline + 1,
    };
    start = newline + 1;
  }
}

/** Reads the complete line that starts at `offset`; undefined at end of file or for a torn tail. */
async function lineAt(file: FileHandle, offset: number, size: number): Promise<Line | undefined> {
  const parts: Buffer[] = [];
  let position = offset;
  while (position < size) {
    const length = Math.min(CHUNK, size - position);
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await file.read(buffer, 0, length, position);
    if (bytesRead === 0) break;
    const newline = buffer.subarray(0, bytesRead).indexOf(NEWLINE);
    if (newline >= 0) {
      parts.push(buffer.subarray(0, newline));
      return { text: Buffer.concat(parts).toString("utf8"), end: position + newline + 1 };
    }
    parts.push(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return undefined;
}

/** The offset of the first line that starts at or after `offset`. */
async function nextLineStart(file: FileHandle, offset: number, size: number): Promise<number> {
  if (offset === 0) return 0;
  // A line starts right after a newline; look at the byte before `offset`.
  const line = await lineAt(file, offset - 1, size);
  return line === undefined ? size : line.end;
}

/**
 * The offset of the first record for which `isAtOrAfter` holds, given that it holds for a suffix
 * of the file's records; `size` when none does. Unparseable lines (a torn write) are stepped over.
 */
export async function searchOffset(
  file: FileHandle,
  size: number,
  isAtOrAfter: (record: LogRecord) => boolean,
): Promise<number> {
  // Every record starting before `lo` fails the predicate; `answer` is the earliest line start
  // known to pass (or `size`); no line starting in [end, answer) passes, so probes stay below
  // `end`. The two differ when a probe lands in a line longer than the window and finds no
  // record after its midpoint: the window shrinks, but the answer must stay at a line start.
  let lo = 0;
  let end = size;
  let answer = size;
  while (end - lo > CHUNK) {
    const mid = lo + Math.floor((end - lo) / 2);
    let start = await nextLineStart(file, mid, size);
    let found: { record: LogRecord; end: number } | undefined;
    while (start < end) {
      const line = await lineAt(file, start, size);
      if (line === undefined) break;
      const record = decodeRecord(line.text);
      if (record !== undefined) {
        found = { record, end: line.end };
        break;
      }
      start = line.end;
    }
    if (found === undefined) {
      end = mid;
    } else if (isAtOrAfter(found.record)) {
      answer = start;
      end = start;
    } else {
      lo = found.end;
    }
  }
  return scanWindow(file, await nextLineStart(file, lo, size), end, answer, size, isAtOrAfter);
}

/**
 * The first line starting in [offset, end) whose record satisfies `isAtOrAfter`, else `answer`.
 * The window is read in large blocks, not line by line.
 */
async function scanWindow(
  file: FileHandle,
  offset: number,
  end: number,
  answer: number,
  size: number,
  isAtOrAfter: (record: LogRecord) => boolean,
): Promise<number> {
  while (offset < end) {
    const buffer = Buffer.allocUnsafe(Math.min(2 * CHUNK, size - offset));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
    let start = 0;
    for (const line of linesIn(buffer, bytesRead)) {
      if (line.record !== undefined && isAtOrAfter(line.record)) return offset + line.start;
      start = line.next;
      if (offset + start >= end) return answer;
    }
    if (start > 0) {
      offset += start;
      continue;
    }
    // A line longer than the block, or a torn last line.
    const line = await lineAt(file, offset, size);
    if (line === undefined) break;
    const record = decodeRecord(line.text);
    if (record !== undefined && isAtOrAfter(record)) return offset;
    offset = line.end;
  }
  return answer;
}

/** Reads complete records forward from a line start; stops after about `maxBytes`. */
export async function readRecords(
  file: FileHandle,
  offset: number,
  maxBytes: number,
): Promise<{ records: LogRecord[]; next: number }> {
  const records: LogRecord[] = [];
  const buffer = Buffer.allocUnsafe(Math.max(CHUNK, maxBytes));
  const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
  let start = 0;
  for (const line of linesIn(buffer, bytesRead)) {
    if (line.record !== undefined) records.push(line.record);
    start = line.next;
  }
  if (start === 0 && bytesRead === buffer.length) {
    // One line longer than the buffer: read it whole.
    const stats = await file.stat();
    const line = await lineAt(file, offset, stats.size);
    if (line === undefined) return { records, next: offset };
    const record = decodeRecord(line.text);
    if (record !== undefined) records.push(record);
    return { records, next: line.end };
  }
  return { records, next: offset + start };
}

/**
 * Opens a log to read it. A FIFO in its place would block the open, and with it a thread of
 * the pool, until something opened the other end: it is refused at once, as is a symbolic link
 * (`UnsafeFileError`).
 */
export function openLogForReading(path: string): Promise<FileHandle> {
  return openRegularFileHandle(path, constants.O_RDONLY, { label: "log " });
}

/** The last `count` complete records of the file, read from its end (for small counts). */
export async function readLastRecords(path: string, count: number): Promise<LogRecord[]> {
  let file: FileHandle;
  try {
    file = await openLogForReading(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  try {
    const { size } = await file.stat();
    let position = size;
    let tail = Buffer.alloc(0);
    for (;;) {
      // Lines that end with a newline are complete; the first one is cut unless we reached 0.
      const last = tail.lastIndexOf(NEWLINE);
      const first = position === 0 ? 0 : tail.indexOf(NEWLINE) + 1;
      const found: LogRecord[] = [];
      if (last >= 0 && first <= last) {
        const lines = tail.toString("utf8", first, last).split("\n");
        for (let i = lines.length - 1; i >= 0 && found.length < count; i--) {
          const record = decodeRecord(lines[i] ?? "");
          if (record !== undefined) found.push(record);
        }
      }
      if (found.length >= count || position === 0) return found.reverse();
      const length = Math.min(CHUNK, position);
      position -= length;
      const buffer = Buffer.allocUnsafe(length);
      await file.read(buffer, 0, length, position);
      tail = Buffer.concat([buffer, tail]);
    }
  } finally {
    await file.close();
  }
}

/**
 * The seq of the log's last complete record, or 0: in the file, else (a file just begun by
 * retention, or lost) in its newest segment.
 */
export async function lastSeqOf(path: string): Promise<number> {
  const [last] = await readLastRecords(path, 1);
  if (last !== undefined) return last.seq;
  const newest = listSegments(path).at(-1);
  if (newest === undefined) return 0;
  const [inSegment] = await readLastRecords(newest.path, 1);
  return inSegment?.seq ?? newest.firstSeq - 1;
}

/**
 * The length of an open file's complete lines: the offset just past its last newline, 0 when it
 * has none. Anything after it is a line torn by a crash in mid-write.
 */
export function completeLengthOf(fd: number): number {
  const buffer = Buffer.allocUnsafe(CHUNK);
  let end = fstatSync(fd).size;
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const bytesRead = readSync(fd, buffer, 0, end - start, start);
    const newline = buffer.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (newline >= 0) return start + newline + 1;
    end = start;
  }
  return 0;
}

/**
 * Where the older, sealed segments of the log at `path` are kept (log retention): a directory
 * beside it, `logs/<id>.segments/`, each segment named by its first seq.
 */
export function segmentsDirOf(path: string): string {
  return `${path.replace(/\.jsonl$/, "")}.segments`;
}

/** Deletes the log at `path` and every segment of it; what is not there is no error. */
export async function removeLog(path: string): Promise<void> {
  await rm(path, { force: true });
  await rm(segmentsDirOf(path), { recursive: true, force: true });
}

/** How many digits a segment's name has: its first seq, zero-padded, so names sort by seq. */
export const SEGMENT_NAME_DIGITS = 16;
const SEGMENT_NAME = /^(\d{16})\.jsonl$/;

/** A sealed segment of a log: the records from `firstSeq` up to the next segment's first. */
export interface LogSegment {
  firstSeq: number;
  path: string;
  bytes: number;
}

/** The sealed segments of the log at `path`, oldest first (none when it was never cut). */
export function listSegments(path: string): LogSegment[] {
  const dir = segmentsDirOf(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const segments: LogSegment[] = [];
  for (const name of names.sort()) {
    const match = SEGMENT_NAME.exec(name);
    if (match === null) continue;
    const stats = statSync(`${dir}/${name}`, { throwIfNoEntry: false });
    if (stats?.isFile() !== true) continue;
    segments.push({ firstSeq: Number(match[1]), path: `${dir}/${name}`, bytes: stats.size });
  }
  return segments;
}

/** The seq of the first complete record of an open file, if it has one. */
export function firstSeqOf(fd: number): number | undefined {
  const buffer = Buffer.allocUnsafe(CHUNK);
  const bytesRead = readSync(fd, buffer, 0, CHUNK, 0);
  // The seq is the record's first field: a cut line still shows it.
  const match = /^\{"seq":(\d+),/.exec(buffer.toString("utf8", 0, Math.min(bytesRead, 64)));
  return match === null ? undefined : Number(match[1]);
}

/**
 * The oldest seq the log at `path` still holds: 1 for a log retention never cut, else the first
 * of its oldest segment (or of the file, when every segment was deleted).
 */
export function firstKeptOf(path: string): number {
  const dir = segmentsDirOf(path);
  if (statSync(dir, { throwIfNoEntry: false }) === undefined) return 1;
  const oldest = listSegments(path)[0];
  if (oldest !== undefined) return oldest.firstSeq;
  return firstSeqAt(path) ?? 1;
}

/** The seq of the first complete record of the file at `path`, if it has one. */
export function firstSeqAt(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    return firstSeqOf(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The file that holds record `seq` of the log at `path`: the log's own file when it starts at or
 * before `seq` (it holds the newest records), else the newest segment that does, else the oldest
 * segment (`seq` was dropped).
 */
export function fileHolding(path: string, seq: number): string {
  const segments = listSegments(path);
  if (segments.length === 0) return path;
  const fileFirst = firstSeqAt(path);
  if (fileFirst !== undefined && fileFirst <= seq) return path;
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i] as LogSegment;
    if (segment.firstSeq <= seq) return segment.path;
  }
  return (segments[0] as LogSegment).path;
}

/** Every byte a log holds on disk: its file and its segments (what removing it frees). */
export function logBytesOnDisk(path: string): number {
  const file = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  return listSegments(path).reduce(
    (sum, segment) => sum + (statSync(segment.path, { throwIfNoEntry: false })?.size ?? 0),
    file,
  );
}
