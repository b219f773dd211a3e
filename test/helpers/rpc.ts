/** Asserting on gRPC failures as a client sees them. */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";

/** Awaits `call`, which must fail with `code`; returns the error for more checks. */
export async function expectStatus(
  call: Promise<unknown>,
  code: grpc.status,
): Promise<grpc.ServiceError> {
  try {
    const value = await call;
    assert.fail(
      `expected ${grpc.status[code]}, but the call succeeded: ${JSON.stringify(value, (_, v) => (typeof v === "bigint" ? String(v) : v))}`,
    );
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    const failure = error as grpc.ServiceError;
    assert.equal(
      grpc.status[failure.code],
      grpc.status[code],
      `expected ${grpc.status[code]}, got ${grpc.status[failure.code]}: ${failure.details}`,
    );
    return failure;
  }
}
