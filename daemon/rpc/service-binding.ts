/**
 * The one adapter between protoc-gen-es service descriptors and grpc-js.
 *
 * A `GenService` knows every method's path, kind and message schemas; from it we derive the
 * grpc-js `ServiceDefinition` a server needs, and a typed client whose methods are named like the
 * generated ones. Handler and client types follow each method's `methodKind`, so a handler with
 * the wrong shape is a compile error.
 */
import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";
import { RpcError, toStatusObject } from "./rpc-error.js";

type In<M> = M extends { input: infer I extends DescMessage } ? MessageShape<I> : never;
type Out<M> = M extends { output: infer O extends DescMessage } ? MessageShape<O> : never;
type OutInit<M> = M extends { output: infer O extends DescMessage } ? MessageInitShape<O> : never;
type InInit<M> = M extends { input: infer I extends DescMessage } ? MessageInitShape<I> : never;

/** A server stream whose `write` takes a message or its init shape. */
export type ServerStream<M> = grpc.ServerWritableStream<In<M>, OutInit<M>>;
/** A bidirectional server stream. */
export type ServerDuplex<M> = grpc.ServerDuplexStream<In<M>, OutInit<M>>;

/**
 * The handler for one method. Handlers are async: a rejection (with an {@link RpcError} or any
 * other error) becomes the call's status in one place, here.
 */
export type MethodImpl<M> = M extends { methodKind: "unary" }
  ? (request: In<M>, call: grpc.ServerUnaryCall<In<M>, Out<M>>) => Promise<OutInit<M>>
  : M extends { methodKind: "server_streaming" }
    ? (request: In<M>, call: ServerStream<M>) => Promise<void>
    : M extends { methodKind: "client_streaming" }
      ? (call: grpc.ServerReadableStream<In<M>, Out<M>>) => Promise<OutInit<M>>
      : M extends { methodKind: "bidi_streaming" }
        ? (call: ServerDuplex<M>) => Promise<void>
        : never;

/** Every method of a service, implemented. */
export type ServiceImpl<S extends GenServiceMethods> = { [K in keyof S]: MethodImpl<S[K]> };

/** The gRPC path of a method: `/package.Service/Method`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function serializer<D extends DescMessage>(schema: D): (value: unknown) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, create(schema, value as MessageInitShape<D>));
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/**
 * A request that could not be decoded. grpc-js would answer a throwing deserializer with
 * INTERNAL; decoding never throws here, and the handler wrapper answers INVALID_ARGUMENT.
 */
class UndecodableRequest {
  constructor(readonly reason: string) {}

  toError(): RpcError {
    return new RpcError(grpc.status.INVALID_ARGUMENT, this.reason);
  }
}

function deserializer<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> {
  return (bytes) => {
    try {
      return fromBinary(schema, bytes);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return new UndecodableRequest(
        `request is not a valid ${schema.typeName}: ${reason}`,
      ) as unknown as MessageShape<D>;
    }
  };
}

/**
 * Makes iterating a request stream throw on an undecodable message.
 *
 * Node's default stream iterator destroys the stream when the loop over it ends early (a throw,
 * a break): a destroyed grpc-js call can no longer send its status, so the client would wait
 * forever for an answer to its bad message. The handler ends the call itself, with a status.
 */
function guardRequestStream(
  call: grpc.ServerReadableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
): void {
  const iterate = () => call.iterator({ destroyOnReturn: false });
  call[Symbol.asyncIterator] = async function* guarded() {
    for await (const message of iterate()) {
      if (message instanceof UndecodableRequest) throw message.toError();
      yield message;
    }
  } as (typeof call)[typeof Symbol.asyncIterator];
}

/** Builds the grpc-js service definition and handlers for `service` from `impl`. */
export function bindService<S extends GenServiceMethods>(
  service: GenService<S>,
  impl: ServiceImpl<S>,
): { definition: grpc.ServiceDefinition; handlers: grpc.UntypedServiceImplementation } {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = (impl as Record<string, unknown>)[method.localName];
    if (typeof handler !== "function") {
      throw new Error(`no handler for ${method.parent.typeName}.${method.name}`);
    }
    definition[method.localName] = {
      path: methodPath(method),
      requestStream:
        method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream:
        method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.name,
    };
    handlers[method.localName] = wrapHandler(method, handler as (...args: unknown[]) => unknown);
  }
  return { definition, handlers };
}

type AnyStreamCall =
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;

