/**
 * The table of every session, kept live by one `WatchSessions` stream: each event replaces its
 * session's row, a resync replaces them all, and a stream that ends (the daemon restarted, the
 * network blinked) is opened again. Rows are drawn at most once per frame, so a burst of events
 * from 50 busy sessions costs one redraw.
 */
import type { Session } from "../../../gen/claude_sessions/v1/session_pb.js";
import { Activity, SessionState } from "../../../gen/claude_sessions/v1/session_pb.js";
import {
  SessionEventKind,
  SessionService,
} from "../../../gen/claude_sessions/v1/session_service_pb.js";
import {
  activityWord,
  describeActivity,
  describeState,
  labelsText,
  relativeAge,
  stateName,
} from "../../output.js";
import { errorText, openStream } from "./api.js";

/** What a row's buttons ask for. */
export type SessionAction =
  | "attach"
  | "watch"
  | "log"
  | "details"
  | "fork"
  | "snapshot"
  | "stop"
  | "resume"
  | "remove";

/** The buttons a session in each state offers. */
function actionsFor(session: Session): SessionAction[] {
  const live = session.state === SessionState.RUNNING || session.state === SessionState.STARTING;
  return live
    ? ["attach", "watch", "log", "details", "fork", "snapshot", "stop"]
    : ["log", "details", "fork", "snapshot", "resume", "remove"];
}

/** The wait before a watch that failed is opened again. */
const RETRY_MS = 1000;

export class SessionBoard {
  private readonly sessions = new Map<string, Session>();
  private drawPending = false;
  selected: string | undefined;

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly empty: HTMLElement,
    private readonly setConnection: (state: "live" | "lost", text: string) => void,
    private readonly act: (action: SessionAction, session: Session) => void,
    /** Told of every change of a session (undefined: it was removed, or all were resynced). */
    private readonly changed: (id: string | undefined) => void = () => {},
  ) {
    body.addEventListener("click", (event) => {
      const button = (event.target as HTMLElement).closest("button[data-action]");
      const row = button?.closest("tr[data-session-id]") as HTMLElement | null | undefined;
      const session = row ? this.sessions.get(row.dataset.sessionId ?? "") : undefined;
      if (button instanceof HTMLButtonElement && session !== undefined) {
        this.act(button.dataset.action as SessionAction, session);
      }
    });
    // Ages move on without events.
    setInterval(() => this.scheduleDraw(), 1000);
  }

  /** The session with this id, as last heard. */
  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** Follows the daemon's events for as long as the page is open. */
  async watch(): Promise<never> {
    for (;;) {
      try {
        const stream = openStream(SessionService.method.watchSessions, { includeExisting: true });
        let fresh = true;
        for await (const event of stream) {
          if (fresh) {
            // A new stream lists every session again: what was known before may be gone.
            this.sessions.clear();
            fresh = false;
            this.setConnection("live", "live");
          }
          this.apply(event.kind, event.session);
        }
        this.setConnection("lost", "the daemon ended the watch; reconnecting…");
      } catch (error) {
        this.setConnection("lost", `${errorText(error)}; reconnecting…`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  private apply(kind: SessionEventKind, session: Session | undefined): void {
    if (kind === SessionEventKind.RESYNC) this.sessions.clear();
    else if (session !== undefined) {
      if (kind === SessionEventKind.REMOVED) this.sessions.delete(session.id);
      else this.sessions.set(session.id, session);
    }
    this.changed(session?.id);
    this.scheduleDraw();
  }

  scheduleDraw(): void {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.draw();
    });
  }

  private draw(): void {
    const now = Date.now();
    // Oldest first, as `list` shows them.
    const ordered = [...this.sessions.values()].sort(
      (a, b) => createdMs(a) - createdMs(b) || (a.id < b.id ? -1 : 1),
    );
    const rows = new Map<string, HTMLTableRowElement>();
    for (const row of this.body.querySelectorAll<HTMLTableRowElement>("tr[data-session-id]")) {
      rows.set(row.dataset.sessionId ?? "", row);
    }
    let previous: HTMLTableRowElement | undefined;
    for (const session of ordered) {
      let row = rows.get(session.id);
      rows.delete(session.id);
      if (row === undefined) {
        row = document.createElement("tr");
        row.dataset.sessionId = session.id;
      }
      fillRow(row, session, now);
      row.classList.toggle("selected", session.id === this.selected);
      const next: ChildNode | null = previous ? previous.nextSibling : this.body.firstChild;
      if (row !== next) this.body.insertBefore(row, next);
      previous = row;
    }
    for (const gone of rows.values()) gone.remove();
    this.empty.hidden = ordered.length > 0;
    // The tab says how many agents wait for you, as a terminal's bell would.
    const waiting = ordered.filter((session) => session.activity === Activity.WAITING_FOR_INPUT);
    document.title =
      waiting.length > 0 ? `(${waiting.length} waiting) claude-sessions` : "claude-sessions";
  }
}

function createdMs(session: Session): number {
  const created = session.createdAt;
  return created === undefined ? 0 : Number(created.seconds) * 1000 + created.nanos / 1e6;
}

/** Sets a row's cells; a cell whose text has not changed is left alone. */
function fillRow(row: HTMLTableRowElement, session: Session, now: number): void {
  const worktree = session.worktree ? session.worktree.branch : "";
  const cells: Array<[field: string, text: string, className?: string]> = [
    ["name", session.name || session.id.slice(0, 8)],
    ["state", describeState(session), `state-${stateName(session.state)}`],
    [
      "activity",
      describeActivity(session),
      `activity-${activityWord(session.activity).replace("-", "none")}`,
    ],
    ["directory", session.workingDir, "directory"],
    ["worktree", worktree],
    ["labels", labelsText(session.labels)],
    ["age", relativeAge(session.createdAt, now)],
  ];
  cells.forEach(([field, text, className], index) => {
    let cell = row.cells[index];
    if (cell === undefined) {
      cell = row.insertCell();
      cell.dataset.field = field;
    }
    if (cell.textContent !== text) cell.textContent = text;
    if (field === "directory") cell.title = text;
    cell.className = className ?? "";
  });
  const actions = actionsFor(session);
  let cell = row.cells[cells.length];
  if (cell === undefined) {
    cell = row.insertCell();
    cell.className = "actions";
  }
  if (cell.dataset.actions !== actions.join(" ")) {
    cell.dataset.actions = actions.join(" ");
    cell.replaceChildren(
      ...actions.map((action) => {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.action = action;
        button.textContent = action;
        return button;
      }),
    );
  }
}
