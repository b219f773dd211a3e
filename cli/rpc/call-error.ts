/**
 * gRPC status codes and the error a failed call rejects with. The numbers are the protocol's
 * (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), the same as grpc-js's `status`,
 * which the CLI does not load.
 */

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

const names = new Map<number, string>(Object.entries(Status).map(([name, code]) => [code, name]));

/**
 * A call that ended with a status other than OK. Shaped like grpc-js's `ServiceError` (`code`,
 * `details`, and a message "5 NOT_FOUND: ..."), so code that handles one handles the other.
 */
export class CallError extends Error {
  override readonly name: string = "CallError";
  constructor(
    readonly code: number,
    readonly details: string,
    /**
     * False when the connection could not be opened, so the request never left: the call can
     * be made again without risk of doing its work twice.
     */
    readonly requestSent = true,
    /**
     * True when the daemon went away during the call: its connection was lost, or it reset the
     * stream, without ending the call with a status (a crash, or a shutdown that cut its calls).
     */
    readonly daemonGone = false,
  ) {
    super(`${code} ${names.get(code) ?? "UNKNOWN"}: ${details}`);
  }
}
