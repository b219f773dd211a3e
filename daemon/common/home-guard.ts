/**
 * Keeps the state home private. Like tmux with its socket directory, the daemon refuses a home
 * that another user owns or that group/other can reach, and says how to fix it; clients refuse
 * to connect through such a home, or to a socket that is not the user's, with the same words.
 */
import { lstatSync, mkdirSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { MAX_SOCKET_PATH_BYTES } from "./paths.js";

/** A problem with the home or socket that the user must fix; the message says how. */
export class UnsafeHomeError extends Error {
  override readonly name = "UnsafeHomeError";
}

/** Creates `home` (mode 0700) if needed and checks that it is a private directory of ours. */
export function ensurePrivateHome(home: string): void {
  mkdirSync(dirname(home), { recursive: true });
  try {
    mkdirSync(home, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  checkPrivateDirectory(home);
}

/**
 * Creates the home's `logs/` (mode 0700) if needed and holds it to the home's standard. A
 * symbolic link there would send every session's output wherever it points; the daemon never
 * follows one, and says how to put a real directory back.
 */
export function ensurePrivateLogsDirectory(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  checkPrivateDirectory(dir, {
    symlink: `remove the link (rm ${dir}); the daemon creates a real directory there`,
    notDirectory: `remove it (rm ${dir}); the daemon creates a directory there`,
    owner: (uid) => `give it back to you with: chown -R ${uid} ${dir}, or remove it`,
  });
}

/** What to tell the user for each way a directory can be unsafe. */
interface DirectoryAdvice {
  symlink: string;
  notDirectory: string;
  owner: (uid: number) => string;
}

const homeAdvice: DirectoryAdvice = {
  symlink: "use a real directory (set CLAUDE_SESSIONS_HOME to its target)",
  notDirectory: "remove it or set CLAUDE_SESSIONS_HOME to another path",
  owner: () => "use a directory of your own (CLAUDE_SESSIONS_HOME)",
};

/** Throws {@link UnsafeHomeError} unless `dir` is a real directory, ours, with no group/other bits. */
export function checkPrivateDirectory(dir: string, advice: DirectoryAdvice = homeAdvice): void {
  checkDirectoryStats(dir, lstatSync(dir), advice);
}

function checkDirectoryStats(dir: string, stats: Stats, advice: DirectoryAdvice): void {
  if (stats.isSymbolicLink()) {
    throw new UnsafeHomeError(`${dir} is a symbolic link; ${advice.symlink}`);
  }
  if (!stats.isDirectory()) {
    throw new UnsafeHomeError(`${dir} is not a directory; ${advice.notDirectory}`);
  }
  checkOursAndPrivate(dir, stats, advice.owner, 0o700);
}

/**
 * Checks, before a client connects, that only the user's own daemon can be listening at
 * `socket`. Whoever can write its directory can serve a socket there and be sent every
 * session's environment, so the directory (the home) and the socket are held to the daemon's
 * standard: ours, closed to group and other, no symbolic link, a socket. What does not exist
 * passes: nothing answers there, and a daemon started for that home checks it itself.
 */
export function checkDaemonSocket(socket: string): void {
  const home = dirname(socket);
  const homeStats = lstatIfAny(home);
  if (homeStats === undefined) return;
  checkDirectoryStats(home, homeStats, homeAdvice);
  const stats = lstatIfAny(socket);
  if (stats === undefined) return;
  if (!stats.isSocket()) throw new UnsafeHomeError(notASocket(socket, stats));
  checkOursAndPrivate(
    socket,
    stats,
    () => `remove it (rm ${socket}); your own daemon makes its socket when it starts`,
    0o600,
  );
}

/** What to say about a file at the socket's path that is not a socket. */
export function notASocket(socket: string, stats: Stats): string {
  return `${socket} exists and is not a socket (${stats.isSymbolicLink() ? "a symbolic link" : "a file"}); remove it and start again`;
}

function lstatIfAny(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Throws unless `path` belongs to us and grants nothing to group or other. */
function checkOursAndPrivate(
  path: string,
  stats: Stats,
  ownerAdvice: (uid: number) => string,
  privateMode: number,
): void {
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new UnsafeHomeError(
      `${path} belongs to uid ${stats.uid}, not to you (uid ${uid}); ${ownerAdvice(uid)}`,
    );
  }
  const mode = stats.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new UnsafeHomeError(
      `${path} is accessible to other users (mode ${mode.toString(8).padStart(4, "0")}); fix it with: chmod ${privateMode.toString(8)} ${path}`,
    );
  }
}

/** Throws when the socket path does not fit in a unix socket address. */
export function checkSocketPathLength(socketPath: string): void {
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new UnsafeHomeError(
      `socket path ${socketPath} is ${bytes} bytes, longer than the ${MAX_SOCKET_PATH_BYTES} a unix socket allows; set CLAUDE_SESSIONS_HOME to a shorter directory`,
    );
  }
}
