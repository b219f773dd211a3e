/**
 * Where the daemon keeps its files. Wire-level: the CLI imports this to find the socket, so it
 * must stay free of heavy imports.
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/** The longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** `$CLAUDE_SESSIONS_HOME` is not an absolute path; the message says which one to set. */
export class RelativeHomeError extends Error {
  override readonly name = "RelativeHomeError";
}

/**
 * The state home: `$CLAUDE_SESSIONS_HOME`, else `~/.claude-sessions`; always absolute. A relative
 * `$CLAUDE_SESSIONS_HOME` is refused: resolved against each command's current directory, it
 * would be a different home (and daemon) in every directory.
 */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.CLAUDE_SESSIONS_HOME;
  if (!configured) return join(homedir(), ".claude-sessions");
  if (!isAbsolute(configured)) {
    const meant = /^~(\/|$)/.test(configured)
      ? join(homedir(), configured.slice(1))
      : resolve(configured);
    throw new RelativeHomeError(
      `CLAUDE_SESSIONS_HOME must be an absolute path, got '${configured}'; set it to one, e.g. CLAUDE_SESSIONS_HOME=${meant}`,
    );
  }
  return resolve(configured);
}

/** The files of one state home. */
export interface HomePaths {
  home: string;
  socket: string;
  pid: string;
  log: string;
  state: string;
  logs: string;
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    socket: join(home, "daemon.sock"),
    pid: join(home, "daemon.pid"),
    log: join(home, "daemon.log"),
    state: join(home, "state.json"),
    logs: join(home, "logs"),
  };
}

/** The gRPC address (a `unix:` target) of a unix socket path. */
export function socketAddress(socketPath: string): string {
  return `unix:${socketPath}`;
}
