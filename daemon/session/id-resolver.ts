/** Finding a session from what a user typed: its full id, a unique prefix, or its name. */
import { SessionError } from "./session-error.js";

/** Prefixes shorter than this are not matched, so a typo cannot pick a session by chance. */
export const MIN_PREFIX_LENGTH = 4;

export interface Identified {
  id: string;
  name: string;
}

/**
 * Control characters (NUL, ESC, DEL, C1). No id or name holds one, and echoing one back in an
 * error message would let a query drive the terminal that prints the error.
 */
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** The shape of a session id, as `randomUUID()` makes it: `x` a hexadecimal digit. */
const ID_SHAPE = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

/**
 * Whether `text` could be typed as a session's id prefix ({@link MIN_PREFIX_LENGTH} or more
 * characters, in any case): a name like that would hide the session whose id starts with it.
 * Hexadecimal alone counts whatever its length, as the shortest rule to explain.
 */
export function couldBeIdPrefix(text: string): boolean {
  if (text.length < MIN_PREFIX_LENGTH) return false;
  if (/^[0-9a-f]+$/i.test(text)) return true;
  if (text.length > ID_SHAPE.length) return false;
  return [...text].every((char, index) =>
    ID_SHAPE[index] === "-" ? char === "-" : /[0-9a-f]/i.test(char),
  );
}

/** `text` with each control character shown as `\uXXXX`, safe to print. */
function visible(text: string): string {
  return text.replace(
    new RegExp(CONTROL.source, "g"),
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Returns the one session `query` names, or throws a {@link SessionError}: not-found,
 * failed-precondition (more than one matches) or invalid-argument. `noun` is what is looked
 * for, in messages ("snapshot": snapshots are named the same way).
 */
export function resolveSession<T extends Identified>(
  query: string,
  sessions: Iterable<T>,
  noun = "session",
): T {
  const wanted = query.trim();
  if (wanted.length === 0) {
    throw new SessionError("invalid-argument", `a ${noun} id, id prefix or name is required`);
  }
  if (CONTROL.test(wanted)) {
    throw new SessionError(
      "invalid-argument",
      `the ${noun} id or name '${visible(wanted)}' contains control characters; ids are hexadecimal with dashes and names have none`,
    );
  }
  const lower = wanted.toLowerCase();
  let named: T | undefined;
  const matches: T[] = [];
  for (const session of sessions) {
    if (session.id === lower) return session;
    if (session.name !== "" && session.name === wanted) named = session;
    else if (lower.length >= MIN_PREFIX_LENGTH && session.id.startsWith(lower))
      matches.push(session);
  }
  if (named !== undefined && matches.length === 0) return named;
  // A name stored before such names were refused ({@link couldBeIdPrefix}) that is also
  // another session's id prefix: neither is picked over the other.
  if (named !== undefined) matches.unshift(named);
  const [only, ...others] = matches;
  if (only !== undefined && others.length === 0) return only;
  if (only !== undefined) {
    const candidates = matches.map(
      (session) => session.id + (session.name ? ` (${session.name})` : ""),
    );
    throw new SessionError(
      "failed-precondition",
      `'${wanted}' matches ${matches.length} ${noun}s: ${candidates.join(", ")}; type more of the id`,
    );
  }
  const hint =
    lower.length < MIN_PREFIX_LENGTH
      ? ` (an id prefix needs at least ${MIN_PREFIX_LENGTH} characters)`
      : "";
  throw new SessionError("not-found", `no ${noun} matches '${wanted}'${hint}`);
}
