/**
 * A client that knows nothing but the socket, as grpcurl is: it learns the API through server
 * reflection, builds a registry from the file descriptors the daemon returns, and calls
 * StartSession and AttachSession with messages made from those descriptors, over raw grpc-js
 * calls. No stub generated from our protos is imported here.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  create,
  createFileRegistry,
  type DescMethod,
  type DescService,
  type FileRegistry,
  fromBinary,
  fromJson,
  type JsonValue,
  type Message,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { DaemonFixture, type DaemonHandle } from "../helpers/daemon-fixture.js";
import type { TempHome } from "../helpers/temp-home.js";

const SESSION_SERVICE = "claude_sessions.v1.SessionService";

/**
 * One ServerReflectionInfo stream, asked one question at a time, as grpcurl keeps one stream
 * open for a whole invocation.
 */
class ReflectionStream {
  private readonly call: grpc.ClientDuplexStream<ServerReflectionRequest, ServerReflectionResponse>;
  private readonly answers: ServerReflectionResponse[] = [];
  private waiting: ((answer: ServerReflectionResponse | Error) => void) | undefined;
  private failure: Error | undefined;

  constructor(channel: grpc.Client) {
    this.call = channel.makeBidiStreamRequest(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      (request: ServerReflectionRequest) =>
        Buffer.from(toBinary(ServerReflectionRequestSchema, request)),
      (bytes: Buffer) => fromBinary(ServerReflectionResponseSchema, bytes),
      new grpc.Metadata(),
      { deadline: Date.now() + 30_000 },
    );
    this.call.on("data", (answer: ServerReflectionResponse) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) waiting(answer);
      else this.answers.push(answer);
    });
    this.call.on("error", (error: Error) => {
      this.failure = error;
      this.waiting?.(error);
    });
  }

  async ask(
    messageRequest: ServerReflectionRequest["messageRequest"],
  ): Promise<ServerReflectionResponse["messageResponse"]> {
    this.call.write(create(ServerReflectionRequestSchema, { messageRequest }));
    const answer =
      this.answers.shift() ??
      (await new Promise<ServerReflectionResponse | Error>((resolve) => {
        if (this.failure) resolve(this.failure);
        else this.waiting = resolve;
      }));
    if (answer instanceof Error) throw answer;
    return answer.messageResponse;
  }

  close(): void {
    this.call.end();
  }
}

