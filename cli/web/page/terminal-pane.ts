/**
 * The page's terminal: xterm.js showing one session, in one of three ways.
 *
 * - **attach**: interactive, as `claude-sessions attach`: a WebSocket carrying `AttachTerminal`'s
 *   messages (socket-relay.ts). Keys go to the program; the terminal follows the window's size
 *   and the session takes it (the latest interactive client's size wins, as in tmux).
 * - **watch**: the same, read-only: no input is sent, and the daemon never resizes the session
 *   for this client (a smaller window gets the part around the cursor).
 * - **log**: the session's log (`AttachSession`, on a WebSocket too) written to the terminal, so that redraws and
 *   colours show as they did; with follow, new output as it is made.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import { LogEntryKind } from "../../../gen/claude_sessions/v1/session_pb.js";
import {
  type AttachTerminalRequest,
  AttachTerminalRequestSchema,
  AttachTerminalResponseSchema,
  SessionService,
} from "../../../gen/claude_sessions/v1/session_service_pb.js";
import { errorText, openStream } from "./api.js";

export type PaneMode = "attach" | "watch" | "log";

/** How many of a log's last entries are shown first. */
const LOG_TAIL = 5000n;

export class TerminalPane {
  readonly terminal = new Terminal({
    scrollback: 10_000,
    fontFamily: "ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', monospace",
    fontSize: 13,
    theme: { background: "#000000" },
  });
  private readonly fit = new FitAddon();
  private end: (() => void) | undefined;
  private readonly encoder = new TextEncoder();
  private mode: PaneMode | undefined;
  private socket: WebSocket | undefined;

  constructor(
    element: HTMLElement,
    private readonly status: (text: string) => void,
  ) {
    this.terminal.loadAddon(this.fit);
    this.terminal.open(element);
    this.terminal.onData((data) => this.sendInput(this.encoder.encode(data)));
    this.terminal.onBinary((data) =>
      this.sendInput(Uint8Array.from(data, (char) => char.charCodeAt(0))),
    );
    this.terminal.onResize(({ cols, rows }) => {
      if (this.mode === "attach" || this.mode === "watch") {
        this.send({ message: { case: "resize", value: { cols, rows } } });
      }
    });
    new ResizeObserver(() => this.fitNow()).observe(element);
  }

  /** Fits the terminal to its element (the window's size changed). */
  fitNow(): void {
    if (this.mode !== undefined) this.fit.fit();
  }

  /** Shows `sessionId` in `mode`, ending whatever was shown before. */
  show(sessionId: string, mode: PaneMode, follow = true): void {
    this.close();
    this.mode = mode;
    this.terminal.reset();
    this.terminal.options.disableStdin = mode !== "attach";
    this.terminal.options.cursorBlink = mode === "attach";
    this.fit.fit();
    if (mode === "log") this.showLog(sessionId, follow);
    else this.attach(sessionId, mode === "watch");
    if (mode === "attach") this.terminal.focus();
  }

  /** Ends the attach or the log stream. */
  close(): void {
    this.end?.();
    this.end = undefined;
    this.mode = undefined;
  }

  private attach(sessionId: string, readOnly: boolean): void {
    const socket = new WebSocket(`ws://${location.host}/terminal`);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    let ended = false;
    this.status(readOnly ? "watching (read-only)…" : "attaching…");
    socket.onopen = () => {
      const { cols, rows } = this.terminal;
      this.send({
        message: { case: "start", value: { sessionId, size: { cols, rows }, readOnly } },
      });
      this.status(readOnly ? "watching (read-only)" : "attached");
    };
    socket.onmessage = (event: MessageEvent<ArrayBuffer>) => {
      const response = fromBinary(AttachTerminalResponseSchema, new Uint8Array(event.data));
      const { message } = response;
      if (message.case === "screen") this.terminal.write(message.value.data);
      else if (message.case === "output") this.terminal.write(message.value);
      else if (message.case === "exit") {
        ended = true;
        this.status("the session ended");
      }
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (ended) return;
      if (event.code === 1000) this.status("the attach ended");
      else this.status(event.reason || `the connection closed (${event.code})`);
    };
    this.end = () => {
      this.socket = undefined;
      if (socket.readyState === WebSocket.OPEN) {
        this.send({ message: { case: "detach", value: {} } }, socket);
      }
      socket.close();
    };
  }

  private showLog(sessionId: string, follow: boolean): void {
    const abort = new AbortController();
    this.end = () => abort.abort();
    this.status(follow ? "log (following)" : "log");
    void (async () => {
      try {
        const stream = openStream(
          SessionService.method.attachSession,
          { sessionId, start: { case: "tail", value: LOG_TAIL }, follow },
          abort.signal,
        );
        for await (const response of stream) {
          if (response.droppedEntries > 0n) {
            this.terminal.write(
              `\x1b[2m[${response.droppedEntries} older records were dropped by log retention]\x1b[0m\r\n`,
            );
          }
          for (const entry of response.entries) {
            if (entry.kind === LogEntryKind.OUTPUT) this.terminal.write(entry.data);
            else {
              const time = entry.time ? timestampDate(entry.time).toLocaleTimeString() : "";
              this.terminal.write(`\r\n\x1b[2m[${time} ${entry.data}]\x1b[0m\r\n`);
            }
          }
        }
        if (!abort.signal.aborted) this.status(follow ? "log: the session ended" : "log: the end");
      } catch (error) {
        if (!abort.signal.aborted) this.status(`log: ${errorText(error)}`);
      }
    })();
  }

  private sendInput(data: Uint8Array): void {
    if (this.mode !== "attach") return;
    this.send({ message: { case: "input", value: data } });
  }

  private send(
    message: Parameters<typeof create<typeof AttachTerminalRequestSchema>>[1],
    socket = this.socket,
  ): void {
    if (socket?.readyState !== WebSocket.OPEN) return;
    const request: AttachTerminalRequest = create(AttachTerminalRequestSchema, message);
    socket.send(toBinary(AttachTerminalRequestSchema, request));
  }
}
