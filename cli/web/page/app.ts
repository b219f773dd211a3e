/**
 * The web UI: the session table above, the terminal pane below. Everything the page does is a
 * call of the daemon's API (api.ts) or an attach over the terminal WebSocket (terminal-pane.ts).
 */
import type { Session } from "../../../gen/claude_sessions/v1/session_pb.js";
import { daemon, errorText, sessions } from "./api.js";
import { type SessionAction, SessionBoard } from "./session-board.js";
import { type PaneMode, TerminalPane } from "./terminal-pane.js";
import { splitWords } from "./words.js";

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const notice = element<HTMLParagraphElement>("notice");
const detail = element<HTMLElement>("detail");
const detailTitle = element<HTMLElement>("detail-title");
const detailMode = element<HTMLElement>("detail-mode");
const detailStatus = element<HTMLElement>("detail-status");
const followToggle = element<HTMLElement>("follow-toggle");
const follow = element<HTMLInputElement>("follow");
const connection = element<HTMLElement>("connection");

/** Says what happened, as an error unless `info`. */
function say(text: string, info = false): void {
  notice.textContent = text;
  notice.classList.toggle("info", info);
}

const pane = new TerminalPane(element("terminal"), (text) => {
  detailStatus.textContent = text;
});
let shown: { session: Session; mode: PaneMode } | undefined;

function show(session: Session, mode: PaneMode): void {
  shown = { session, mode };
  board.selected = session.id;
  board.scheduleDraw();
  detail.hidden = false;
  detailTitle.textContent = session.name || session.id.slice(0, 8);
  detailMode.textContent = { attach: "terminal", watch: "terminal, read-only", log: "log" }[mode];
  detail.dataset.mode = mode;
  detail.dataset.sessionId = session.id;
  followToggle.hidden = mode !== "log";
  pane.show(session.id, mode, follow.checked);
}

function closeDetail(): void {
  pane.close();
  shown = undefined;
  board.selected = undefined;
  board.scheduleDraw();
  detail.hidden = true;
}

async function act(action: SessionAction, session: Session): Promise<void> {
  const label = session.name || session.id.slice(0, 8);
  try {
    switch (action) {
      case "attach":
      case "watch":
      case "log":
        show(session, action);
        return;
      case "stop":
        say(`stopping ${label}…`, true);
        await sessions.stopSession({ sessionId: session.id });
        say(`stopped ${label}`, true);
        return;
      case "resume":
        await sessions.resumeSession({ sessionId: session.id });
        say(`resumed ${label}`, true);
        return;
      case "remove":
        if (!confirm(`Remove ${label}? Its log is kept.`)) return;
        await sessions.removeSession({ sessionId: session.id });
        if (shown?.session.id === session.id) closeDetail();
        say(`removed ${label}`, true);
        return;
    }
  } catch (error) {
    say(`${action} ${label}: ${errorText(error)}`);
  }
}

const board = new SessionBoard(
  element<HTMLTableElement>("session-table").tBodies[0] as HTMLTableSectionElement,
  element("empty"),
  (state, text) => {
    connection.dataset.state = state;
    connection.textContent = text;
  },
  (action, session) => void act(action, session),
);

element<HTMLFormElement>("start-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  void (async () => {
    try {
      const command = splitWords(field("command"));
      const { session } = await sessions.startSession({
        workingDir: field("directory"),
        command,
        name: field("name").trim(),
        cols: pane.terminal.cols,
        rows: pane.terminal.rows,
      });
      if (session === undefined) return;
      say(`started ${session.name || session.id.slice(0, 8)} in ${session.workingDir}`, true);
      form.reset();
      show(session, "attach");
    } catch (error) {
      say(`start: ${errorText(error)}`);
    }
  })();
});

element("detail-close").addEventListener("click", closeDetail);
follow.addEventListener("change", () => {
  if (shown?.mode === "log") show(shown.session, "log");
});

void daemon
  .ping({})
  .then((ping) => {
    element("daemon").textContent = `daemon ${ping.version}, pid ${ping.pid}, ${ping.home}`;
  })
  .catch((error: unknown) => say(errorText(error)));
void board.watch();
