/**
 * A lean AttachTerminal client for benchmarks: it keeps no output, only hands each message to
 * the caller as it arrives, so measuring costs the same however much output flows.
 */
import { status } from "@grpc/grpc-js";
import type { DaemonClient } from "../../cli/client.js";
import type { AttachTerminalResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";

export interface TerminalStream {
  /** Sends input bytes to the session. */
  type(data: string | Uint8Array): void;
  detach(): void;
  /** Resolves with the exit message when the session ends; undefined if the stream ends first. */
  readonly ended: Promise<AttachTerminalResponse | undefined>;
}

export interface TerminalHandlers {
  screen?(data: Uint8Array): void;
  output?(data: Uint8Array): void;
}

export function openTerminal(
  client: DaemonClient,
  sessionId: string,
  handlers: TerminalHandlers,
): TerminalStream {
  const call = client.sessions.attachTerminal();
  let exit: AttachTerminalResponse | undefined;
  const ended = new Promise<AttachTerminalResponse | undefined>((resolve, reject) => {
    call.on("data", (response: AttachTerminalResponse) => {
      const message = response.message;
      if (message.case === "output") handlers.output?.(message.value);
      else if (message.case === "screen") handlers.screen?.(message.value.data);
      else if (message.case === "exit") exit = response;
    });
    call.on("end", () => resolve(exit));
    call.on("error", (error: Error & { code?: number }) =>
      // CANCELLED follows our own detach.
      error.code === status.CANCELLED ? resolve(exit) : reject(error),
    );
  });
  call.write({ message: { case: "start", value: { sessionId, readOnly: false } } });
  return {
    type: (data) =>
      call.write({
        message: { case: "input", value: typeof data === "string" ? Buffer.from(data) : data },
      }),
    detach: () => {
      call.write({ message: { case: "detach", value: {} } });
      call.end();
    },
    ended,
  };
}
