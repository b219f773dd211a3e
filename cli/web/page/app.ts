/**
 * The web UI: the session table above, the terminal pane below. Everything the page does is a
 * call of the daemon's API (api.ts) or an attach over the terminal WebSocket (terminal-pane.ts).
 */
import type { Session } from "../../../gen/claude_sessions/v1/session_pb.js";
import type { Snapshot } from "../../../gen/claude_sessions/v1/snapshot_pb.js";
import { isoTime, sessionDetails } from "../../output.js";
import { splitWords } from "../../shell-quote.js";
import { daemon, errorText, sessions } from "./api.js";
import { type SessionAction, SessionBoard } from "./session-board.js";
import { type PaneMode, TerminalPane } from "./terminal-pane.js";

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
const terminalElement = element<HTMLElement>("terminal");
const detailsView = element<HTMLElement>("details-view");
const details = element<HTMLElement>("details");
const editForm = element<HTMLFormElement>("edit-form");
const snapshotList = element<HTMLUListElement>("snapshots");
const snapshotsEmpty = element<HTMLElement>("snapshots-empty");

/** What the lower pane shows: a terminal (attach, watch, log) or the session's details. */
type Mode = PaneMode | "details";

/** Says what happened, as an error unless `info`. */
function say(text: string, info = false): void {
  notice.textContent = text;
  notice.classList.toggle("info", info);
}

const pane = new TerminalPane(terminalElement, (text) => {
  detailStatus.textContent = text;
});
let shown: { session: Session; mode: Mode } | undefined;

function show(session: Session, mode: Mode): void {
  shown = { session, mode };
  board.selected = session.id;
  board.scheduleDraw();
  detail.hidden = false;
  detailTitle.textContent = session.name || session.id.slice(0, 8);
  detailMode.textContent = {
    attach: "terminal",
    watch: "terminal, read-only",
    log: "log",
    details: "details",
  }[mode];
  detail.dataset.mode = mode;
  detail.dataset.sessionId = session.id;
  followToggle.hidden = mode !== "log";
  detailsView.hidden = mode !== "details";
  terminalElement.hidden = mode === "details";
  if (mode === "details") {
    pane.close();
    detailStatus.textContent = "";
    fillEditForm(session);
    showDetails(session);
    snapshotList.replaceChildren();
    void showSnapshots(session).catch((error: unknown) =>
      say(`snapshots of ${session.name || session.id.slice(0, 8)}: ${errorText(error)}`),
    );
  } else {
    pane.show(session.id, mode, follow.checked);
  }
}

/** The details as `claude-sessions show` prints them, redrawn as the session changes. */
function showDetails(session: Session): void {
  details.textContent = sessionDetails(session, false);
  detailTitle.textContent = session.name || session.id.slice(0, 8);
}

/** The session's snapshots in its details, each with a button that restores it. */
async function showSnapshots(session: Session): Promise<void> {
  const { snapshots } = await sessions.listSnapshots({ sessionId: session.id });
  if (shown?.mode !== "details" || shown.session.id !== session.id) return;
  snapshotList.replaceChildren(...snapshots.map(snapshotItem));
  snapshotsEmpty.hidden = snapshots.length > 0;
}

/** "before-refactor · seq 212 · 9a0c1e2f3b4d, 3 changed · 2026-12-04T10:00:00.000Z [restore]". */
function snapshotItem(snapshot: Snapshot): HTMLLIElement {
  const item = document.createElement("li");
  item.dataset.snapshotId = snapshot.id;
  const files = snapshot.files;
  const text = document.createElement("span");
  text.textContent = [
    snapshot.name || snapshot.id.slice(0, 8),
    `seq ${snapshot.seq}`,
    files ? `${files.commit.slice(0, 12)}, ${changed(files.changedFileCount)}` : "no files",
    isoTime(snapshot.createdAt) ?? "",
  ].join(" · ");
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.action = "restore";
  button.textContent = "restore";
  button.addEventListener("click", () => void restore(snapshot));
  item.append(text, " ", button);
  return item;
}

