/**
 * Scale: 100 sessions each writing 100 KiB/s for 20 s, 5 of them followed from their first
 * record (AttachSession with follow). Every follower must get exactly the records of the log
 * file, and ListSessions, called throughout, must stay fast. Each session waits for a line of
 * input before it writes, and is sent it once all of them run: a session starts its own host
 * (a Node start-up), so 100 of them take seconds to start, and those started first would
 * otherwise be done writing before the last one began.
 */
import { LogEntryKind, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import type { AttachSessionResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { readLog } from "../../test/helpers/log-reader.js";
import { type BenchDaemon, startBenchDaemon } from "../lib/bench-daemon.js";
import { check, type Row } from "../lib/figure.js";
import { percentile } from "../lib/stats.js";
import { withTimeout } from "../lib/timeout.js";

const SESSIONS = 100;
const FOLLOWERS = 5;
const SECONDS = 20;
const LINE_BYTES = 128;
const LINES_PER_SECOND = 800;
const LIST_INTERVAL_MS = 50;

/**
 * Once it has read a line, 800 lines of 128 bytes (100 KiB) every second, built once, written by
 * bash's own printf.
 */
const generator = [
  "bash",
  "-c",
  `read -r _; line=$(printf '%0${LINE_BYTES - 1}d' 0); block=; for ((j = 0; j < ${LINES_PER_SECOND}; j++)); do block+="$line"$'\\n'; done; for ((i = 0; i < ${SECONDS}; i++)); do printf '%s' "$block"; sleep 1; done`,
];
/**
 * The line that starts a generator: the terminal echoes it as "\r\n" when it arrives, whether or
 * not the generator is reading yet.
 */
const GO = "\r";
const GO_ECHO_CHARS = 2;
/**
 * What each session's log holds: the echo of {@link GO}, then every line, its "\n" turned into
 * "\r\n" by the terminal.
 */
const OUTPUT_CHARS = GO_ECHO_CHARS + SECONDS * LINES_PER_SECOND * (LINE_BYTES + 1);

interface Follower {
  sessionId: string;
  seqs: number[];
  outputChars: number;
  done: Promise<void>;
}

function follow(daemon: BenchDaemon, sessionId: string): Follower {
  const follower: Follower = { sessionId, seqs: [], outputChars: 0, done: Promise.resolve() };
  const stream = daemon.client.sessions.attachSession({
    sessionId,
    follow: true,
    start: { case: "fromSeq", value: 1n },
  });
  follower.done = (async () => {
    for await (const response of stream as AsyncIterable<AttachSessionResponse>) {
      for (const entry of response.entries) {
        follower.seqs.push(Number(entry.seq));
        if (entry.kind === LogEntryKind.OUTPUT) follower.outputChars += entry.data.length;
      }
    }
  })();
  return follower;
}

/** Fails unless the follower got exactly the file's records, in order. */
function checkFollower(follower: Follower, logPath: string): void {
  const records = readLog(logPath).records;
  const fileSeqs = records.map((record) => record.seq);
  const who = `follower of ${follower.sessionId}`;
  check(
    follower.seqs.length === fileSeqs.length,
    `${who} got ${follower.seqs.length} entries, the log file holds ${fileSeqs.length}`,
  );
  const differs = fileSeqs.findIndex((seq, i) => follower.seqs[i] !== seq);
  check(
    differs < 0,
    `${who}: entry ${differs} has seq ${follower.seqs[differs]}, the file ${fileSeqs[differs]}`,
  );
  const fileChars = records
    .filter((record) => record.kind === "output")
    .reduce((sum, record) => sum + record.data.length, 0);
  check(
    fileChars === OUTPUT_CHARS,
    `${who}: the log holds ${fileChars} chars, not ${OUTPUT_CHARS}`,
  );
  check(
    follower.outputChars === fileChars,
    `${who} got ${follower.outputChars} chars of output, the file ${fileChars}`,
  );
}

export const scaleRow: Row = {
  name: "scale",
  title: "100 sessions x 100 KiB/s for 20 s, 5 log followers",
  async run(log) {
    const daemon = await startBenchDaemon();
    try {
      const ids: string[] = [];
      const followers: Follower[] = [];
      const every = SESSIONS / FOLLOWERS;
      for (let i = 0; i < SESSIONS; i++) {
        const id = await daemon.startSession(generator);
        ids.push(id);
        if (i % every === 0) followers.push(follow(daemon, id));
      }
      for (const sessionId of ids) {
        await daemon.client.sessions.sendInput({ sessionId, input: { case: "text", value: GO } });
      }
      log(`${SESSIONS} sessions started; calling ListSessions every ${LIST_INTERVAL_MS} ms`);
      const listMs: number[] = [];
      for (;;) {
        const start = process.hrtime.bigint();
        const { sessions } = await daemon.client.sessions.listSessions({});
        listMs.push(Number(process.hrtime.bigint() - start) / 1e6);
        check(sessions.length === SESSIONS, `ListSessions returned ${sessions.length} sessions`);
        // The load lasts while every session still writes.
        if (sessions.some((session) => session.state !== SessionState.RUNNING)) break;
        await new Promise((resolve) => setTimeout(resolve, LIST_INTERVAL_MS));
      }
      for (const id of ids) {
        const state = await daemon.waitForEnd(id, 60_000);
        check(state === SessionState.EXITED, `session ${id} ended ${SessionState[state]}`);
      }
      const { sessions } = await daemon.client.sessions.listSessions({});
      const failed = sessions.filter((session) => session.exitCode !== 0);
      check(failed.length === 0, `${failed.length} generator(s) exited with an error`);
      await withTimeout(
        Promise.all(followers.map((follower) => follower.done)),
        60_000,
        "followers to reach the end of their logs",
      );
      let entries = 0;
      for (const follower of followers) {
        const { session } = await daemon.client.sessions.getSession({
          sessionId: follower.sessionId,
        });
        checkFollower(follower, session?.logPath ?? "");
        entries += follower.seqs.length;
      }
      log(
        `${listMs.length} ListSessions calls; followers got all ${entries} entries of their logs`,
      );
      return [
        {
          label: "entries lost by followers",
          unit: "entries",
          value: 0,
          target: { kind: "max", limit: 0 },
          note: `${FOLLOWERS} followers, ${entries} entries, seqs equal to the log files'`,
        },
        {
          label: "ListSessions p50 under load",
          unit: "ms",
          value: percentile(listMs, 50),
          target: { kind: "max", limit: 20 },
          note: `${listMs.length} calls`,
        },
        {
          label: "ListSessions p99 under load",
          unit: "ms",
          value: percentile(listMs, 99),
        },
      ];
    } finally {
      await daemon.close();
    }
  },
};
