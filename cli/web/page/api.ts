/**
 * The page's clients of the daemon's API: the generated service descriptors over Connect, to
 * the web server that served the page (session-proxy.ts passes each call on to the daemon).
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { DaemonService } from "../../../gen/claude_sessions/v1/daemon_pb.js";
import { SessionService } from "../../../gen/claude_sessions/v1/session_service_pb.js";

const transport = createConnectTransport({ baseUrl: location.origin, useBinaryFormat: true });

export const sessions = createClient(SessionService, transport);
export const daemon = createClient(DaemonService, transport);

/** An error's message as the page shows it: the daemon's words, without Connect's prefix. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message.replace(/^\[[a-z_]+\] /, "");
  return String(error);
}
