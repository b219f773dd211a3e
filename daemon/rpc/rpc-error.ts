/**
 * Errors to gRPC statuses, in one place ({@link toStatusObject}): the domain's
 * {@link SessionError} by its code, Node's system errors by their errno, and this layer's own
 * {@link RpcError} (a request it cannot decode) as it is; so no request ever ends as UNKNOWN with
 * a stack trace.
 */
import { status } from "@grpc/grpc-js";
import { UnsafeFileError } from "../common/regular-file.js";
import { SessionError, type SessionErrorCode } from "../session/session-error.js";
import { statusForNodeError } from "./node-error.js";

/**
 * An error carrying a gRPC status, for what only the RPC layer knows: a request or message that
 * does not decode, a method or service this daemon does not serve. The domain throws
 * {@link SessionError} instead.
 */
export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/** The status object grpc-js sends for an error thrown by a handler. */
export interface StatusObject {
  code: status;
  details: string;
}

/** The status a client sees for each domain error code. */
export const SESSION_ERROR_STATUS: Readonly<Record<SessionErrorCode, status>> = {
  "invalid-argument": status.INVALID_ARGUMENT,
  "not-found": status.NOT_FOUND,
  "already-exists": status.ALREADY_EXISTS,
  "permission-denied": status.PERMISSION_DENIED,
  "failed-precondition": status.FAILED_PRECONDITION,
  "resource-exhausted": status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
};

/**
 * Maps anything a handler threw to a status. A {@link SessionError} gets its code's status; an
 * {@link RpcError} keeps its code; a file in the home that is not a regular file (a session's log
 * replaced by a FIFO) is a precondition the user must fix, as its message says; a Node system
 * error (`ENOENT`, `EACCES`, ...) is translated by the errno table; anything else is a bug and is
 * reported as INTERNAL with its message, never as UNKNOWN.
 */
export function toStatusObject(error: unknown): StatusObject {
  if (error instanceof SessionError)
    return { code: SESSION_ERROR_STATUS[error.code], details: error.message };
  if (error instanceof RpcError) return { code: error.code, details: error.message };
  if (error instanceof UnsafeFileError)
    return { code: status.FAILED_PRECONDITION, details: error.message };
  if (error instanceof Error) {
    const code = statusForNodeError(error);
    if (code !== undefined) return { code, details: error.message };
    return { code: status.INTERNAL, details: `internal error: ${error.message}` };
  }
  return { code: status.INTERNAL, details: `internal error: ${String(error)}` };
}
