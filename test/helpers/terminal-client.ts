/** An AttachTerminal client for tests: collects everything the daemon sends. */

import type { DaemonClient } from "../../cli/client.js";
import type { AttachTerminalResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { waitFor } from "./wait.js";

export interface TerminalClient {
  /** Screens and output, decoded, in arrival order. */
  text(): string;
  screens: number;
  exited: Promise<AttachTerminalResponse | undefined>;
  type(text: string): void;
  resize(cols: number, rows: number): void;
  detach(): void;
  /** Stops reading, as a client that cannot keep up would: the daemon sees its stream fill. */
  pause(): void;
  resume(): void;
  waitForText(needle: string, timeoutMs?: number): Promise<void>;
}

export function attachTerminalClient(
  client: DaemonClient,
  sessionId: string,
  options: { readOnly?: boolean; cols?: number; rows?: number } = {},
): TerminalClient {
  const call = client.sessions.attachTerminal();
  const chunks: Buffer[] = [];
  const state = { screens: 0 };
  let exit: AttachTerminalResponse | undefined;
  const exited = new Promise<AttachTerminalResponse | undefined>((resolve) => {
    call.on("data", (response: AttachTerminalResponse) => {
      const message = response.message;
      if (message.case === "screen") {
        state.screens += 1;
        chunks.push(Buffer.from(message.value.data));
      } else if (message.case === "output") {
        chunks.push(Buffer.from(message.value));
      } else if (message.case === "exit") {
        exit = response;
      }
    });
    call.on("end", () => resolve(exit));
    call.on("error", () => resolve(exit));
  });
  call.write({
    message: {
      case: "start",
      value: {
        sessionId,
        readOnly: options.readOnly ?? false,
        ...(options.cols !== undefined && options.rows !== undefined
          ? { size: { cols: options.cols, rows: options.rows } }
          : {}),
      },
    },
  });
  const text = () => Buffer.concat(chunks).toString("utf8");
  return {
    text,
    get screens() {
      return state.screens;
    },
    exited,
    type: (value) => call.write({ message: { case: "input", value: Buffer.from(value) } }),
    resize: (cols, rows) => call.write({ message: { case: "resize", value: { cols, rows } } }),
    pause: () => call.pause(),
    resume: () => call.resume(),
    detach: () => {
      call.write({ message: { case: "detach", value: {} } });
      call.end();
    },
    waitForText: async (needle, timeoutMs = 10_000) => {
      await waitFor(
        `terminal output to contain ${JSON.stringify(needle)}`,
        () => text().includes(needle),
        timeoutMs,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; got: ${JSON.stringify(text().slice(-2000))}`);
      });
    },
  };
}
