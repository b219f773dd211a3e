/**
 * How long a daemon may take to answer Ping before it counts as not answering: the one wait for
 * the question "is a daemon running?", which `status`, `version`, `stop-daemon` and `daemon` ask
 * (and `isRunning()` of both clients by default). Reaching the daemon for work asks no such
 * question: a command connects, and its calls wait as long as `CLAUDE_SESSIONS_CALL_TIMEOUT`.
 */
export const LIVENESS_TIMEOUT_MS = 3000;