/** "1 file changed", "3 files changed". */
function changed(count: number): string {
  return `${count} file${count === 1 ? "" : "s"} changed`;
}

/** A new session from the snapshot, attached in the page (as `restore --attach`). */
async function restore(snapshot: Snapshot): Promise<void> {
  const label = snapshot.name || snapshot.id.slice(0, 8);
  try {
    const { session } = await sessions.restoreSnapshot({
      snapshotId: snapshot.id,
      cols: pane.terminal.cols,
      rows: pane.terminal.rows,
    });
    if (session === undefined) return;
    say(`restored ${label} as ${session.name || session.id.slice(0, 8)}`, true);
    show(session, "attach");
  } catch (error) {
    say(`restore ${label}: ${errorText(error)}`);
  }
}

function fillEditForm(session: Session): void {
  (editForm.elements.namedItem("name") as HTMLInputElement).value = session.name;
  (editForm.elements.namedItem("labels") as HTMLInputElement).value = Object.entries(session.labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");
}

/** `key=value, key=value` as typed: a word without `=` is refused with what to write. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const word of text.split(/[,\s]+/).filter((part) => part !== "")) {
    const equals = word.indexOf("=");
    if (equals <= 0) throw new Error(`'${word}' is not key=value`);
    labels[word.slice(0, equals)] = word.slice(equals + 1);
  }
  return labels;
}

editForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const session = shown?.mode === "details" ? board.get(shown.session.id) : undefined;
  if (session === undefined) return;
  const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
  const field = (name: string) => (editForm.elements.namedItem(name) as HTMLInputElement).value;
  void (async () => {
    const label = session.name || session.id.slice(0, 8);
    try {
      if (submitter?.name === "label") {
        const wanted = parseLabels(field("labels"));
        const remove = Object.keys(session.labels).filter((key) => !(key in wanted));
        await sessions.labelSession({ sessionId: session.id, set: wanted, remove });
        say(`labelled ${label}`, true);
      } else {
        const name = field("name").trim();
        await sessions.renameSession({ sessionId: session.id, name });
        say(name ? `renamed ${label} to ${name}` : `${label} has no name now`, true);
      }
    } catch (error) {
      say(`${submitter?.name === "label" ? "label" : "rename"} ${label}: ${errorText(error)}`);
    }
  })();
});

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
      case "details":
        show(session, action);
        return;
      case "fork": {
        const { session: fork } = await sessions.forkSession({
          sessionId: session.id,
          cols: pane.terminal.cols,
          rows: pane.terminal.rows,
        });
        if (fork === undefined) return;
        say(
          `forked ${label} as ${fork.name || fork.id.slice(0, 8)}${fork.worktree ? ` on ${fork.worktree.branch}` : ""}`,
          true,
        );
        show(fork, "attach");
        return;
      }
      case "snapshot": {
        const { snapshot } = await sessions.createSnapshot({ sessionId: session.id });
        if (snapshot === undefined) return;
        say(
          `snapshot ${snapshot.id.slice(0, 8)} of ${label} at seq ${snapshot.seq}${snapshot.files ? `, ${changed(snapshot.files.changedFileCount)}` : ""}`,
          true,
        );
        if (shown?.mode === "details" && shown.session.id === session.id)
          await showSnapshots(session);
        return;
      }
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
  (id) => {
    if (shown?.mode !== "details" || (id !== undefined && id !== shown.session.id)) return;
    const now = board.get(shown.session.id);
    if (now === undefined) closeDetail();
    else {
      shown.session = now;
      showDetails(now);
    }
  },
);

element<HTMLFormElement>("start-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const input = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
  const field = (name: string) => input(name).value;
  void (async () => {
    try {
      const command = splitWords(field("command"));
      const labels = parseLabels(field("labels"));
      // As `start --worktree [branch]`: an empty branch is named after the session.
      const worktree = input("worktree").checked
        ? { branch: field("branch").trim(), base: "" }
        : undefined;
      const { session } = await sessions.startSession({
        workingDir: field("directory"),
        command,
        name: field("name").trim(),
        labels,
        ...(worktree === undefined ? {} : { worktree }),
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
