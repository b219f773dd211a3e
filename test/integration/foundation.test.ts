/**
 * The API as a stranger sees it: server reflection (v1 and v1alpha) with stubs generated from
 * the public reflection.proto, health checking, and Ping through the typed client.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { socketAddress } from "../../daemon/common/paths.js";
import { VERSION } from "../../daemon/common/version.js";
import { createServiceClient } from "../../daemon/rpc/service-binding.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { DaemonFixture, type DaemonHandle } from "../helpers/daemon-fixture.js";
import { repoRoot } from "../helpers/paths.js";

type Reflection = typeof v1.ServerReflection | typeof v1alpha.ServerReflection;

/** Sends one reflection request and returns the one response. */
async function reflect(
  channel: grpc.Client,
  service: Reflection,
  request: Record<string, unknown>,
): Promise<{ messageResponse: { case: string | undefined; value?: unknown } }> {
  const client = createServiceClient(service as typeof v1.ServerReflection, channel);
  const call = client.serverReflectionInfo();
  const answer = new Promise<v1.ServerReflectionResponse>((resolve, reject) => {
    call.once("data", resolve);
    call.once("error", reject);
  });
  call.write(request as never);
  const response = await answer;
  call.end();
  return response;
}

function fileNames(response: {
  messageResponse: { case: string | undefined; value?: unknown };
}): string[] {
  assert.equal(response.messageResponse.case, "fileDescriptorResponse");
  const value = response.messageResponse.value as v1.FileDescriptorResponse;
  return value.fileDescriptorProto.map(
    (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
  );
}

describe("foundation: reflection, health and ping over the real socket", () => {
  const fixture = new DaemonFixture();
  let daemon: DaemonHandle;
  let channel: grpc.Client;

  before(async () => {
    daemon = await fixture.start();
    channel = new grpc.Client(socketAddress(daemon.socket), grpc.credentials.createInsecure());
  });

  after(async () => {
    channel.close();
    await fixture.cleanup();
  });

  for (const [version, service] of [
    ["v1", v1.ServerReflection],
    ["v1alpha", v1alpha.ServerReflection],
  ] as const) {
    it(`${version}: list_services names both services`, async () => {
      const response = await reflect(channel, service, {
        messageRequest: { case: "listServices", value: "" },
      });
      assert.equal(response.messageResponse.case, "listServicesResponse");
      const names = (response.messageResponse.value as v1.ListServiceResponse).service.map(
        (entry) => entry.name,
      );
      assert.ok(names.includes("claude_sessions.v1.SessionService"), names.join(","));
      assert.ok(names.includes("claude_sessions.v1.DaemonService"), names.join(","));
    });

    it(`${version}: file_containing_symbol returns the file and its dependencies`, async () => {
      const response = await reflect(channel, service, {
        messageRequest: {
          case: "fileContainingSymbol",
          value: "claude_sessions.v1.SessionService",
        },
      });
      const names = fileNames(response);
      assert.equal(names[0], "claude_sessions/v1/session_service.proto");
      assert.ok(names.includes("claude_sessions/v1/session.proto"), names.join(","));
      assert.ok(names.includes("google/protobuf/timestamp.proto"), names.join(","));
      assert.ok(names.includes("google/protobuf/duration.proto"), names.join(","));
      // The documentation travels with the descriptors, for grpcurl describe.
      const value = response.messageResponse.value as v1.FileDescriptorResponse;
      const file = fromBinary(
        FileDescriptorProtoSchema,
        value.fileDescriptorProto[0] as Uint8Array,
      );
      const comments =
        file.sourceCodeInfo?.location.map((location) => location.leadingComments).join("\n") ?? "";
      assert.match(comments, /StartSession starts a program in a new pseudo-terminal/);
    });

    it(`${version}: a method, a nested symbol and a file name resolve; an unknown symbol is NOT_FOUND`, async () => {
      assert.equal(
        fileNames(
          await reflect(channel, service, {
            messageRequest: {
              case: "fileContainingSymbol",
              value: "claude_sessions.v1.DaemonService.Ping",
            },
          }),
        )[0],
        "claude_sessions/v1/daemon.proto",
      );
      assert.equal(
        fileNames(
          await reflect(channel, service, {
            messageRequest: { case: "fileByFilename", value: "google/protobuf/timestamp.proto" },
          }),
        )[0],
        "google/protobuf/timestamp.proto",
      );
      const missing = await reflect(channel, service, {
        messageRequest: { case: "fileContainingSymbol", value: "no.such.Thing" },
      });
      assert.equal(missing.messageResponse.case, "errorResponse");
      assert.equal(
        (missing.messageResponse.value as v1.ErrorResponse).errorCode,
        grpc.status.NOT_FOUND,
      );
    });
  }

  it("health: Check('') and each service are SERVING; an unknown service is NOT_FOUND", async () => {
    const health = createServiceClient(Health, channel);
    for (const service of [
      "",
      "claude_sessions.v1.SessionService",
      "claude_sessions.v1.DaemonService",
    ]) {
      const response = await health.check({ service });
      assert.equal(response.status, HealthCheckResponse_ServingStatus.SERVING, service);
    }
    await assert.rejects(
      health.check({ service: "no.such.Service" }),
      (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.NOT_FOUND);
        return true;
      },
    );
  });

  it("Ping through the typed client returns the daemon's pid and version", async () => {
    const pong = await daemon.client.daemon.ping({});
    assert.equal(pong.pid, daemon.pid);
    assert.equal(pong.version, VERSION);
    const pkg = JSON.parse(readFileSync(`${repoRoot}/package.json`, "utf8")) as { version: string };
    assert.equal(pong.version, pkg.version);
    assert.ok(pong.uptime !== undefined);
    assert.equal(pong.home, daemon.home);
  });

  it("malformed request bytes are INVALID_ARGUMENT and the daemon keeps answering", async () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]);
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      channel.makeUnaryRequest(
        "/claude_sessions.v1.SessionService/GetSession",
        (value: Buffer) => value,
        (value: Buffer) => value,
        garbage,
        new grpc.Metadata(),
        {},
        (err) => resolve(err as grpc.ServiceError),
      );
    });
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT, error.details);
    assert.equal((await daemon.client.daemon.ping({})).pid, daemon.pid);
  });
});
