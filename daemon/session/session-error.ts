/**
 * The daemon's own error: what went wrong, said in the domain's words, for any part to throw.
 * It knows no transport; `daemon/rpc/` turns its code into a gRPC status, in one table.
 */

/**
 * What kind of refusal an error is, by what the caller can do about it. The names follow the
 * usual RPC codes, so the mapping to the wire is one entry each.
 */
export const SESSION_ERROR_CODES = [
  /** The request itself is wrong: a bad name, size, path or command. */
  "invalid-argument",
  /** No session matches what was asked for. */
  "not-found",
  /** What the request would create is taken: a session name in use. */
  "already-exists",
  /** The daemon may not read or use a path the request names. */
  "permission-denied",
  /** The request is fine, but not in the session's present state (ended, running, ambiguous). */
  "failed-precondition",
  /** A limit is reached (open files, unread input); it may work later. */
  "resource-exhausted",
  /** The daemon is shutting down and takes no new work. */
  "unavailable",
] as const;

export type SessionErrorCode = (typeof SESSION_ERROR_CODES)[number];

/** A refusal the caller can understand and act on: its message says what to do. */
export class SessionError extends Error {
  override readonly name = "SessionError";
  constructor(
    readonly code: SessionErrorCode,
    message: string,
  ) {
    super(message);
  }
}
