/** Translates Node's system errors (`error.code` such as `ENOENT`) into gRPC status codes. */
import { status } from "@grpc/grpc-js";

const table: Readonly<Record<string, status>> = {
  // A path named in the request does not exist.
  ENOENT: status.NOT_FOUND,
  // The daemon may not read or write a path: the user must fix permissions.
  EACCES: status.PERMISSION_DENIED,
  EPERM: status.PERMISSION_DENIED,
  // A file where a directory was expected, or the other way round.
  ENOTDIR: status.INVALID_ARGUMENT,
  EISDIR: status.INVALID_ARGUMENT,
  // A path or argument list too long for the system.
  ENAMETOOLONG: status.INVALID_ARGUMENT,
  E2BIG: status.INVALID_ARGUMENT,
  // The disk is full or the process hit a resource limit; retrying later may work.
  ENOSPC: status.RESOURCE_EXHAUSTED,
  EDQUOT: status.RESOURCE_EXHAUSTED,
  // A file size limit (RLIMIT_FSIZE) reached: a resource limit like the above.
  EFBIG: status.RESOURCE_EXHAUSTED,
  EMFILE: status.RESOURCE_EXHAUSTED,
  ENFILE: status.RESOURCE_EXHAUSTED,
  EAGAIN: status.RESOURCE_EXHAUSTED,
  ENOMEM: status.RESOURCE_EXHAUSTED,
  // The pseudo-terminal closed under us: the session's program is gone.
  EIO: status.FAILED_PRECONDITION,
  EPIPE: status.FAILED_PRECONDITION,
};

/** The status for a Node system error, or undefined when `error` is not one we know. */
export function statusForNodeError(error: Error): status | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined ? undefined : table[code];
}