/** The gRPC path of a method found in the descriptors: `/package.Service/Method`. */
function pathOf(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** A unary call whose request and response are only known from descriptors; JSON in and out. */
function callUnary<T>(channel: grpc.Client, method: DescMethod, request: JsonValue): Promise<T> {
  return new Promise((resolve, reject) => {
    channel.makeUnaryRequest(
      pathOf(method),
      (message: Message) => Buffer.from(toBinary(method.input, message)),
      (bytes: Buffer) => fromBinary(method.output, bytes),
      fromJson(method.input, request),
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (error, response) => {
        if (error || response === undefined) reject(error ?? new Error("no response"));
        else resolve(toJson(method.output, response) as unknown as T);
      },
    );
  });
}

/** A server-streaming call, every response as JSON, until the server completes the stream. */
async function callServerStream(
  channel: grpc.Client,
  method: DescMethod,
  request: JsonValue,
  onResponse: (response: JsonValue) => void,
): Promise<void> {
  const call = channel.makeServerStreamRequest(
    pathOf(method),
    (message: Message) => Buffer.from(toBinary(method.input, message)),
    (bytes: Buffer) => fromBinary(method.output, bytes),
    fromJson(method.input, request),
    new grpc.Metadata(),
    { deadline: Date.now() + 15_000 },
  );
  for await (const response of call as AsyncIterable<Message>) {
    onResponse(toJson(method.output, response));
  }
}

function method(service: DescService, name: string): DescMethod {
  const found = service.methods.find((candidate) => candidate.name === name);
  assert.ok(found, `${service.typeName} has no method ${name}`);
  return found;
}

interface SessionJson {
  id: string;
  state: string;
  exitCode?: number;
  command: string[];
}

describe("reflection client: the API learnt from the socket alone", () => {
  const fixture = new DaemonFixture();
  let daemon: DaemonHandle | undefined;
  let workDir: TempHome | undefined;
  let channel: grpc.Client;
  let reflection: ReflectionStream;
  let registry: FileRegistry | undefined;
  let sessionId = "";

  before(async () => {
    daemon = await fixture.start();
    workDir = fixture.work;
    channel = new grpc.Client(`unix:${daemon.socket}`, grpc.credentials.createInsecure());
    reflection = new ReflectionStream(channel);
  });

  after(async () => {
    reflection?.close();
    channel?.close();
    await fixture.cleanup();
  });

  it("list_services names the session service", async () => {
    const answer = await reflection.ask({ case: "listServices", value: "" });
    assert.equal(answer.case, "listServicesResponse");
    const names = answer.value.service.map((service) => service.name);
    assert.ok(names.includes(SESSION_SERVICE), names.join(", "));
  });

  it("file_containing_symbol returns the service's file and every file it imports", async () => {
    const answer = await reflection.ask({ case: "fileContainingSymbol", value: SESSION_SERVICE });
    assert.equal(answer.case, "fileDescriptorResponse");
    const files = answer.value.fileDescriptorProto.map((bytes) =>
      fromBinary(FileDescriptorProtoSchema, bytes),
    );
    // The file comes first, then its imports; createFileRegistry throws on an import that is
    // not among them.
    const first = files[0];
    assert.ok(first);
    assert.equal(first.name, "claude_sessions/v1/session_service.proto");
    registry = createFileRegistry(first, (name) => files.find((file) => file.name === name));
    const service = registry.getService(SESSION_SERVICE);
    assert.ok(service, `${SESSION_SERVICE} is not in the returned descriptors`);
    const start = method(service, "StartSession");
    assert.equal(start.methodKind, "unary");
    assert.equal(pathOf(start), "/claude_sessions.v1.SessionService/StartSession");
    assert.equal(method(service, "AttachSession").methodKind, "server_streaming");
    // The JSON name grpcurl prints; it accepts the proto name (working_dir) as well.
    const workingDir = start.input.fields.find((field) => field.name === "working_dir");
    assert.equal(workingDir?.jsonName, "workingDir");
  });

  it("StartSession, built from those descriptors, runs bash in the directory", async () => {
    assert.ok(registry && workDir, "the descriptors were not fetched");
    const service = registry.getService(SESSION_SERVICE);
    assert.ok(service);
    // The request as a grpcurl user types it: -d '{"working_dir": ..., "command": [...]}'.
    const response = await callUnary<{ session: SessionJson }>(
      channel,
      method(service, "StartSession"),
      { working_dir: workDir.path, command: ["bash", "-c", "echo reflected-$((40+2))"] },
    );
    sessionId = response.session.id;
    assert.match(
      sessionId,
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.deepEqual(response.session.command, ["bash", "-c", "echo reflected-$((40+2))"]);
    // The program may already have ended by the time the answer is made.
    assert.ok(
      ["SESSION_STATE_RUNNING", "SESSION_STATE_EXITED"].includes(response.session.state),
      response.session.state,
    );
  });

  it("AttachSession with follow streams the output, then completes when bash exits", async () => {
    assert.ok(registry && sessionId, "no session was started");
    const service = registry.getService(SESSION_SERVICE);
    assert.ok(service);
    let output = "";
    // The command line itself never shows "reflected-42": only bash's arithmetic makes it.
    await callServerStream(
      channel,
      method(service, "AttachSession"),
      { sessionId, follow: true },
      (response) => {
        for (const entry of (response as { entries?: { kind?: string; data?: string }[] })
          .entries ?? []) {
          if (entry.kind === "LOG_ENTRY_KIND_OUTPUT") output += entry.data ?? "";
        }
      },
    );
    assert.match(output, /reflected-42\r?\n/, JSON.stringify(output));

    const got = await callUnary<{ session: SessionJson }>(channel, method(service, "GetSession"), {
      session_id: sessionId,
    });
    assert.equal(got.session.state, "SESSION_STATE_EXITED");
    // exit_code is proto3 optional: present in JSON even though it is 0, so the descriptors
    // carried its presence.
    assert.equal(got.session.exitCode, 0);
  });
});
