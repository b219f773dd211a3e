/**
 * The daemon's own account of what it holds for clients that read slower than sessions write.
 * Memory for a slow client is bounded by design (a terminal's backlog is dropped for a fresh
 * screen, a follower reads the file instead of being buffered for); these counters let a client,
 * and a test, see that bound kept instead of inferring it from the process's RSS, which moves
 * with the machine's load and V8's heap.
 */

/** What a terminal attachment reports. */
export interface AttachmentCounters {
  /** The attachment's backlog is now `bytes`. */
  backlog(bytes: number): void;
  /** A client that fell too far behind was sent a fresh screen. */
  resynced(): void;
}

/** What one follower's stream holds: entries handed to it and not yet written out. */
export interface FollowerAccount {
  /** Accounts for `bytes` handed to the stream; call the returned function once they are sent. */
  hold(bytes: number): () => void;
  /** A batch was read from the log file: the ring no longer held it. */
  readFile(): void;
}

export interface CounterLimits {
  /** A terminal client's backlog limit (CLIENT_BACKLOG_BYTES). */
  terminalBacklogBytes: number;
  /** The most one follower's stream can hold. */
  followerHeldBytes: number;
}

/** The counters at one moment; the field names of the `DaemonCounters` message. */
export interface CountersSnapshot {
  terminalBacklogLimitBytes: number;
  terminalBacklogPeakBytes: number;
  terminalResyncs: number;
  followerHeldLimitBytes: number;
  followerHeldPeakBytes: number;
  followerFileReads: number;
}

export class DaemonCounters {
  private terminalBacklogPeak = 0;
  private terminalResyncs = 0;
  private followerHeldPeak = 0;
  private followerFileReads = 0;

  constructor(private readonly limits: CounterLimits) {}

  /** Shared by every terminal attachment: only the peak and a count are kept. */
  readonly attachments: AttachmentCounters = {
    backlog: (bytes) => {
      if (bytes > this.terminalBacklogPeak) this.terminalBacklogPeak = bytes;
    },
    resynced: () => {
      this.terminalResyncs += 1;
    },
  };

  /** An account for one follower's stream. */
  follower(): FollowerAccount {
    let held = 0;
    return {
      hold: (bytes) => {
        held += bytes;
        if (held > this.followerHeldPeak) this.followerHeldPeak = held;
        let sent = false;
        return () => {
          if (sent) return;
          sent = true;
          held -= bytes;
        };
      },
      readFile: () => {
        this.followerFileReads += 1;
      },
    };
  }

  snapshot(): CountersSnapshot {
    return {
      terminalBacklogLimitBytes: this.limits.terminalBacklogBytes,
      terminalBacklogPeakBytes: this.terminalBacklogPeak,
      terminalResyncs: this.terminalResyncs,
      followerHeldLimitBytes: this.limits.followerHeldBytes,
      followerHeldPeakBytes: this.followerHeldPeak,
      followerFileReads: this.followerFileReads,
    };
  }
}
