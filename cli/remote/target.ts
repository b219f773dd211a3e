/**
 * Which daemon a command talks to: this machine's (its home's socket, or `--socket`), or one on
 * another machine through ssh (`--host`, `--context`, `CLAUDE_SESSIONS_HOST`,
 * `CLAUDE_SESSIONS_CONTEXT`, or the context `context use` chose), in that order.
 */
import { existsSync } from "node:fs";
import { UsageError } from "clipanion";
import { homePaths } from "../../daemon/common/paths.js";
import { DEFAULT_CONTEXT, findContext, readContexts } from "./contexts.js";
import { parseSshAddress, type SshAddress } from "./ssh-url.js";

export type DaemonTarget =
  | {
      kind: "local";
      /** A socket named by hand (`--socket`); undefined: the home's. */
      socket: string | undefined;
    }
  | {
      kind: "ssh";
      address: SshAddress;
      /** The command that runs `claude-sessions` on the far side. */
      program: string;
      /** The context it came from, if any. */
      context: string | undefined;
    };

export interface TargetFlags {
  socket?: string | undefined;
  host?: string | undefined;
  context?: string | undefined;
}

/** The far side's program: the context's, else `CLAUDE_SESSIONS_REMOTE_PROGRAM`, else the default. */
function remoteProgram(env: NodeJS.ProcessEnv, fromContext?: string): string {
  const fromEnv = env.CLAUDE_SESSIONS_REMOTE_PROGRAM;
  if (fromContext !== undefined && fromContext !== "") return fromContext;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return fromEnv;
  return "claude-sessions";
}

function sshTarget(host: string, what: string, env: NodeJS.ProcessEnv): DaemonTarget {
  return {
    kind: "ssh",
    address: parseSshAddress(host, what),
    program: remoteProgram(env),
    context: undefined,
  };
}

/** The target of the context `name` in `home`. */
export function contextTarget(home: string, name: string, env: NodeJS.ProcessEnv): DaemonTarget {
  if (name === DEFAULT_CONTEXT) return { kind: "local", socket: undefined };
  const context = findContext(readContexts(home), name);
  return {
    kind: "ssh",
    address: parseSshAddress(context.host, `context '${name}''s host`),
    program: remoteProgram(env, context.program),
    context: name,
  };
}

/**
 * The daemon the flags, the environment and the home's current context name. `home` is called
 * only when a context must be read.
 */
export function resolveTarget(
  flags: TargetFlags,
  home: () => string,
  env: NodeJS.ProcessEnv = process.env,
): DaemonTarget {
  const given = (["socket", "host", "context"] as const).filter((key) => flags[key] !== undefined);
  if (given.length > 1) {
    throw new UsageError(`--${given[0]} and --${given[1]} name two daemons; give one of them`);
  }
  if (flags.socket !== undefined) return { kind: "local", socket: flags.socket };
  if (flags.host !== undefined) return sshTarget(flags.host, "--host", env);
  if (flags.context !== undefined) return contextTarget(home(), flags.context, env);
  const envHost = env.CLAUDE_SESSIONS_HOST;
  if (envHost !== undefined && envHost !== "")
    return sshTarget(envHost, "CLAUDE_SESSIONS_HOST", env);
  const envContext = env.CLAUDE_SESSIONS_CONTEXT;
  if (envContext !== undefined && envContext !== "") return contextTarget(home(), envContext, env);
  const dir = home();
  // Most homes have no contexts file: nothing to read.
  if (!existsSync(homePaths(dir).contexts)) return { kind: "local", socket: undefined };
  const { current } = readContexts(dir);
  return current === undefined
    ? { kind: "local", socket: undefined }
    : contextTarget(dir, current, env);
}
