/** The SessionService handlers: decode, call the manager, encode. Errors map in one place. */
import { status } from "@grpc/grpc-js";
import type { SessionService } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { DEFAULT_GRACE_MS } from "../common/grace.js";
import { recordCost } from "../log/log-record.js";
import { MAX_RECORD_CHARS } from "../log/session-log.js";
import type { DaemonCounters } from "../server/daemon-counters.js";
import type { Session } from "../session/session.js";
import type { SessionManager } from "../session/session-manager.js";
import type { SessionState } from "../session/session-record.js";
import { worktreeStatus } from "../session/worktree.js";
import type { Branching } from "../snapshot/branching.js";
import { durationMs, MAX_AGE_MS } from "./duration.js";
import { RpcError } from "./rpc-error.js";
import type { ServerDuplex, ServiceImpl } from "./service-binding.js";
import {
  askedLimits,
  logEntry,
  recordState,
  sessionMessage,
  sessionMessageOf,
  snapshotMessage,
} from "./session-message.js";
import { sessionPage } from "./session-page.js";
import { nextMessage, waitForDrain, whenCancelled } from "./stream-util.js";
import { streamSessionEvents } from "./watch-stream.js";

/**
 * How much log a follower is sent per message. grpc-js holds 16 messages for a client that
 * stopped reading before a write reports back-pressure: small messages keep what a stalled
 * follower costs (encoding work and memory) to about 1 MiB.
 */
const FOLLOW_BATCH_BYTES = 64 * 1024;

/**
 * How many messages a server stream takes before its write reports back-pressure: grpc-js's
 * stream is a Node object-mode Writable with the default high-water mark of 16, and a message
 * counts until the connection has taken it.
 */
const FOLLOW_STREAM_MESSAGES = 16;

/**
 * The most one follower's stream holds, in record cost ({@link recordCost}). A batch stops once
 * it reaches {@link FOLLOW_BATCH_BYTES}, so it may pass it by one record (data of at most
 * {@link MAX_RECORD_CHARS} plus 64); a batch read from the file is at most one 64 KiB read, or one
 * longer record. The handler writes until the stream reports back-pressure, then waits for it
 * to drain.
 */
export const FOLLOWER_HELD_LIMIT_BYTES =
  FOLLOW_STREAM_MESSAGES * (FOLLOW_BATCH_BYTES + MAX_RECORD_CHARS + 64);

