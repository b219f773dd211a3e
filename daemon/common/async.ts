/**
 * The few async primitives the daemon and the CLI wait with (after VS Code's
 * `base/common/async`): a promise settled from outside, a notifier that wakes whoever waits,
 * and waits that a timer or an AbortSignal ends. Each removes its listeners and clears its timer
 * however it ends, so a wait that was given up leaves nothing behind. No dependencies: the CLI
 * bundle takes this file as it is.
 */

/** A promise with its resolve and reject, for a result that another callback delivers. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  private resolve_!: (value: T) => void;
  private reject_!: (error: unknown) => void;
  private settled_ = false;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve_ = resolve;
      this.reject_ = reject;
    });
  }

  /** Whether {@link resolve} or {@link reject} was called. */
  get settled(): boolean {
    return this.settled_;
  }

  resolve(value: T): void {
    this.settled_ = true;
    this.resolve_(value);
  }

  reject(error: unknown): void {
    this.settled_ = true;
    this.reject_(error);
  }
}

/**
 * Resolves on the first call of the `wake` that `subscribe` is given, or when `signal` fires
 * (at once if it already has). `subscribe` returns how to unsubscribe; it is called either way.
 */
export function waitForEvent(
  subscribe: (wake: () => void) => () => void,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    let unsubscribe: (() => void) | undefined;
    let done = false;
    const wake = (): void => {
      if (done) return;
      done = true;
      unsubscribe?.();
      signal?.removeEventListener("abort", wake);
      resolve();
    };
    signal?.addEventListener("abort", wake, { once: true });
    unsubscribe = subscribe(wake);
    // Woken while subscribing: unsubscribe now that it is known how.
    if (done) unsubscribe();
  });
}

/** Resolves when `signal` fires (at once if it has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return waitForEvent(() => () => undefined, signal);
}

/**
 * Wakes everyone waiting, each time something happens (a record sealed, room in a buffer);
 * a waiter that gives up (its signal fires) is dropped at once.
 */
export class Notifier {
  private readonly waiters = new Set<() => void>();

  /** Resolves at the next {@link notify}, or when `signal` fires. */
  wait(signal?: AbortSignal): Promise<void> {
    return waitForEvent((wake) => {
      this.waiters.add(wake);
      return () => this.waiters.delete(wake);
    }, signal);
  }

  /** Wakes every current waiter; those that wait from now on wait for the next one. */
  notify(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** How many wait now. */
  get waiting(): number {
    return this.waiters.size;
  }
}

/** Resolves after `ms` with true, or with false as soon as `signal` fires. */
export function delay(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Settles as `promise` does, unless it has not within `ms`: then as `onTimeout()` (its value, or
 * the error it throws). The timer is cleared as soon as `promise` settles.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => T | Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
  });
  return Promise.race([promise, timedOut]).finally(() => clearTimeout(timer));
}

/** Settles as `promise` does, or resolves with undefined as soon as `signal` fires. */
export async function unlessAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
  }
}

/** Runs at most `limit` tasks at a time; the others wait their turn, in order. */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}
