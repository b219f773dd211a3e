/**
 * ListSessions a page at a time: at most `page_size` sessions, and never so many bytes that the
 * reply passes the 4 MiB that gRPC clients take by default (grpcurl, Python, grpc-js): two
 * sessions started with 3 MB of arguments made a reply none of them could read.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import {
  type Session as SessionMessage,
  SessionSchema,
} from "../../gen/claude_sessions/v1/session_pb.js";
import type { Session } from "../session/session.js";
import type { SessionRecord } from "../session/session-record.js";
import { RpcError } from "./rpc-error.js";
import { sessionMessageOf } from "./session-message.js";

/** How many sessions a page holds when the request says 0. */
export const DEFAULT_PAGE_SIZE = 500;
/** The most sessions a page holds, whatever the request says. */
export const MAX_PAGE_SIZE = 1000;
/**
 * The most a page's sessions may take, encoded, unless it holds only one. A session is at most
 * about 2 MiB (its command within MAX_EXEC_BYTES, its directory within PATH_MAX), so a page
 * stays under 4 MiB with room for the rest of the reply.
 */
export const PAGE_BYTES = 3 * 1024 * 1024;

/** Where a page ends: the last session it holds, in the order of the list. */
type Position = Pick<SessionRecord, "createdAt" | "id">;

/** Oldest first; the id orders sessions created in the same millisecond. */
function compare(a: Position, b: Position): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function tokenOf(position: Position): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString("base64url");
}

function positionOf(token: string): Position {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === "string" &&
      typeof value[1] === "string"
    )
      return { createdAt: value[0], id: value[1] };
  } catch {
    // Not JSON: not a token of ours either.
  }
  throw new RpcError(
    status.INVALID_ARGUMENT,
    "page_token is not one the daemon gave; list again without it",
  );
}

/** A message's size as a repeated field of the reply: its bytes, its tag and its length. */
function fieldBytes(message: SessionMessage): number {
  return toBinary(SessionSchema, message).length + 6;
}

/**
 * The page of `sessions` that `pageToken` starts (the first for ""), and the token of the page
 * after it ("" when there is none). Sessions created after the first page was asked for come on
 * a later page; removed ones are not there.
 */
export function sessionPage(
  sessions: readonly Session[],
  request: { pageSize: number; pageToken: string },
): { sessions: SessionMessage[]; nextPageToken: string } {
  if (request.pageSize < 0)
    throw new RpcError(
      status.INVALID_ARGUMENT,
      `page_size must be 0 (for ${DEFAULT_PAGE_SIZE}) or more, got ${request.pageSize}`,
    );
  const size =
    request.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(request.pageSize, MAX_PAGE_SIZE);
  const start = request.pageToken === "" ? undefined : positionOf(request.pageToken);
  const rest = sessions
    .filter((session) => start === undefined || compare(session.record, start) > 0)
    .sort((a, b) => compare(a.record, b.record));
  const page: SessionMessage[] = [];
  let bytes = 0;
  for (const session of rest) {
    if (page.length === size) break;
    const message = create(SessionSchema, sessionMessageOf(session));
    const cost = fieldBytes(message);
    if (page.length > 0 && bytes + cost > PAGE_BYTES) break;
    page.push(message);
    bytes += cost;
  }
  const last = page.length < rest.length ? rest[page.length - 1] : undefined;
  return { sessions: page, nextPageToken: last === undefined ? "" : tokenOf(last.record) };
}
