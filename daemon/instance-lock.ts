/**
 * One daemon per home. The lock is a listening socket in Linux's abstract namespace: binding it
 * is atomic, and the kernel releases it the moment its holder dies, so a crashed daemon never
 * leaves a stale lock behind and two racing starts can never both win.
 *
 * Abstract names are shared by every user of the machine, and anyone may bind any free name. A
 * name derived from the home's path alone could be bound first by another local user, and no
 * daemon would ever start for that home again. The name therefore also carries a random key kept
 * in the home (`lock.key`, mode 0600 in a 0700 directory), which only the home's owner can read.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";

/** The lock is held by another process. */
export class LockBusyError extends Error {
  override readonly name = "LockBusyError";
}

/** The home's lock key cannot be used; the message says how to fix it. */
export class LockKeyError extends Error {
  override readonly name = "LockKeyError";
}

export interface InstanceLock {
  /** Frees the lock; resolves once another process can take it. */
  release(): Promise<void>;
}

/** The key file's name in the home. */
export const LOCK_KEY_FILE = "lock.key";
const KEY_PATTERN = /^[0-9a-f]{64}\n$/;

/** The abstract socket name that stands for `home`'s lock, given its key. */
export function lockName(home: string, key: string): string {
  const digest = createHash("sha256").update(`${home}\0${key}`).digest("hex").slice(0, 32);
  return `\0claude-sessions/${process.getuid?.() ?? 0}/${digest}`;
}

/**
 * The home's lock key, created on first use. A new key is written whole to a file of its own
 * and then linked into place, which fails if another daemon starting at the same moment got
 * there first: every process that reads the key reads a complete one, the same for all.
 */
export function homeLockKey(home: string): string {
  const path = join(home, LOCK_KEY_FILE);
  const existing = readKey(path);
  if (existing !== undefined) return existing;
  const scratch = join(home, `.${LOCK_KEY_FILE}.${process.pid}.${randomBytes(4).toString("hex")}`);
  const fd = openSync(
    scratch,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeSync(fd, `${randomBytes(32).toString("hex")}\n`);
    // On disk before it has its name: after a power cut the key is whole or absent, never an
    // empty file that would keep the daemon from starting.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(scratch, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(scratch);
  }
  const key = readKey(path);
  if (key === undefined) throw new LockKeyError(`cannot read ${path}`);
  return key;
}

/** The key in `path`, or undefined if there is no such file; throws if it is not a sound one. */
function readKey(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") {
      throw new LockKeyError(`${path} is a symbolic link; remove it (rm ${path})`);
    }
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    const uid = process.getuid?.();
    if (!stats.isFile() || (uid !== undefined && stats.uid !== uid) || (stats.mode & 0o077) !== 0) {
      throw new LockKeyError(
        `${path} must be a file of yours that only you can read; remove it (rm ${path}) and start again`,
      );
    }
    const buffer = Buffer.alloc(128);
    const text = buffer.toString("latin1", 0, readSync(fd, buffer, 0, buffer.length, 0));
    if (!KEY_PATTERN.test(text)) {
      throw new LockKeyError(`${path} is damaged; remove it (rm ${path}) and start again`);
    }
    return text.trimEnd();
  } finally {
    closeSync(fd);
  }
}

/** Takes the lock for `home`, or rejects with {@link LockBusyError} if a live process holds it. */
export function acquireInstanceLock(home: string): Promise<InstanceLock> {
  const name = lockName(home, homeLockKey(home));
  return new Promise((resolve, reject) => {
    const server: Server = createServer((connection) => connection.destroy());
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE")
        reject(new LockBusyError(`another daemon holds the lock for ${home}`));
      else reject(error);
    });
    server.listen(name, () => {
      // The lock must not keep the process alive by itself.
      server.unref();
      resolve({
        release: () => new Promise<void>((closed) => server.close(() => closed())),
      });
    });
  });
}
