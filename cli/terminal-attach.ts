/**
 * The interactive attach: the user's terminal in raw mode, the session's screen first, then
 * live output; keystrokes and window sizes go to the session; a detach key sequence leaves it
 * running. The terminal is restored on every way out.
 */

import { constants } from "node:os";
import type { BaseContext } from "clipanion";
import { type Session, SessionState } from "../gen/claude_sessions/v1/session_pb.js";
import type { AttachTerminalResponse } from "../gen/claude_sessions/v1/session_service_pb.js";
import { AttachOutputFilter, ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN } from "./alternate-screen.js";
import { AttentionBell } from "./attention-bell.js";
import { daemonGone, toClientError } from "./client-error.js";
import type { DaemonConnection } from "./daemon-connection.js";
import { DEFAULT_DETACH_KEYS, DetachDetector, parseDetachKeys } from "./detach-keys.js";
import { printable, stateName } from "./output.js";
import { watchReaderGone } from "./reader-gone.js";
import { terminalSize } from "./session-args.js";

/**
 * Undoes what the session's program may have switched on in the user's terminal: mouse
 * reporting and its encodings, focus events, bracketed paste, application keys, insert and
 * origin modes, the scroll region, line drawing, the cursor's look, colours.
 */
const RESTORE_MODES =
  "\x1b[?9l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1016l\x1b[?1004l\x1b[?2004l" +
  "\x1b[?1l\x1b>\x1b[4l\x1b[?6l\x1b[?45l\x1b[?7h\x1b[r\x1b(B\x1b)B\x0f\x1b[0 q\x1b[?25h\x1b[0m";

/**
 * The terminal's title while attached (OSC 2), the user's own saved first on the terminal's
 * title stack (XTWINOPS 22;0) and restored on the way out (23;0): the program's screen keeps
 * every row, and the window still says where the user is. A terminal without the stack ignores
 * both and keeps the attach's title.
 */
const PUSH_TITLE = "\x1b[22;0t";
const POP_TITLE = "\x1b[23;0t";
const setTitle = (title: string) => `\x1b]2;claude-sessions: ${printable(title)}\x07`;

export interface AttachOptions {
  readOnly: boolean;
  detachKeys: string | undefined;
  context: BaseContext;
  /** The session as the terminal's title and the notice name it (its name or short id). */
  title?: string | undefined;
  /**
   * Ring the terminal's bell when another session starts waiting for input: set to the
   * attached session's id (the one that does not ring).
   */
  bellExcept?: string | undefined;
}

