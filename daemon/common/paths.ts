/**
 * Where the daemon keeps its files. Wire-level: the CLI imports this to find the socket, so it
 * must stay free of heavy imports.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** The state home: `$CLAUDE_SESSIONS_HOME`, else `~/.claude-sessions`; always absolute. */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.CLAUDE_SESSIONS_HOME;
  return configured ? resolve(configured) : join(homedir(), ".claude-sessions");
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
