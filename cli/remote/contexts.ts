/**
 * Contexts, as docker has them: named daemons on other machines, kept in the home's
 * `contexts.json` (0600), and which one commands use when neither `--host` nor `--context`
 * says. The context `default` is this machine's own daemon; it is always there and never
 * stored.
 */
import { ensurePrivateHome } from "../../daemon/common/home-guard.js";
import { homePaths } from "../../daemon/common/paths.js";
import { readRegularFile } from "../../daemon/common/regular-file.js";
import { writeFileAtomically } from "../atomic-write.js";
import { ClientError } from "../client-error.js";
import { printable } from "../output.js";
import { Status } from "../rpc/call-error.js";
import { parseSshAddress } from "./ssh-url.js";

/** The context of this machine's own daemon. */
export const DEFAULT_CONTEXT = "default";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export interface RemoteContext {
  /** `ssh://[user@]host[:port]`. */
  host: string;
  /** The command that runs `claude-sessions` on the far side; unset: the default. */
  program?: string | undefined;
  description?: string | undefined;
}

export interface ContextStore {
  /** The context commands use; undefined: `default`. */
  current: string | undefined;
  contexts: Record<string, RemoteContext>;
}

/** Refuses a name that is not a context name, with the one line that says what is. */
export function checkContextName(name: string): void {
  if (!NAME.test(name)) {
    throw new ClientError(
      `'${printable(name)}' is not a context name: use letters, digits, '.', '_' and '-' (up to 63, starting with a letter or digit)`,
      Status.INVALID_ARGUMENT,
    );
  }
}

function corrupt(path: string, why: string): ClientError {
  return new ClientError(
    `${path} is not a contexts file (${why}); fix it, or remove it to start again`,
    Status.FAILED_PRECONDITION,
  );
}

/** The contexts of `home`; none if it has no contexts file. */
export function readContexts(home: string): ContextStore {
  const path = homePaths(home).contexts;
  let text: string;
  try {
    text = readRegularFile(path, { label: "contexts file " }).toString("utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return { current: undefined, contexts: {} };
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw corrupt(path, (error as Error).message);
  }
  if (typeof value !== "object" || value === null) throw corrupt(path, "not a JSON object");
  const { current, contexts } = value as { current?: unknown; contexts?: unknown };
  if (current !== undefined && current !== null && typeof current !== "string")
    throw corrupt(path, "current is not a name");
  if (contexts !== undefined && (typeof contexts !== "object" || contexts === null))
    throw corrupt(path, "contexts is not an object");
  const store: ContextStore = {
    current: typeof current === "string" && current !== DEFAULT_CONTEXT ? current : undefined,
    contexts: {},
  };
  for (const [name, entry] of Object.entries((contexts ?? {}) as Record<string, unknown>)) {
    const fields = entry as Partial<Record<keyof RemoteContext, unknown>> | null;
    if (typeof fields !== "object" || fields === null || typeof fields.host !== "string")
      throw corrupt(path, `context '${printable(name)}' has no host`);
    store.contexts[name] = {
      host: fields.host,
      program: typeof fields.program === "string" ? fields.program : undefined,
      description: typeof fields.description === "string" ? fields.description : undefined,
    };
  }
  return store;
}

/** Writes `store` as the contexts of `home`, at once (a reader sees the old file or the new). */
export function writeContexts(home: string, store: ContextStore): void {
  ensurePrivateHome(home);
  const contexts: Record<string, RemoteContext> = {};
  for (const name of Object.keys(store.contexts).sort()) {
    const { host, program, description } = store.contexts[name] as RemoteContext;
    contexts[name] = {
      host,
      ...(program === undefined ? {} : { program }),
      ...(description === undefined ? {} : { description }),
    };
  }
  const text = JSON.stringify({ current: store.current ?? DEFAULT_CONTEXT, contexts }, null, 2);
  writeFileAtomically(homePaths(home).contexts, `${text}\n`, 0o600);
}

/** The context called `name`, or the error that says there is none and what there is. */
export function findContext(store: ContextStore, name: string): RemoteContext {
  const context = store.contexts[name];
  if (context !== undefined) return context;
  const names = [DEFAULT_CONTEXT, ...Object.keys(store.contexts).sort()].join(", ");
  throw new ClientError(
    `no context is called '${printable(name)}' (there are: ${names}); add it with: claude-sessions context add ${printable(name)} ssh://host`,
    Status.NOT_FOUND,
  );
}

/** Adds the context `name`; an existing one is replaced only with `replace`. */
export function addContext(
  home: string,
  name: string,
  context: RemoteContext,
  replace: boolean,
): void {
  checkContextName(name);
  if (name === DEFAULT_CONTEXT) {
    throw new ClientError(
      `'${DEFAULT_CONTEXT}' is this machine's own daemon; give the context another name`,
      Status.INVALID_ARGUMENT,
    );
  }
  const address = parseSshAddress(context.host, "the context's host");
  const store = readContexts(home);
  if (store.contexts[name] !== undefined && !replace) {
    throw new ClientError(
      `context '${name}' already exists (${printable(store.contexts[name]?.host ?? "")}); replace it with --force, or remove it first`,
      Status.ALREADY_EXISTS,
    );
  }
  store.contexts[name] = { ...context, host: address.url };
  writeContexts(home, store);
}
