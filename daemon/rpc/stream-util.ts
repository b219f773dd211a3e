/** Small helpers for server streams: cancellation as a signal, drain waits, message reads. */
import type { EventEmitter } from "node:events";

/** An AbortSignal that fires when the client cancels or the daemon shuts down. */
export function whenCancelled(
  call: EventEmitter & { cancelled: boolean },
  shutdown: AbortSignal,
): AbortSignal {
  const controller = new AbortController();
  if (call.cancelled || shutdown.aborted) controller.abort();
  call.once("cancelled", () => controller.abort());
  call.once("close", () => controller.abort());
  const onShutdown = () => controller.abort();
  shutdown.addEventListener("abort", onShutdown, { once: true });
  controller.signal.addEventListener(
    "abort",
    () => shutdown.removeEventListener("abort", onShutdown),
    { once: true },
  );
  return controller.signal;
}

/** Resolves when the stream wants more data, or when `stop` fires. */
export function waitForDrain(call: EventEmitter, stop: AbortSignal): Promise<void> {
  if (stop.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      stop.removeEventListener("abort", done);
      resolve();
    };
    call.on("drain", done);
    stop.addEventListener("abort", done, { once: true });
  });
}

/** The next message from the client, or undefined when the stream ended or `stop` fired. */
export async function nextMessage<T>(
  messages: AsyncIterator<T>,
  stop: AbortSignal,
): Promise<T | undefined> {
  if (stop.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    stop.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const result = await Promise.race([messages.next(), aborted]);
    if (result === undefined || result.done) return undefined;
    return result.value;
  } finally {
    if (onAbort) stop.removeEventListener("abort", onAbort);
  }
}