export function sessionService(
  manager: SessionManager,
  branching: Branching,
  shutdown: AbortSignal,
  counters: DaemonCounters,
): ServiceImpl<(typeof SessionService)["method"]> {
  /** The reply to a call that started a session: as launched, once the state file holds it. */
  const started = async (session: Session) => {
    const message = sessionMessage(session.launched ?? session.record, session);
    await manager.saved({ session, resumed: false });
    return { session: message };
  };
  return {
    async startSession(request) {
      const session = await manager.start({
        workingDir: request.workingDir,
        command: request.command,
        env: request.env,
        name: request.name,
        cols: request.cols,
        rows: request.rows,
        labels: request.labels,
        worktree: request.worktree,
        limits: askedLimits(request.limits),
      });
      return started(session);
    },

    async listSessions(request) {
      const states: SessionState[] = [];
      for (const state of request.states) {
        const known = recordState(state);
        if (known === undefined)
          throw new RpcError(status.INVALID_ARGUMENT, `unknown session state ${state}`);
        states.push(known);
      }
      return sessionPage(
        manager.list({ states, name: request.name, selector: request.labelSelector }),
        request,
      );
    },

    async getSession(request) {
      const session = manager.get(request.sessionId);
      const message = sessionMessageOf(session);
      const { worktree } = session.record;
      if (worktree !== undefined && message.worktree !== undefined)
        Object.assign(message.worktree, await worktreeStatus(worktree));
      return { session: message };
    },

    async stopSession(request) {
      const grace =
        request.gracePeriod === undefined
          ? DEFAULT_GRACE_MS
          : durationMs(request.gracePeriod, "grace_period");
      const session = await manager.stop(request.sessionId, grace);
      return { session: sessionMessageOf(session) };
    },

    async removeSession(request) {
      return {
        session: sessionMessage(
          await manager.remove(request.sessionId, request.deleteLog, request.force),
        ),
      };
    },

    async resumeSession(request) {
      const session = await manager.resume(request.sessionId, {
        env: request.env,
        cols: request.cols,
        rows: request.rows,
      });
      const message = sessionMessage(session.launched ?? session.record, session);
      await manager.saved({ session, resumed: true });
      return { session: message };
    },

    async renameSession(request) {
      return {
        session: sessionMessageOf(await manager.rename(request.sessionId, request.name)),
      };
    },

    async labelSession(request) {
      return {
        session: sessionMessageOf(
          await manager.label(request.sessionId, request.set, request.remove),
        ),
      };
    },

    async attachSession(request, call) {
      const session = manager.get(request.sessionId);
      const log = session.log;
      let from: number;
      switch (request.start.case) {
        case "fromSeq":
          from = Number(request.start.value);
          break;
        case "tail":
          from = log.lastSeq - Number(request.start.value) + 1;
          break;
        case "since": {
          const since = new Date(
            Number(request.start.value.seconds) * 1000 + request.start.value.nanos / 1e6,
          );
          // Beyond JavaScript's dates (±275,000 years) there is no time to search the log for.
          if (Number.isNaN(since.getTime()))
            throw new RpcError(status.INVALID_ARGUMENT, "since is not a representable time");
          from = await log.seqAtTime(since);
          break;
        }
        default:
          from = 1;
      }
      const stop = whenCancelled(call, shutdown);
      const account = counters.follower();
      const cursor = session.cursor(Math.max(1, from), account.readFile);
      // The first response says how many of the records asked for retention had dropped.
      let toldDropped = false;
      try {
        while (!stop.aborted) {
          const records = await cursor.next(FOLLOW_BATCH_BYTES);
          const droppedEntries = toldDropped ? 0n : BigInt(cursor.dropped);
          if (records.length > 0 || droppedEntries > 0n) {
            toldDropped = true;
            const sent = account.hold(records.reduce((sum, record) => sum + recordCost(record), 0));
            if (!call.write({ entries: records.map(logEntry), droppedEntries }, sent))
              await waitForDrain(call, stop);
            continue;
          }
          // Caught up: done, unless following a log that can still grow.
          if (!request.follow || !log.isOpen) return;
          await log.waitForNewerThan(cursor.seq - 1, stop);
        }
      } finally {
        await cursor.close();
      }
    },

    async attachTerminal(call) {
      await attachTerminal(manager, call, shutdown);
    },

    async sendInput(request) {
      const { input } = request;
      const data =
        input.case === "data"
          ? Buffer.from(input.value)
          : input.case === "text"
            ? Buffer.from(input.value, "utf8")
            : undefined;
      return { bytesWritten: manager.sendInput(request.sessionId, data) };
    },

    async resizeSession(request) {
      const session = manager.resize(request.sessionId, request.cols, request.rows);
      return { session: sessionMessageOf(session) };
    },

    async captureScreen(request) {
      const session = manager.get(request.sessionId);
      const screen = await session.capture({
        escapes: request.escapes,
        scrollback: request.scrollback,
      });
      return screen;
    },

    async forkSession(request) {
      return started(await branching.fork(request.sessionId, request));
    },

    async createSnapshot(request) {
      return {
        snapshot: snapshotMessage(
          await branching.snapshot(request.sessionId, { name: request.name, env: request.env }),
        ),
      };
    },

    async listSnapshots(request) {
      return {
        snapshots: branching.list(request.sessionId).map((one) => snapshotMessage(one, true)),
      };
    },

    async getSnapshot(request) {
      const snapshot = branching.snapshots.get(request.snapshotId);
      return {
        snapshot: snapshotMessage(snapshot),
        screenFrame: branching.snapshots.frame(snapshot.id),
      };
    },

    async removeSnapshot(request) {
      return { snapshot: snapshotMessage(await branching.removeSnapshot(request.snapshotId)) };
    },

    async restoreSnapshot(request) {
      return started(await branching.restore(request.snapshotId, request));
    },

    async pruneSessions(request) {
      // What it removes is for good: an empty request (a slip, or garbage that decoded)
      // must not remove every ended session.
      if (request.olderThan === undefined)
        throw new RpcError(
          status.INVALID_ARGUMENT,
          "older_than is required: how long ago a session must have ended (0s for every ended session)",
        );
      const olderThanMs = durationMs(request.olderThan, "older_than", MAX_AGE_MS);
      const result = await manager.prune({
        olderThanMs,
        selector: request.labelSelector,
        dryRun: request.dryRun,
      });
      return {
        pruned: result.pruned.map((record) => sessionMessage(record)),
        kept: result.kept.map(({ record, reason }) => ({
          session: sessionMessage(record),
          reason,
        })),
        logBytes: BigInt(result.logBytes),
      };
    },

    async watchSessions(request, call) {
      await streamSessionEvents(
        manager,
        call,
        whenCancelled(call, shutdown),
        request.includeExisting,
      );
    },
  };
}

