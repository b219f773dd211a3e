/**
 * The one line `claude-sessions dial-stdio` writes before it bridges its standard input and
 * output to the daemon's socket: the handshake of a remote connection.
 *
 * It tells the dialing side three things the bytes that follow cannot: that the far side is a
 * `claude-sessions` that speaks this protocol (and which version it is), that its daemon is
 * there (and whether it had to be started), or why the bridge could not be made. It is one JSON
 * object on one line; a login shell's greeting printed before it is passed over.
 */
import { parseJsonObject } from "../../daemon/common/json-object.js";

/** The dial protocol: the hello line, then HTTP/2 (gRPC) both ways. Raised on any change. */
export const DIAL_PROTOCOL = 1;

/** The key that marks a hello line, holding the protocol number. */
const MARK = "claude_sessions_dial";

export interface DialHello {
  /** The far side's dial protocol. */
  protocol: number;
  /** The far side's `claude-sessions` version. */
  version: string;
  /** The far user's home directory: what `~` is there (`start ~/src` on that machine). */
  userHome?: string | undefined;
  /** The pid of a daemon the far side started for this connection; undefined if one ran. */
  startedPid?: number | undefined;
  /**
   * Why there is no bridge: the far side's one-line error, with its gRPC status code, and
   * whether it is only that no daemon runs there (`dial-stdio --no-start`).
   */
  error?: { message: string; code: number; notRunning?: boolean } | undefined;
}

/** The hello as written: one line, newline included. */
export function helloLine(hello: Omit<DialHello, "protocol">): string {
  return `${JSON.stringify({
    [MARK]: DIAL_PROTOCOL,
    version: hello.version,
    ...(hello.userHome === undefined ? {} : { user_home: hello.userHome }),
    ...(hello.startedPid === undefined ? {} : { started_pid: hello.startedPid }),
    ...(hello.error === undefined ? {} : { error: hello.error.message, code: hello.error.code }),
    ...(hello.error?.notRunning === true ? { not_running: true } : {}),
  })}\n`;
}

/** The hello in `line` (without its newline), or undefined if the line is something else. */
export function parseHello(line: string): DialHello | undefined {
  if (!line.startsWith(`{"${MARK}":`)) return undefined;
  const fields = parseJsonObject(line);
  if (fields === undefined) return undefined;
  const protocol = fields[MARK];
  if (typeof protocol !== "number" || !Number.isInteger(protocol)) return undefined;
  const version = typeof fields.version === "string" ? fields.version : "unknown";
  const startedPid = typeof fields.started_pid === "number" ? fields.started_pid : undefined;
  const userHome = typeof fields.user_home === "string" ? fields.user_home : undefined;
  const error =
    typeof fields.error === "string"
      ? {
          message: fields.error,
          code: typeof fields.code === "number" ? fields.code : 2,
          notRunning: fields.not_running === true,
        }
      : undefined;
  return { protocol, version, userHome, startedPid, error };
}