/** Attaches to `sessionId`; resolves with the exit code for the CLI. */
export async function attachTerminal(
  client: DaemonConnection,
  sessionId: string,
  options: AttachOptions,
): Promise<number> {
  const { stdin, stdout, stderr } = options.context;
  const tty = stdin as NodeJS.ReadStream;
  const interactive = tty.isTTY === true && typeof tty.setRawMode === "function";
  const readOnly = options.readOnly || !interactive;
  const detachSequence = parseDetachKeys(options.detachKeys ?? DEFAULT_DETACH_KEYS);
  const detector = new DetachDetector(detachSequence);
  const screen = interactive ? new AttachOutputFilter() : undefined;
  const bell =
    interactive && options.bellExcept !== undefined
      ? new AttentionBell(client, options.bellExcept, (bytes) => stdout.write(bytes))
      : undefined;
  const show = (data: Uint8Array) => {
    const shown = screen ? screen.filter(data) : data;
    stdout.write(shown);
    bell?.output(shown);
  };
  const size = terminalSize(stdout);

  const call = client.sessions.attachTerminal();
  call.write({
    message: { case: "start", value: { sessionId, readOnly, ...(size ? { size } : {}) } },
  });

  let outcome: { code: number; message?: string } | undefined;
  let rawMode = false;
  const cleanups: Array<() => void> = [];

  const finish = (result: { code: number; message?: string }) => {
    outcome ??= result;
    call.end();
    call.cancel();
  };

  const titled = interactive && (stdout as NodeJS.WriteStream).isTTY === true;
  if (interactive) {
    // On the normal screen before the first frame, so it stays in the scrollback after detach.
    const label = printable(options.title ?? sessionId);
    const keys = options.detachKeys ?? DEFAULT_DETACH_KEYS;
    stderr.write(
      readOnly
        ? `claude-sessions: watching ${label} read-only; leave with ctrl-c or ${keys}\n`
        : `claude-sessions: attached to ${label}; detach with ${keys}\n`,
    );
    if (titled) stdout.write(PUSH_TITLE + setTitle(options.title ?? sessionId));
    tty.setRawMode(true);
    rawMode = true;
    stdout.write(ENTER_ALT_SCREEN);
    tty.resume();
    const onInput = (chunk: Buffer) => {
      const { forward, detach } = detector.feed(chunk);
      if (!readOnly && forward.length > 0)
        call.write({ message: { case: "input", value: forward } });
      // A read-only viewer also leaves with Ctrl-C, as it would expect.
      if (detach || (readOnly && chunk.includes(0x03))) {
        call.write({ message: { case: "detach", value: {} } });
        finish({
          code: 0,
          message: `[detached from ${sessionId}; attach again with: claude-sessions attach ${sessionId}]`,
        });
      }
    };
    tty.on("data", onInput);
    cleanups.push(() => tty.off("data", onInput));
    const onResize = () => {
      const next = terminalSize(stdout);
      // A read-only viewer's size is what it is shown: a crop while smaller than the session.
      if (next) call.write({ message: { case: "resize", value: next } });
    };
    (stdout as NodeJS.WriteStream).on("resize", onResize);
    cleanups.push(() => (stdout as NodeJS.WriteStream).off("resize", onResize));
  }
  if (!interactive) {
    // A reader that has gone ends the stream quietly with SIGPIPE's status, as the next write's
    // EPIPE would (cli/entry.ts), even while the session writes nothing.
    cleanups.push(watchReaderGone(() => finish({ code: 128 + constants.signals.SIGPIPE })));
  }
  const onSignal = () => finish({ code: 130 });
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  cleanups.push(() => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
  });

  if (bell !== undefined) cleanups.push(() => bell.stop());
  const restore = () => {
    for (const cleanup of cleanups) cleanup();
    if (rawMode) {
      tty.setRawMode(false);
      rawMode = false;
    }
    if (interactive) {
      stdout.write(RESTORE_MODES + LEAVE_ALT_SCREEN);
      if (titled) stdout.write(POP_TITLE);
      tty.pause();
    }
  };

  let lastScreen: Uint8Array | undefined;
  let endedScreen: Uint8Array | undefined;
  let live = false;
  try {
    await new Promise<void>((resolve) => {
      call.on("data", (response: AttachTerminalResponse) => {
        const message = response.message;
        switch (message.case) {
          case "screen":
            lastScreen = message.value.data;
            show(message.value.data);
            break;
          case "output":
            live = true;
            show(message.value);
            break;
          case "exit":
            // A session that had ended before the attach: its final screen is kept on the
            // normal screen too, or leaving the alternate one would take it away with it.
            if (interactive && !live) endedScreen = lastScreen;
            finish(endOf(message.value.session, sessionId));
            break;
          case undefined:
            break;
        }
      });
      call.on("error", (error) => {
        if (outcome === undefined) {
          outcome = {
            code: 1,
            message: `error: ${toClientError(error, client.address).message}`,
          };
        }
        resolve();
      });
      call.on("end", () => resolve());
      call.on("close", () => resolve());
    });
  } finally {
    restore();
  }
  if (endedScreen !== undefined) {
    // Filtered as live output is: the program's screen switches stay out of the user's terminal.
    stdout.write(new AttachOutputFilter().filter(endedScreen));
    stdout.write(RESTORE_MODES);
  }
  // The daemon ends an attach without an exit only when it shuts down.
  const result = outcome ?? {
    code: 1,
    message: `error: ${daemonGone(client.address, "it ended the attach").message}`,
  };
  if (result.message) stderr.write(`${interactive ? "\r\n" : ""}${printable(result.message)}\n`);
  return result.code;
}

/**
 * What attach returns and says when the session has ended: its exit code (128 + the signal's
 * number if a signal killed it, as a shell reports it); 1 for one that never exited on its own
 * (failed to start, interrupted by a restart), with the reason.
 */
function endOf(session: Session | undefined, sessionId: string): { code: number; message: string } {
  const code = session === undefined ? 0 : sessionExitCode(session);
  if (session?.exitSignal)
    return {
      code,
      message: `[session ${sessionId} was killed by ${session.exitSignal} (exit code ${code})]`,
    };
  if (session?.state !== SessionState.FAILED && session?.state !== SessionState.INTERRUPTED)
    return { code, message: `[session ${sessionId} ended with exit code ${code}]` };
  const reason = session.failureReason ? `: ${session.failureReason}` : "";
  return { code: 1, message: `[session ${sessionId} is ${stateName(session.state)}${reason}]` };
}

/** The exit code a shell would report for the session's end. */
function sessionExitCode(session: Session): number {
  if (session.exitSignal) {
    const number = (constants.signals as Record<string, number | undefined>)[session.exitSignal];
    return 128 + (number ?? 0);
  }
  return session.exitCode ?? 0;
}