type AttachCall = ServerDuplex<(typeof SessionService)["method"]["attachTerminal"]>;

async function attachTerminal(
  manager: SessionManager,
  call: AttachCall,
  shutdown: AbortSignal,
): Promise<void> {
  const stop = whenCancelled(call, shutdown);
  const messages = call[Symbol.asyncIterator]();
  const first = await nextMessage(messages, stop);
  if (first === undefined) return;
  if (first.message.case !== "start") {
    throw new RpcError(
      status.INVALID_ARGUMENT,
      "the first AttachTerminal message must be a start naming the session",
    );
  }
  const start = first.message.value;
  const readOnly = start.readOnly;
  const sendScreen = (frame: string, cols: number, rows: number) =>
    call.write({ message: { case: "screen", value: { data: Buffer.from(frame), cols, rows } } });
  const { session, attachment } = manager.attach(
    start.sessionId,
    {
      sendOutput: (data) => call.write({ message: { case: "output", value: data } }),
      sendScreen,
      onDrain: (listener) => call.on("drain", listener),
    },
    readOnly,
    start.size,
  );
  if (attachment === undefined) {
    // Ended: its final screen, then how it ended, as an attached client would have seen them.
    const { frame, cols, rows } = await session.frame();
    sendScreen(frame, cols, rows);
    call.write({ message: { case: "exit", value: { session: sessionMessageOf(session) } } });
    return;
  }
  const exited = session.exited().then(() => "exited" as const);
  const input = (async () => {
    for (;;) {
      // A program that leaves its input unread holds the stream back, keystrokes and all: the
      // client's writes wait, none is dropped.
      if (!readOnly) await session.waitForInputRoom(stop);
      const next = await nextMessage(messages, stop);
      if (next === undefined) return "closed" as const;
      const message = next.message;
      switch (message.case) {
        case "input":
          if (!readOnly) session.write(Buffer.from(message.value));
          break;
        case "resize":
          if (readOnly) manager.resizeView(attachment, message.value.cols, message.value.rows);
          else manager.resizeTerminal(session, message.value.cols, message.value.rows);
          break;
        case "detach":
          return "detached" as const;
        case "start":
          throw new RpcError(
            status.INVALID_ARGUMENT,
            "start may only be sent once, as the first message",
          );
        case undefined:
          break;
      }
    }
  })();
  try {
    const outcome = await Promise.race([exited, input]);
    if (outcome === "exited" && !stop.aborted) {
      await attachment.idle(stop);
      if (!stop.aborted)
        call.write({ message: { case: "exit", value: { session: sessionMessageOf(session) } } });
    }
  } finally {
    session.detach(attachment);
    input.catch(() => undefined);
  }
}
