/**
 * Opening the files the daemon keeps in its home. Anything but a regular file in one's place
 * is refused, saying how to fix it: a symbolic link would send reads and writes wherever it
 * points, and a FIFO or a device would block the open (a FIFO's open waits for the other end:
 * on the main thread it froze the daemon's start with the lock held; in the thread pool, four
 * reads of a FIFO log took every thread and every file operation waited behind them).
 *
 * So every open is O_NOFOLLOW (no link is followed) and O_NONBLOCK (opening a FIFO or a device
 * returns at once; it does nothing to a regular file), and what was opened is checked with
 * fstat, on the descriptor itself, so nothing can be swapped in between.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  writeSync,
} from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

/** A path in the home that is not a regular file; the message says how to fix it. */
export class UnsafeFileError extends Error {
  override readonly name = "UnsafeFileError";
}

const SAFE_FLAGS = constants.O_NOFOLLOW | constants.O_NONBLOCK;

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isDirectory()) return "a directory";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  return "not a regular file";
}

function notRegular(label: string, path: string, kind: string): UnsafeFileError {
  return new UnsafeFileError(
    `${label}${path} is not a regular file (${kind}); move it away (mv ${path} ${path}.old)`,
  );
}

/** The error for a failed open, if the path's kind is why; otherwise the error itself. */
function openFailure(error: unknown, label: string, path: string, flags: number): unknown {
  switch ((error as NodeJS.ErrnoException).code) {
    case "ELOOP": {
      const writing = (flags & (constants.O_WRONLY | constants.O_RDWR)) !== 0;
      return new UnsafeFileError(
        `${label}${path} is a symbolic link; the daemon does not ${writing ? "write through" : "follow"} links: remove it (rm ${path})`,
      );
    }
    // Opened for writing: a FIFO with no reader, or a socket.
    case "ENXIO": {
      let kind = "a FIFO or a socket";
      try {
        kind = kindOf(lstatSync(path));
      } catch {
        // Gone meanwhile: the general kind will do.
      }
      return notRegular(label, path, kind);
    }
    case "EISDIR":
      return notRegular(label, path, "a directory");
    default:
      return error;
  }
}

export interface OpenOptions {
  /** Creation mode, with O_CREAT. */
  mode?: number;
  /** What the file is, for messages: "log " gives "log /path is ...". */
  label?: string;
}

/**
 * Opens `path` with `flags` (O_NOFOLLOW and O_NONBLOCK added), refusing anything but a regular
 * file with {@link UnsafeFileError}. Other errors (ENOENT, EACCES, ...) are thrown as they are.
 */
export function openRegularFile(path: string, flags: number, options: OpenOptions = {}): number {
  const label = options.label ?? "";
  let fd: number;
  try {
    fd = openSync(path, flags | SAFE_FLAGS, options.mode ?? 0o600);
  } catch (error) {
    throw openFailure(error, label, path, flags);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(label, path, kindOf(stats));
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

/** {@link openRegularFile} in the thread pool, as a FileHandle. */
export async function openRegularFileHandle(
  path: string,
  flags: number,
  options: OpenOptions = {},
): Promise<FileHandle> {
  const label = options.label ?? "";
  let file: FileHandle;
  try {
    file = await open(path, flags | SAFE_FLAGS, options.mode ?? 0o600);
  } catch (error) {
    throw openFailure(error, label, path, flags);
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw notRegular(label, path, kindOf(stats));
  } catch (error) {
    await file.close();
    throw error;
  }
  return file;
}

/** The whole of a regular file, read as {@link openRegularFile} opens it. */
export function readRegularFile(path: string, options: OpenOptions = {}): Buffer {
  const fd = openRegularFile(path, constants.O_RDONLY, options);
  try {
    const parts: Buffer[] = [];
    const buffer = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const bytesRead = readSync(fd, buffer, 0, buffer.length, null);
      if (bytesRead === 0) return Buffer.concat(parts);
      parts.push(Buffer.from(buffer.subarray(0, bytesRead)));
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces the file at `path` with `data` at once: written to `<path>.tmp` (a link or anything
 * else found there is removed, not followed), then renamed over it, so a reader sees the old
 * file or the new one, never part of one.
 */
export function replaceRegularFile(path: string, data: string | Uint8Array, mode = 0o600): void {
  const temporary = `${path}.tmp`;
  rmSync(temporary, { force: true });
  const fd = openRegularFile(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, {
    mode,
  });
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
