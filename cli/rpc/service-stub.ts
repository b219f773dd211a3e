/**
 * Typed stubs for the CLI from protoc-gen-es's `GenService` descriptors: one function per
 * method, named like the generated `localName`, taking and returning the generated message
 * types, on an {@link Http2Channel}.
 */
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { CallError, Status } from "./call-error.js";
import type { CallOptions, ClientCall, Codec, Http2Channel } from "./http2-channel.js";

type Out<M> = M extends { output: infer O extends DescMessage } ? MessageShape<O> : never;
type InInit<M> = M extends { input: infer I extends DescMessage } ? MessageInitShape<I> : never;

/** A unary call: resolves with the response or rejects with a {@link CallError}. */
export type UnaryMethod<M> = (request: InInit<M>, options?: CallOptions) => Promise<Out<M>>;
/** A server-streaming call: the responses, as events or by async iteration. */
export type ServerStreamingMethod<M> = (
  request: InInit<M>,
  options?: CallOptions,
) => ClientCall<InInit<M>, Out<M>>;
/** A bidirectional call: write requests (or their init shapes), read responses. */
export type BidiStreamingMethod<M> = (options?: CallOptions) => ClientCall<InInit<M>, Out<M>>;

export type StubMethod<M> = M extends { methodKind: "unary" }
  ? UnaryMethod<M>
  : M extends { methodKind: "server_streaming" }
    ? ServerStreamingMethod<M>
    : M extends { methodKind: "bidi_streaming" }
      ? BidiStreamingMethod<M>
      : never;

export type ServiceStub<S extends GenServiceMethods> = { [K in keyof S]: StubMethod<S[K]> };

function codec<I extends DescMessage, O extends DescMessage>(
  input: I,
  output: O,
): Codec<MessageInitShape<I>, MessageShape<O>> {
  return {
    serialize: (message) => toBinary(input, create(input, message)),
    deserialize: (bytes) => fromBinary(output, bytes),
  };
}

function unary<O>(call: ClientCall<unknown, O>): Promise<O> {
  return new Promise((resolve, reject) => {
    let response: O | undefined;
    call.on("data", (message: O) => {
      response = message;
    });
    call.on("error", reject);
    call.on("end", () =>
      response === undefined
        ? reject(new CallError(Status.INTERNAL, "the daemon sent no response"))
        : resolve(response),
    );
  });
}

export interface StubOptions {
  /**
   * How long a unary call without a deadline of its own waits for its answer. A daemon that
   * accepts connections but hangs must not hang its clients too.
   */
  unaryTimeoutMs?: number;
}

export function createServiceStub<S extends GenServiceMethods>(
  service: GenService<S>,
  channel: Http2Channel,
  stubOptions: StubOptions = {},
): ServiceStub<S> {
  const { unaryTimeoutMs } = stubOptions;
  const stub: Record<string, unknown> = {};
  for (const method of service.methods) {
    const path = `/${method.parent.typeName}/${method.name}`;
    const messages = codec(method.input, method.output);
    switch (method.methodKind) {
      case "unary":
        stub[method.localName] = (request: unknown, options?: CallOptions) => {
          const own = options?.deadline === undefined && unaryTimeoutMs !== undefined;
          const call = channel.start(path, messages, {
            ...options,
            ...(own ? { deadline: Date.now() + unaryTimeoutMs, timeoutMs: unaryTimeoutMs } : {}),
          });
          call.write(request as MessageInitShape<DescMessage>);
          call.end();
          return unary(call);
        };
        break;
      case "server_streaming":
        stub[method.localName] = (request: unknown, options?: CallOptions) => {
          const call = channel.start(path, messages, options);
          call.write(request as MessageInitShape<DescMessage>);
          call.end();
          return call;
        };
        break;
      case "bidi_streaming":
        stub[method.localName] = (options?: CallOptions) => channel.start(path, messages, options);
        break;
      case "client_streaming":
        // None of our services has one.
        break;
    }
  }
  return stub as ServiceStub<S>;
}
