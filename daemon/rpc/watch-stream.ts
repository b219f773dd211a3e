/**
 * One WatchSessions stream. Events are state, not history: a watcher that stops reading is not
 * queued for. Once its stream holds {@link WATCH_STREAM_EVENTS} events, later ones are only
 * counted, and when it has taken everything it is sent a resync marker and the current list, so
 * a stalled watcher costs a bounded stream and a counter, whatever the number of events.
 */

import type { SessionService } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { SessionEventKind } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { untilAborted } from "../common/async.js";
import type { Session } from "../session/session.js";
import type { SessionManager, WatchKind } from "../session/session-manager.js";
import type { ServerStream } from "./service-binding.js";
import { sessionMessage, sessionMessageOf } from "./session-message.js";

/**
 * How many live events one watcher's stream may hold (a few hundred bytes each): room for a
 * burst, such as 200 sessions started at once, to reach a watcher that reads, and well under
 * 1 MiB for one that stopped. A listing (include_existing, a resync) is held on top, bounded by
 * the number of sessions.
 */
export const WATCH_STREAM_EVENTS = 1024;

const watchKinds: Record<WatchKind, SessionEventKind> = {
  started: SessionEventKind.STARTED,
  state: SessionEventKind.STATE_CHANGED,
  exited: SessionEventKind.EXITED,
  activity: SessionEventKind.ACTIVITY_CHANGED,
  limit: SessionEventKind.LIMIT_REACHED,
  removed: SessionEventKind.REMOVED,
};

type WatchCall = ServerStream<(typeof SessionService)["method"]["watchSessions"]>;
type WatchMessage = Parameters<WatchCall["write"]>[0];

/** Streams events to `call` until `stop` fires; lists the sessions first if `includeExisting`. */
export async function streamSessionEvents(
  manager: SessionManager,
  call: WatchCall,
  stop: AbortSignal,
  includeExisting: boolean,
): Promise<void> {
  /** Messages handed to the stream and not yet taken by the connection. */
  let held = 0;
  /** Of those, live events (the rest are a listing). */
  let heldEvents = 0;
  /** Events left out since the watcher fell behind; a resync follows once it drains. */
  let skipped = 0;

  const send = (message: WatchMessage, live: boolean): void => {
    held += 1;
    if (live) heldEvents += 1;
    call.write(message, () => {
      held -= 1;
      if (live) heldEvents -= 1;
      if (held === 0 && skipped > 0 && !stop.aborted) resync();
    });
  };
  const list = (sessions: readonly Session[]): void => {
    for (const session of sessions)
      send({ kind: SessionEventKind.EXISTING, session: sessionMessageOf(session) }, false);
  };
  const resync = (): void => {
    const sessions = manager.list();
    send(
      {
        kind: SessionEventKind.RESYNC,
        skippedEvents: BigInt(skipped),
        listedSessions: sessions.length,
      },
      false,
    );
    skipped = 0;
    list(sessions);
  };

  if (stop.aborted) return;
  if (includeExisting) list(manager.list());
  const unwatch = manager.watch((kind, record, session) => {
    if (skipped > 0 || heldEvents >= WATCH_STREAM_EVENTS) {
      skipped += 1;
      return;
    }
    send({ kind: watchKinds[kind], session: sessionMessage(record, session) }, true);
  });
  try {
    await untilAborted(stop);
  } finally {
    unwatch();
  }
}
