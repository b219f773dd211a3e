/**
 * What a benchmark script must undo on its way out, whether it ends, fails or is interrupted:
 * daemons, client processes, streams. Undone newest first, each once, so a signal arriving
 * while the script cleans up after itself does not undo anything twice.
 */
export class Cleanups {
  readonly #pending: Array<() => Promise<void> | void> = [];
  #running: Promise<void> | undefined;
  #closed = false;

  /** Registers `undo`; once {@link close} has been called, runs it at once. */
  add(undo: () => Promise<void> | void): void {
    this.#pending.push(undo);
    // A failure here has no one left to report to but the close already under way.
    if (this.#closed) this.run().catch(() => undefined);
  }

  /**
   * Runs everything registered, newest first, and resolves when all of it has run; rejects with
   * the first failure, after running the rest. Calls while it runs share the same run.
   */
  run(): Promise<void> {
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #drain(): Promise<void> {
    let failure: unknown;
    for (let undo = this.#pending.pop(); undo !== undefined; undo = this.#pending.pop()) {
      try {
        await undo();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** Runs everything, and anything registered later as soon as it is: the script is ending. */
  close(): Promise<void> {
    this.#closed = true;
    return this.run();
  }
}
