/**
 * A typed error carrying a gRPC status. Thrown anywhere in the daemon; turned into the call's
 * status in one place ({@link toStatusObject}), so no request ever ends as UNKNOWN with a stack
 * trace.
 */
import { status } from "@grpc/grpc-js";
import { UnsafeFileError } from "../common/regular-file.js";
import { statusForNodeError } from "./node-error.js";

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

/**
 * Maps anything a handler threw to a status. An {@link RpcError} keeps its code; a file in the
 * home that is not a regular file (a session's log replaced by a FIFO) is a precondition the
 * user must fix, as its message says; a Node system error (`ENOENT`, `EACCES`, ...) is
 * translated by the errno table; anything else is a bug and is reported as INTERNAL with its
 * message, never as UNKNOWN.
 */
export function toStatusObject(error: unknown): StatusObject {
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