function wrapHandler(
  method: DescMethod,
  handler: (...args: unknown[]) => unknown,
): grpc.UntypedHandleCall {
  switch (method.methodKind) {
    case "unary":
      return (
        call: grpc.ServerUnaryCall<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        const request = call.request;
        settle(
          request instanceof UndecodableRequest
            ? Promise.reject(request.toError())
            : handler(request, call),
          callback,
        );
      };
    case "client_streaming":
      return (
        call: grpc.ServerReadableStream<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        guardRequestStream(call);
        settle(handler(call), callback);
      };
    case "server_streaming":
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const request = call.request;
        finishStream(
          call,
          request instanceof UndecodableRequest
            ? Promise.reject(request.toError())
            : handler(request, call),
        );
      };
    case "bidi_streaming":
      return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        guardRequestStream(call);
        finishStream(call, handler(call));
      };
  }
}

function settle(result: unknown, callback: grpc.sendUnaryData<unknown>): void {
  Promise.resolve(result).then(
    (response) => callback(null, response),
    (error: unknown) => callback(toStatusObject(error)),
  );
}

function finishStream(call: AnyStreamCall, result: unknown): void {
  Promise.resolve(result).then(
    () => {
      if (!call.writableEnded) call.end();
    },
    (error: unknown) => {
      if (call.cancelled || call.writableEnded) return;
      call.emit("error", toStatusObject(error));
    },
  );
}

/** A unary call: resolves with the response or rejects with a `grpc.ServiceError`. */
export type UnaryMethod<M> = (
  request: InInit<M>,
  options?: grpc.CallOptions & { metadata?: grpc.Metadata },
) => Promise<Out<M>>;
/** A response stream: a readable of responses, and async-iterable with their type. */
export type ResponseStream<T> = Omit<grpc.ClientReadableStream<T>, typeof Symbol.asyncIterator> &
  AsyncIterable<T>;

/** A server-streaming call. */
export type ServerStreamingMethod<M> = (
  request: InInit<M>,
  options?: grpc.CallOptions,
) => ResponseStream<Out<M>>;
/** A bidirectional call: write requests (or their init shapes), read responses. */
export type BidiStreamingMethod<M> = (
  options?: grpc.CallOptions,
) => grpc.ClientDuplexStream<InInit<M>, Out<M>>;

/** The client-side function for one method. */
export type ClientMethod<M> = M extends { methodKind: "unary" }
  ? UnaryMethod<M>
  : M extends { methodKind: "server_streaming" }
    ? ServerStreamingMethod<M>
    : M extends { methodKind: "bidi_streaming" }
      ? BidiStreamingMethod<M>
      : never;

/** A typed client for `S`: one function per method, named like the generated `localName`. */
export type ServiceClient<S extends GenServiceMethods> = { [K in keyof S]: ClientMethod<S[K]> };

/**
 * Creates a typed client for `service` on an existing grpc-js `Client` (one channel can carry
 * several services).
 */
export function createServiceClient<S extends GenServiceMethods>(
  service: GenService<S>,
  channel: grpc.Client,
): ServiceClient<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    const path = methodPath(method);
    const serialize = serializer(method.input);
    const deserialize = (bytes: Buffer) => fromBinary(method.output, bytes);
    switch (method.methodKind) {
      case "unary":
        client[method.localName] = (
          request: MessageInitShape<DescMessage>,
          options: grpc.CallOptions & { metadata?: grpc.Metadata } = {},
        ) =>
          new Promise((resolve, reject) => {
            const { metadata = new grpc.Metadata(), ...callOptions } = options;
            channel.makeUnaryRequest(
              path,
              serialize,
              deserialize,
              request,
              metadata,
              callOptions,
              (error, response) => (error ? reject(error) : resolve(response)),
            );
          });
        break;
      case "server_streaming":
        client[method.localName] = (
          request: MessageInitShape<DescMessage>,
          options: grpc.CallOptions = {},
        ) =>
          channel.makeServerStreamRequest(
            path,
            serialize,
            deserialize,
            request,
            new grpc.Metadata(),
            options,
          );
        break;
      case "client_streaming":
        // None of our services has one; grpc-js supports it, add it here when one appears.
        break;
      case "bidi_streaming":
        client[method.localName] = (options: grpc.CallOptions = {}) =>
          channel.makeBidiStreamRequest(path, serialize, deserialize, new grpc.Metadata(), options);
        break;
    }
  }
  return client as ServiceClient<S>;
}
