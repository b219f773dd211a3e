/**
 * The one table from errors to gRPC statuses: each domain code gets the status of its name, with
 * the message as it is; Node's errno codes, an unsafe file and anything else as they always were.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { UnsafeFileError } from "../../daemon/common/regular-file.js";
import { RpcError, toStatusObject } from "../../daemon/rpc/rpc-error.js";
import {
  SESSION_ERROR_CODES,
  SessionError,
  type SessionErrorCode,
} from "../../daemon/session/session-error.js";

/**
 * The status of the same name as a domain code ("not-found" is NOT_FOUND): derived from the
 * name, not read from the table, so a changed or missing entry fails here.
 */
function sameName(code: SessionErrorCode): status {
  const named = (status as unknown as Record<string, status | undefined>)[
    code.toUpperCase().replaceAll("-", "_")
  ];
  assert.ok(named !== undefined, `no gRPC status is named like ${code}`);
  return named;
}

describe("error to gRPC status", () => {
  it("maps every domain code to the status of the same name, keeping the message", () => {
    for (const code of SESSION_ERROR_CODES) {
      const message = `refused as ${code}; do this instead`;
      assert.deepEqual(
        toStatusObject(new SessionError(code, message)),
        { code: sameName(code), details: message },
        code,
      );
    }
  });

  it("keeps the status of an error the RPC layer raised itself", () => {
    assert.deepEqual(toStatusObject(new RpcError(status.UNIMPLEMENTED, "not served here")), {
      code: status.UNIMPLEMENTED,
      details: "not served here",
    });
  });

  it("translates Node's errno codes, and an unsafe file in the home is a precondition", () => {
    const errno = (code: string) => Object.assign(new Error(`${code}: it failed`), { code });
    const cases: Array<[Error, status]> = [
      [errno("ENOENT"), status.NOT_FOUND],
      [errno("EACCES"), status.PERMISSION_DENIED],
      [errno("ENOSPC"), status.RESOURCE_EXHAUSTED],
      [errno("EIO"), status.FAILED_PRECONDITION],
      [new UnsafeFileError("logs/x.jsonl is a FIFO; remove it"), status.FAILED_PRECONDITION],
    ];
    for (const [error, code] of cases)
      assert.deepEqual(toStatusObject(error), { code, details: error.message }, error.message);
  });

  it("reports anything else as INTERNAL with its message, never UNKNOWN", () => {
    assert.deepEqual(toStatusObject(new TypeError("x is undefined")), {
      code: status.INTERNAL,
      details: "internal error: x is undefined",
    });
    assert.deepEqual(toStatusObject("a string"), {
      code: status.INTERNAL,
      details: "internal error: a string",
    });
  });
});
