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
  /** The session hosts' sockets, exit records and the host key (0700). */
  run: string;
  hostKey: string;
  /** What Claude Code sessions get to report their activity: a hook script and its settings. */
  claudeHook: string;
  claudeSettings: string;
  /** The git worktrees of sessions started with one: <repository>-<hash>/<branch>. */
  worktrees: string;
  /** The snapshots of sessions: <id>/snapshot.json, its screen and its transcript's copy (0700). */
  snapshots: string;
  /** The daemon's config file: session defaults, the notify command, the web UI's port. */
  config: string;
  /** The running web UI's access token (0600), while `claude-sessions web` serves. */
  webToken: string;
  /** The CLI's contexts: named remote daemons, and which one commands use (0600). */
  contexts: string;
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    socket: join(home, "daemon.sock"),
    pid: join(home, "daemon.pid"),
    log: join(home, "daemon.log"),
    state: join(home, "state.json"),
    logs: join(home, "logs"),
    run: join(home, "run"),
    hostKey: join(home, "run", "host.key"),
    claudeHook: join(home, "run", "claude-hook.sh"),
    claudeSettings: join(home, "run", "claude-settings.json"),
    worktrees: join(home, "worktrees"),
    snapshots: join(home, "snapshots"),
    config: join(home, "config.json"),
    webToken: join(home, "web.token"),
    contexts: join(home, "contexts.json"),
  };
}

/** The files of one session's host, in the home's run directory. */
export interface HostPaths {
  /** The host's socket, served to the daemon only. */
  socket: string;
  /** The program's exit, written by the host before it ends itself. */
  exit: string;
  /** The host's own error output. */
  errors: string;
  /** The daemon's last checkpoint of the session's screen. */
  screen: string;
  /** Claude Code only: where its hooks drop their events, for the host to read. */
  hooks: string;
  /** Claude Code only: the settings given with --settings when the user gave their own too. */
  settings: string;
}

export function hostPaths(paths: HomePaths, sessionId: string): HostPaths {
  return {
    socket: join(paths.run, `${sessionId}.sock`),
    exit: join(paths.run, `${sessionId}.exit`),
    errors: join(paths.run, `${sessionId}.err`),
    screen: join(paths.run, `${sessionId}.screen`),
    hooks: join(paths.run, `${sessionId}.hooks`),
    settings: join(paths.run, `${sessionId}.settings.json`),
  };
}

/** The gRPC address (a `unix:` target) of a unix socket path. */
export function socketAddress(socketPath: string): string {
  return `unix:${socketPath}`;
}
