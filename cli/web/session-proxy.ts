/**
 * The web UI's API: the daemon's own services, spoken as Connect to the browser and passed on
 * as gRPC to the daemon, message for message.
 *
 * A browser cannot speak gRPC (it needs HTTP/2 trailers, which fetch does not expose), and it
 * cannot stream a request body, so every unary and server-streaming method is served here under
 * its own path, with the same request and response messages, and `AttachTerminal` (the one
 * bidirectional method) goes over a WebSocket instead (socket-relay.ts), as the page's own
 * streams do. What the daemon answers, errors included, reaches the page as it is: the page
 * sees the same statuses and messages as `grpcurl` would.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { ServiceError } from "@grpc/grpc-js";
import type {
  ResumeSessionRequest,
  StartSessionRequest,
} from "../../gen/claude_sessions/v1/session_service_pb.js";
import { clientEnv, resolveDirectory } from "../session-args.js";

/** A method implementation in Connect's shape, for any method. */
type AnyMethodImpl = (request: unknown, context: HandlerContext) => unknown;

export interface ForwardOptions {
  /** Given each request before it is sent on. */
  prepare?: (method: DescMethod, request: unknown) => void;
  /** Only these methods (by name); by default every unary and server-streaming one. */
  only?: readonly string[];
}

/**
 * Connect implementations of `service`'s unary and server-streaming methods that call `target`
 * (the daemon's client for the same service).
 */
export function forwardService<S extends DescService>(
  service: S,
  target: object,
  { prepare = () => {}, only }: ForwardOptions = {},
): Partial<ServiceImpl<S>> {
  const impl: Record<string, AnyMethodImpl> = {};
  const calls = target as Record<string, unknown>;
  for (const method of service.methods) {
    if (only !== undefined && !only.includes(method.name)) continue;
    const call = (calls[method.localName] as (...args: unknown[]) => unknown).bind(target);
    if (method.methodKind === "unary") {
      impl[method.localName] = async (request, context) => {
        prepare(method, request);
        const timeoutMs = context.timeoutMs();
        const options = timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs };
        try {
          return await (call(request, options) as Promise<unknown>);
        } catch (error) {
          throw connectError(error);
        }
      };
    } else if (method.methodKind === "server_streaming") {
      impl[method.localName] = (request, context) => {
        prepare(method, request);
        return relayStream(call(request) as GrpcResponseStream, context.signal);
      };
    }
  }
  return impl as Partial<ServiceImpl<S>>;
}

/** A grpc-js response stream, as the typed client returns it. */
interface GrpcResponseStream extends AsyncIterable<unknown> {
  cancel(): void;
}

async function* relayStream(stream: GrpcResponseStream, signal: AbortSignal) {
  const cancel = () => stream.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  try {
    for await (const message of stream) yield message;
  } catch (error) {
    if (signal.aborted) return;
    throw connectError(error);
  } finally {
    signal.removeEventListener("abort", cancel);
    stream.cancel();
  }
}

/**
 * The daemon's error as the page gets it. gRPC and Connect number their codes alike; a call
 * that never reached the daemon (it is not running) says so.
 */
export function connectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  const grpcError = error as Partial<ServiceError>;
  const code = grpcError.code as number | undefined;
  if (typeof code === "number" && code in Code) {
    const details = grpcError.details ?? grpcError.message ?? "";
    const message =
      code === Code.Unavailable
        ? `the daemon is not answering (${details}); start it with \`claude-sessions daemon\``
        : details;
    return new ConnectError(message, code as Code);
  }
  return new ConnectError(error instanceof Error ? error.message : String(error), Code.Internal);
}

/** The calls besides StartSession whose environment is the one `web` runs in, when empty. */
const ENV_METHODS = new Set(["ResumeSession", "ForkSession", "RestoreSnapshot", "CreateSnapshot"]);

/**
 * Fills in what the CLI's `start` and `resume` send that a page cannot know: the environment
 * (the one `web` runs in, as `start` sends its shell's) and a working directory as a full path
 * (`~` and relative paths are taken as `start` takes them, from where `web` was run).
 */
export function sessionDefaults() {
  return (method: DescMethod, request: unknown): void => {
    if (method.name === "StartSession") {
      const start = request as StartSessionRequest;
      if (Object.keys(start.env).length === 0) start.env = clientEnv();
      start.workingDir = resolveDirectory(start.workingDir.trim());
    } else if (ENV_METHODS.has(method.name)) {
      const asked = request as ResumeSessionRequest;
      if (Object.keys(asked.env).length === 0) asked.env = clientEnv();
    }
  };
}
