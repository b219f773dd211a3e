/**
 * A remote daemon's address, `ssh://[user@]host[:port]`, as `--host`, `CLAUDE_SESSIONS_HOST`
 * and contexts name it (the form docker's `-H ssh://` takes).
 */
import { UsageError } from "clipanion";

export interface SshAddress {
  /** The login name; undefined leaves it to ssh (its config, then the local user). */
  readonly user: string | undefined;
  /** A host name, an alias from the ssh config, or an address (IPv6 without brackets). */
  readonly host: string;
  /** The port; undefined leaves it to ssh (its config, then 22). */
  readonly port: number | undefined;
  /** The address as written back: `ssh://user@host:port`, with only what was given. */
  readonly url: string;
}

const FORM = "ssh://[user@]host[:port]";

/**
 * Parses `text`; `what` names where it came from (`--host`, a context) for the one-line error.
 * Only what ssh itself is given is accepted: no password, path, query or fragment.
 */
export function parseSshAddress(text: string, what: string): SshAddress {
  const wrong = (why: string) => new UsageError(`${what} must be ${FORM}, not '${text}' (${why})`);
  if (!text.startsWith("ssh://")) {
    throw wrong(text.includes("://") ? "only ssh:// is supported" : "no ssh:// in front");
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw wrong("not a URL");
  }
  if (url.password !== "") throw wrong("a password has no place here: ssh uses your keys");
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") {
    throw wrong("nothing may follow the host and port");
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw wrong("no host");
  // ssh would take a host or user starting with "-" for an option.
  const user = url.username === "" ? undefined : decodeURIComponent(url.username);
  if (host.startsWith("-") || user?.startsWith("-") === true) throw wrong("it starts with '-'");
  const port = url.port === "" ? undefined : Number(url.port);
  if (port === 0) throw wrong("port 0");
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    user,
    host,
    port,
    url: `ssh://${user === undefined ? "" : `${user}@`}${shownHost}${port === undefined ? "" : `:${port}`}`,
  };
}
