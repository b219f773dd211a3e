/**
 * The load generator: a mix of ListSessions, GetSession and CaptureScreen at a fixed rate, with
 * bounded concurrency, against a daemon's running sessions. The rate is open-loop: calls are
 * issued on a schedule, not when the previous one returns, so a slow daemon shows up as a lower
 * achieved rate and longer latencies rather than being hidden.
 */
import * as grpc from "@grpc/grpc-js";
import { DaemonClient } from "../../cli/client.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";

export interface LoadOptions {
  /** Calls a second to aim for. */
  rate: number;
  seconds: number;
  /** Calls in flight at most; a call due beyond that is counted as skipped. */
  concurrency: number;
}

export interface LoadResult {
  target_rate: number;
  seconds: number;
  completed: number;
  achieved_rate: number;
  /** Calls not issued because `concurrency` calls were already in flight. */
  skipped: number;
  errors: Record<string, number>;
  latency_ms: { p50: number; p99: number; max: number };
  by_method: Record<string, number>;
}

/** Runs the mixed load against `client` for `seconds`; resolves when every call has ended. */
export async function runLoad(client: DaemonClient, options: LoadOptions): Promise<LoadResult> {
  const running = (await client.sessions.listSessions({ states: [SessionState.RUNNING] })).sessions;
  if (running.length === 0) throw new Error("the daemon has no running session to query");
  const ids = running.map((session) => session.id);
  const calls: Array<[string, (id: string) => Promise<unknown>]> = [
    ["ListSessions", () => client.sessions.listSessions({})],
    ["GetSession", (id) => client.sessions.getSession({ sessionId: id })],
    ["CaptureScreen", (id) => client.sessions.captureScreen({ sessionId: id })],
  ];
  const errors: Record<string, number> = {};
  const byMethod: Record<string, number> = {};
  const latencies: number[] = [];
  let issued = 0;
  let completed = 0;
  let skipped = 0;
  let inFlight = 0;
  const started = performance.now();
  const end = started + options.seconds * 1000;
  let drained: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    drained = resolve;
  });
  let scheduling = true;

  const issue = () => {
    const [name, call] = calls[issued % calls.length] as [string, (id: string) => Promise<unknown>];
    const id = ids[Math.floor(issued / calls.length) % ids.length] as string;
    issued += 1;
    inFlight += 1;
    const t0 = performance.now();
    call(id)
      .then(
        () => {
          byMethod[name] = (byMethod[name] ?? 0) + 1;
        },
        (error: grpc.ServiceError) => {
          const code = grpc.status[error.code] ?? String(error.code);
          errors[code] = (errors[code] ?? 0) + 1;
        },
      )
      .finally(() => {
        latencies.push(performance.now() - t0);
        completed += 1;
        inFlight -= 1;
        if (!scheduling && inFlight === 0) drained();
      });
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, end) - started) / 1000) * options.rate);
      while (issued + skipped < due) {
        if (inFlight >= options.concurrency) {
          skipped += 1;
          continue;
        }
        issue();
      }
      if (now >= end) {
        resolve();
        return;
      }
      setTimeout(tick, 5);
    };
    tick();
  });
  scheduling = false;
  if (inFlight > 0) await allDone;
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Number((latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(2));
  return {
    target_rate: options.rate,
    seconds: Number(elapsed.toFixed(2)),
    completed,
    achieved_rate: Math.round(completed / elapsed),
    skipped,
    errors,
    latency_ms: { p50: at(0.5), p99: at(0.99), max: at(1) },
    by_method: byMethod,
  };
}

/** Runs the load against the daemon on `socket` with a client of its own. */
export async function loadSocket(socket: string, options: LoadOptions): Promise<LoadResult> {
  const client = new DaemonClient(socket);
  try {
    return await runLoad(client, options);
  } finally {
    client.close();
  }
}
