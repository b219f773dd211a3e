/** Small helpers for server streams: cancellation as a signal, drain waits, message reads. */
import type { EventEmitter } from "node:events";
import { unlessAborted, waitForEvent } from "../common/async.js";

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
  return waitForEvent((wake) => {
    call.on("drain", wake);
    return () => call.off("drain", wake);
  }, stop);
}

/** The next message from the client, or undefined when the stream ended or `stop` fired. */
export async function nextMessage<T>(
  messages: AsyncIterator<T>,
  stop: AbortSignal,
): Promise<T | undefined> {
  if (stop.aborted) return undefined;
  const result = await unlessAborted(messages.next(), stop);
  if (result === undefined || result.done) return undefined;
  return result.value;
}
