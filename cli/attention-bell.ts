/**
 * `attach --bell`: the attached terminal rings its bell when another session starts waiting for
 * input, so a user inside one agent hears that another one needs them. The bell is a BEL byte
 * written between the session's own output, never inside one of its escape sequences or
 * characters (a BEL inside an OSC would end it early, the rest printed as text).
 */
import { Activity } from "../gen/claude_sessions/v1/session_pb.js";
import { SessionEventKind } from "../gen/claude_sessions/v1/session_service_pb.js";
import type { DaemonConnection } from "./daemon-connection.js";

const BEL = 0x07;
const ESC = 0x1b;

enum Parse {
  Ground,
  Escape,
  Csi,
  /** OSC, DCS, APC, PM, SOS: ended by BEL or ESC \. */
  String,
  StringEscape,
}

/**
 * Follows a terminal output stream just enough to tell whether a byte written now falls between
 * its escape sequences and whole UTF-8 characters.
 */
export class OutputBoundary {
  private state = Parse.Ground;
  /** Continuation bytes the current UTF-8 character still has to come. */
  private continuation = 0;

  feed(data: Uint8Array): void {
    for (const byte of data) {
      switch (this.state) {
        case Parse.Ground:
          if (byte === ESC) this.state = Parse.Escape;
          else if (byte >= 0xc0 && byte <= 0xf7)
            this.continuation = byte >= 0xf0 ? 3 : byte >= 0xe0 ? 2 : 1;
          else if (byte >= 0x80 && byte < 0xc0)
            this.continuation = Math.max(0, this.continuation - 1);
          else this.continuation = 0;
          break;
        case Parse.Escape:
          if (byte === 0x5b) this.state = Parse.Csi;
          else if (
            byte === 0x5d ||
            byte === 0x50 ||
            byte === 0x5f ||
            byte === 0x5e ||
            byte === 0x58
          )
            this.state = Parse.String;
          // Intermediate bytes (ESC ( B) keep the sequence going; anything else ends it.
          else if (byte < 0x20 || byte > 0x2f)
            this.state = byte === ESC ? Parse.Escape : Parse.Ground;
          break;
        case Parse.Csi:
          if (byte === ESC) this.state = Parse.Escape;
          else if (byte >= 0x40 && byte <= 0x7e) this.state = Parse.Ground;
          break;
        case Parse.String:
          if (byte === BEL) this.state = Parse.Ground;
          else if (byte === ESC) this.state = Parse.StringEscape;
          break;
        case Parse.StringEscape:
          this.state =
            byte === 0x5c ? Parse.Ground : byte === ESC ? Parse.StringEscape : Parse.String;
          break;
      }
    }
  }

  /** Whether the stream stands between sequences and characters. */
  get atBoundary(): boolean {
    return this.state === Parse.Ground && this.continuation === 0;
  }
}

/**
 * Rings `write`'s terminal when a session other than `except` starts waiting for input, until
 * stopped. Best effort: a watch that fails leaves the attach as it is, without bells.
 */
export class AttentionBell {
  private readonly boundary = new OutputBoundary();
  private pending = false;
  private readonly stream;
  /** The activity each session was last seen in, so that only a change to waiting rings. */
  private readonly seen = new Map<string, Activity>();

  constructor(
    client: DaemonConnection,
    private readonly except: string,
    private readonly write: (bytes: Uint8Array) => void,
  ) {
    this.stream = client.sessions.watchSessions({ includeExisting: true });
    this.stream.on("data", (event) => {
      const session = event.session;
      if (session === undefined || session.id === this.except) return;
      const before = this.seen.get(session.id);
      this.seen.set(session.id, session.activity);
      const starts =
        session.activity === Activity.WAITING_FOR_INPUT &&
        before !== undefined &&
        before !== Activity.WAITING_FOR_INPUT;
      if (starts && event.kind === SessionEventKind.ACTIVITY_CHANGED) this.ring();
    });
    this.stream.on("error", () => undefined);
  }

  /** The session's output, as it is written to the terminal: where a bell may go. */
  output(data: Uint8Array): void {
    this.boundary.feed(data);
    if (this.pending && this.boundary.atBoundary) {
      this.pending = false;
      this.write(Uint8Array.of(BEL));
    }
  }

  stop(): void {
    this.stream.cancel();
  }

  private ring(): void {
    if (this.boundary.atBoundary) this.write(Uint8Array.of(BEL));
    else this.pending = true;
  }
}
