/**
 * A remote connection that could not be made (ssh is missing, the host key is unknown, the login
 * was refused, the far side has no `claude-sessions`), or that was lost: a call's failure whose
 * message is already the one line a person needs. Free of child processes, so every command can
 * know it without loading the ssh transport.
 */
import { CallError } from "../rpc/call-error.js";

export class RemoteError extends CallError {
  override readonly name = "RemoteError";
  constructor(
    code: number,
    message: string,
    requestSent = false,
    /** The far side was reached, and only said that no daemon runs there. */
    readonly notRunning = false,
  ) {
    super(code, message, requestSent, requestSent);
  }
}
