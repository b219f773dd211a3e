/**
 * Session labels, with Kubernetes' rules (so that what people know from `kubectl -l` holds):
 * a key is an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters,
 * alphanumeric at both ends with `-`, `_` and `.` between; a value is empty or such a name. And
 * selectors: comma-separated requirements that must all hold.
 */
import { SessionError } from "./session-error.js";

export type Labels = Record<string, string>;

/** The most labels one session may have: enough for any grouping, bounded for the state file. */
export const MAX_LABELS = 64;

const NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `key` is not a label key, or undefined if it is one. */
export function keyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined) {
    if (
      prefix.length === 0 ||
      prefix.length > 253 ||
      !prefix.split(".").every((part) => DNS_LABEL.test(part))
    )
      return `its prefix '${prefix}' must be a DNS subdomain (lowercase, at most 253 characters: example.com)`;
  }
  if (name.length === 0) return "its name is empty";
  if (name.length > 63) return `its name is ${name.length} characters; at most 63`;
  if (!NAME.test(name))
    return "its name must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  return undefined;
}

/** Why `value` is not a label value, or undefined if it is one. */
export function valueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63) return `it is ${value.length} characters; at most 63`;
  if (!NAME.test(value))
    return "it must be empty, or letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  return undefined;
}

/** `labels`, checked; throws an INVALID_ARGUMENT {@link SessionError} naming the first bad one. */
export function checkLabels(labels: Readonly<Labels>): Labels {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS)
    throw invalid(`${entries.length} labels; a session has at most ${MAX_LABELS}`);
  for (const [key, value] of entries) {
    const problem = keyProblem(key);
    if (problem !== undefined)
      throw invalid(`label key '${shownText(key)}' is not valid: ${problem}`);
    const bad = valueProblem(value);
    if (bad !== undefined)
      throw invalid(`label ${shownText(key)}=${shownText(value)} is not valid: ${bad}`);
  }
  return Object.fromEntries(entries);
}

/** One requirement of a selector. */
export type Requirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "exists" | "!exists" };

/**
 * A selector's requirements, from `team=api,tier!=web,urgent,!draft`; empty for "". Throws an
 * INVALID_ARGUMENT {@link SessionError} saying what is wrong.
 */
export function parseSelector(text: string): Requirement[] {
  if (text.trim() === "") return [];
  return text.split(",").map((part) => {
    const term = part.trim();
    const match = /^(!?)([^=!\s]+)\s*(?:(==|=|!=)\s*(\S*))?$/.exec(term);
    if (match === null)
      throw invalid(
        `label selector '${shownText(text)}': cannot read '${shownText(term)}'; use key=value, key!=value, key or !key, separated by commas`,
      );
    const [, not, key = "", op, value = ""] = match;
    const keyBad = keyProblem(key);
    if (keyBad !== undefined)
      throw invalid(
        `label selector '${shownText(text)}': key '${shownText(key)}' is not valid: ${keyBad}`,
      );
    if (op === undefined) return { key, op: not ? "!exists" : "exists" };
    if (not)
      throw invalid(`label selector '${shownText(text)}': '!' goes only before a key alone (!key)`);
    const valueBad = valueProblem(value);
    if (valueBad !== undefined)
      throw invalid(
        `label selector '${shownText(text)}': value '${shownText(value)}' is not valid: ${valueBad}`,
      );
    return { key, op: op === "!=" ? "!=" : "=", value };
  });
}

/** Whether `labels` meet every requirement. */
export function matches(labels: Readonly<Labels>, requirements: readonly Requirement[]): boolean {
  return requirements.every((requirement) => {
    const has = Object.hasOwn(labels, requirement.key);
    switch (requirement.op) {
      case "exists":
        return has;
      case "!exists":
        return !has;
      case "=":
        return has && labels[requirement.key] === requirement.value;
      default:
        return !has || labels[requirement.key] !== requirement.value;
    }
  });
}

function invalid(message: string): SessionError {
  return new SessionError("invalid-argument", message);
}

/** Text from a request, cut and with control characters escaped, for a one-line message. */
function shownText(text: string): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > 80 ? `${escaped.slice(0, 77)}...` : escaped;
}
