/**
 * Failed calls as the CLI reports them: one line a person can act on, with the gRPC status
 * kept for programs. Free of grpc-js, so commands can use it without loading it.
 */
import { RemoteError } from "./remote/remote-error.js";
import { CallError, Status } from "./rpc/call-error.js";

/** A failed call, with a one-line message for people and the gRPC status for programs. */
export class ClientError extends Error {
  override readonly name = "ClientError";
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** A failed call from grpc-js (`ServiceError`) or from the CLI's transport (`CallError`). */
interface StatusError extends Error {
  code: number;
  details: string;
}

function isStatusError(error: unknown): error is StatusError {
  return error instanceof Error && typeof (error as StatusError).code === "number";
}

/**
 * Turns a gRPC failure into a {@link ClientError} with a message a person can act on; `address`
 * is where the daemon is (its socket's path, or `ssh://host`).
 */
export function toClientError(error: unknown, address: string): Error {
  if (!isStatusError(error)) return error instanceof Error ? error : new Error(String(error));
  // A remote connection's failures already say what happened, in ssh's terms.
  if (error instanceof RemoteError) return new ClientError(error.details, error.code);
  if (error instanceof CallError && error.daemonGone) return daemonGone(address, error.details);
  if (error.code === Status.UNAVAILABLE && !/shutting down/.test(error.details)) {
    return new ClientError(
      `daemon is not running (nothing answers on ${address}); start it with: claude-sessions daemon`,
      error.code,
    );
  }
  if (error.code === Status.DEADLINE_EXCEEDED) {
    return new ClientError(
      `the daemon on ${address} did not answer (${error.details}); if it hangs, see daemon.log in its home and restart it; CLAUDE_SESSIONS_CALL_TIMEOUT sets how long to wait`,
      error.code,
    );
  }
  return new ClientError(error.details || error.message, error.code);
}

/**
 * The daemon went away under a call or a stream that it had taken (it crashed, or shut down):
 * `how` says what the client saw.
 */
export function daemonGone(address: string, how: string): ClientError {
  return new ClientError(
    `the daemon on ${address} went away (${how}); see: claude-sessions status`,
    Status.UNAVAILABLE,
  );
}
