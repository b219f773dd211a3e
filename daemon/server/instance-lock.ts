/**
 * One daemon per home. The lock is a listening socket in Linux's abstract namespace: binding it
 * is atomic, and the kernel releases it the moment its holder dies, so a crashed daemon never
 * leaves a stale lock behind and two racing starts can never both win.
 *
 * Abstract names are shared by every user of the machine, and anyone may bind any free one. The
 * names are therefore derived from a random key kept in the home (`lock.key`, mode 0600 in a 0700
 * directory), so no other user can take one before it is first used. A name in use is visible in
 * /proc/net/unix, though, and someone could bind it once our daemon has stopped. So when a name
 * is taken, the daemon looks at who holds it: a process of ours means another daemon runs; a
 * process of another user means the name was squatted, and the next name in the key's sequence
 * is tried. Every daemon of the home walks the same sequence, so they still exclude each other.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { openRegularFile, UnsafeFileError } from "../common/regular-file.js";

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

/** How many names of the sequence are tried before giving up on squatted ones. */
const MAX_NAMES = 32;
/** How many times one name is tried while its holders come and go. */
const MAX_ATTEMPTS = 5;
/** sun_path's size on Linux: an abstract name bound padded to it is the same address on every Node. */
const SUN_PATH_BYTES = 108;

/** The `index`-th abstract socket name that can stand for `home`'s lock, given its key. */
export function lockName(home: string, key: string, index = 0): string {
  const digest = createHash("sha256")
    .update(`${home}\0${key}\0${index}`)
    .digest("hex")
    .slice(0, 32);
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
  const fd = openRegularFile(scratch, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, {
    mode: 0o600,
  });
  // Removed however the key's writing ends: a write that fails (a full disk) must not leave the
  // scratch file behind, one more at every start.
  try {
    try {
      const text = `${randomBytes(32).toString("hex")}\n`;
      // A short write would link a damaged key, which every later start refuses.
      if (writeSync(fd, text) < text.length)
        throw Object.assign(new Error(`no space left to write ${path}`), { code: "ENOSPC" });
      // On disk before it has its name: after a power cut the key is whole or absent, never an
      // empty file that would keep the daemon from starting.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
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
    fd = openRegularFile(path, constants.O_RDONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    if (error instanceof UnsafeFileError) throw new LockKeyError(error.message);
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

/**
 * Takes the lock for `home`, or rejects with {@link LockBusyError} if a daemon of ours holds it
 * (or {@link LockKeyError} if other users hold every name of the sequence).
 */
export async function acquireInstanceLock(home: string): Promise<InstanceLock> {
  const key = homeLockKey(home);
  const busy = new LockBusyError(`another daemon holds the lock for ${home}`);
  for (let index = 0; index < MAX_NAMES; index++) {
    const name = lockName(home, key, index);
    // A name is given up only when others were seen holding it twice: a daemon of ours that
    // was exiting as we looked must not send us to the next name while another start takes
    // this one.
    let takenByOthers = 0;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && takenByOthers < 2; attempt++) {
      try {
        return await bindLock(name);
      } catch (error) {
        if (!(error instanceof LockBusyError)) throw error;
      }
      const holder = holderOf(name);
      if (holder === "ours") throw busy;
      if (holder === "others") takenByOthers += 1;
      // "gone": its holder exited as we looked; try the name again.
    }
    // Whoever kept taking it could not be told apart: count it as a daemon of ours.
    if (takenByOthers < 2) throw busy;
  }
  const path = join(home, LOCK_KEY_FILE);
  throw new LockKeyError(
    `other users' processes hold all ${MAX_NAMES} lock names of ${home}; remove ${path} (rm ${path}) to get new ones`,
  );
}

function bindLock(name: string): Promise<InstanceLock> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer((connection) => connection.destroy());
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") reject(new LockBusyError("the name is taken"));
      else reject(error);
    });
    // Node 20 pads an abstract name with NULs to the whole of sun_path, Node 24 binds it at its
    // length: two different addresses, so daemons of one home on the two would not exclude
    // each other. Padded here, it is the one address whichever Node binds it.
    server.listen(name.padEnd(SUN_PATH_BYTES, "\0"), () => {
      // The lock must not keep the process alive by itself.
      server.unref();
      resolve({
        release: () => new Promise<void>((closed) => server.close(() => closed())),
      });
    });
  });
}

/**
 * Who holds the abstract socket `name`: its inodes from /proc/net/unix, looked for among the
 * open files of our processes. "gone" if it is not listed any more. If /proc cannot tell, the
 * holder counts as ours, so that a busy lock is never taken for a squatted one. (The lock's name
 * is bound padded with NULs to the whole address, which /proc/net/unix shows as '@'s.)
 */
function holderOf(name: string): "ours" | "others" | "gone" {
  const shown = `@${name.slice(1)}`;
  const inodes = new Set<string>();
  let listing: string;
  try {
    listing = readFileSync("/proc/net/unix", "latin1");
  } catch {
    return "ours";
  }
  for (const line of listing.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const path = fields[7];
    if (path === undefined || !path.startsWith(shown)) continue;
    if (/^@*$/.test(path.slice(shown.length))) inodes.add(`socket:[${fields[6]}]`);
  }
  if (inodes.size === 0) return "gone";
  const uid = process.getuid?.();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      if (uid !== undefined && statSync(`/proc/${entry}`).uid !== uid) continue;
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // Gone meanwhile, or not ours to look at.
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return "ours";
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return "others";
}
