/**
 * The time between SIGTERM and SIGKILL when a stop or a shutdown names none. The CLI imports it
 * too, to wait that long for the answer.
 */
export const DEFAULT_GRACE_MS = 5000;
