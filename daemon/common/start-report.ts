/** What a detached daemon tells the process that started it, on its IPC channel. */
export type StartReport =
  | { ready: true; pid: number }
  | { ready: false; message: string; alreadyRunning: boolean };
