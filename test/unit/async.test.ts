/** The async primitives: each wait ends the way it says and leaves no listener or waiter behind. */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import {
  Deferred,
  delay,
  Notifier,
  unlessAborted,
  untilAborted,
  waitForEvent,
  withTimeout,
} from "../../daemon/common/async.js";

/** A promise that never settles. */
const never = new Promise<never>(() => undefined);

describe("Deferred", () => {
  it("settles its promise from outside, once", async () => {
    const resolved = new Deferred<number>();
    assert.equal(resolved.settled, false);
    resolved.resolve(7);
    resolved.resolve(8);
    assert.equal(resolved.settled, true);
    assert.equal(await resolved.promise, 7);
    const rejected = new Deferred<void>();
    rejected.reject(new Error("no"));
    await assert.rejects(rejected.promise, /no/);
  });
});

describe("Notifier", () => {
  it("wakes every waiter at once; a later waiter waits for the next notify", async () => {
    const notifier = new Notifier();
    const woken: number[] = [];
    const first = Promise.all([1, 2].map((n) => notifier.wait().then(() => woken.push(n))));
    assert.equal(notifier.waiting, 2);
    notifier.notify();
    await first;
    assert.deepEqual(woken, [1, 2]);
    assert.equal(notifier.waiting, 0);
    const later = notifier.wait();
    assert.equal(notifier.waiting, 1);
    notifier.notify();
    await later;
  });

  it("drops a waiter as soon as its signal fires", async () => {
    const notifier = new Notifier();
    const stop = new AbortController();
    const waiting = notifier.wait(stop.signal);
    stop.abort();
    await waiting;
    assert.equal(notifier.waiting, 0);
    await notifier.wait(stop.signal);
    assert.equal(notifier.waiting, 0, "a signal that has fired waits for nothing");
  });
});

describe("waitForEvent", () => {
  it("resolves on the event, or on the signal, and unsubscribes from both", async () => {
    const emitter = new EventEmitter();
    const stop = new AbortController();
    const subscribe = (wake: () => void) => {
      emitter.on("drain", wake);
      return () => emitter.off("drain", wake);
    };
    const drained = waitForEvent(subscribe, stop.signal);
    emitter.emit("drain");
    await drained;
    assert.equal(emitter.listenerCount("drain"), 0);
    const aborted = waitForEvent(subscribe, stop.signal);
    stop.abort();
    await aborted;
    assert.equal(emitter.listenerCount("drain"), 0);
  });

  it("unsubscribes a wake called while subscribing", async () => {
    let subscribed = false;
    await waitForEvent((wake) => {
      subscribed = true;
      wake();
      return () => {
        subscribed = false;
      };
    });
    assert.equal(subscribed, false);
  });

  it("untilAborted resolves once the signal fires, at once if it has", async () => {
    const stop = new AbortController();
    let done = false;
    const waiting = untilAborted(stop.signal).then(() => {
      done = true;
    });
    await Promise.resolve();
    assert.equal(done, false);
    stop.abort();
    await waiting;
    await untilAborted(stop.signal);
  });
});

describe("delay", () => {
  it("resolves true once its time has passed, false as soon as its signal fires", async () => {
    assert.equal(await delay(1), true);
    const stop = new AbortController();
    const waiting = delay(3_600_000, stop.signal);
    stop.abort();
    assert.equal(await waiting, false, "an hour's wait given up at once");
    assert.equal(await delay(3_600_000, stop.signal), false);
  });
});

describe("withTimeout", () => {
  it("settles as its promise does when that comes first", async () => {
    assert.equal(await withTimeout(Promise.resolve("done"), 3_600_000, () => "late"), "done");
    await assert.rejects(
      withTimeout(Promise.reject(new Error("failed")), 3_600_000, () => "late"),
      /failed/,
    );
  });

  it("settles as onTimeout does when the time passes first", async () => {
    assert.equal(await withTimeout(never, 1, () => "timed out"), "timed out");
    await assert.rejects(
      withTimeout(never, 1, () => {
        throw new Error("too slow");
      }),
      /too slow/,
    );
  });
});

describe("unlessAborted", () => {
  it("is the promise's value, or undefined once the signal fires", async () => {
    const stop = new AbortController();
    assert.equal(await unlessAborted(Promise.resolve(1), stop.signal), 1);
    const waiting = unlessAborted(never, stop.signal);
    stop.abort();
    assert.equal(await waiting, undefined);
    assert.equal(await unlessAborted(Promise.resolve(1), stop.signal), undefined);
  });
});
