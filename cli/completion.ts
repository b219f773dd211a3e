/**
 * What to offer for the word being typed, from clipanion's definitions of the commands: command
 * names (and the words after them: `daemon restart`, `service install`), a command's options,
 * an option's values, and for a session argument (`<id>`) the names and ids of the daemon's
 * sessions.
 */
import type { Definition } from "clipanion";
import { WAIT_GOALS } from "./commands/wait.js";

/** Tells the completion scripts to complete file names, as the shell does by itself. */
export const FILES = "__files__";

/** What some option values and positional arguments can be; anything else is not completed. */
export interface CompletionSources {
  states: readonly string[];
  /** The names and ids of the daemon's sessions; none when no daemon runs. */
  sessions(): Promise<string[]>;
  /** The names and ids of the daemon's snapshots; none when no daemon runs. */
  snapshots(): Promise<string[]>;
}

interface OptionSpec {
  names: string[];
  /** What its value is (`<state>`), or undefined for a flag. */
  value: string | undefined;
}

/** The options of a definition, from clipanion's `-n,--tail <lines>` notation. */
function optionsOf(definition: Definition): OptionSpec[] {
  return definition.options.map((option) => {
    const [names = "", value] = option.definition.split(" ");
    return { names: names.split(","), value: value?.replace(/^<|>$/g, "") };
  });
}

/** The positional arguments of a definition's usage: `<id>`, `[dir]`, `...` (more of the last). */
function positionalsOf(definition: Definition): string[] {
  const args = definition.usage
    .slice(definition.path.length)
    .replace(/\[-[^\]]*\]/g, "")
    .split(" ")
    .filter((word) => word !== "");
  return args.map((word) => word.replace(/^[<[]|[\]>]$/g, ""));
}

/**
 * The candidates for the last of `words` (what follows `claude-sessions` on the command line,
 * the last being the word under the cursor, maybe empty), those that start with it.
 */
export async function complete(
  definitions: readonly Definition[],
  words: readonly string[],
  sources: CompletionSources,
): Promise<string[]> {
  const current = words.at(-1) ?? "";
  const starting = (candidates: readonly string[]) =>
    candidates.filter((candidate) => candidate.startsWith(current));
  const typed = words.slice(0, -1);
  // The words after `claude-sessions` that name each command: `list`, `daemon restart`.
  const paths = definitions.map((definition) => definition.path.split(" ").slice(1));
  const startsWith = (path: readonly string[], prefix: readonly string[]) =>
    prefix.every((word, i) => path[i] === word);
  // The command the typed words name, the longest (`daemon restart` over `daemon`), if any.
  let definition: Definition | undefined;
  let depth = 0;
  definitions.forEach((each, i) => {
    const path = paths[i] as string[];
    if (path.length > depth && startsWith(typed, path)) [definition, depth] = [each, path.length];
  });
  // The next word of the commands whose path goes on past the typed words: `restart` after
  // `daemon`, `install` after `service`, every command's first word at first.
  const further = [
    ...new Set(
      paths
        .filter((path) => path.length > typed.length && startsWith(path, typed))
        .map((path) => path[typed.length] as string),
    ),
  ];
  if (definition === undefined) return starting(further);
  // Right after a command's path, its subcommands (`daemon restart`); none takes arguments too.
  if (depth === typed.length && further.length > 0 && !current.startsWith("-")) {
    return starting(further);
  }
  const options = optionsOf(definition);
  const optionNamed = (word: string) => options.find((option) => option.names.includes(word));

  let positionals = 0;
  for (let i = depth; i < words.length - 1; i++) {
    const word = words[i] as string;
    if (word === "--") return [FILES];
    if (!word.startsWith("-")) positionals++;
    else if (!word.includes("=") && optionNamed(word)?.value !== undefined) i++;
  }
  const previous = words.length > 2 ? (words.at(-2) as string) : "";
  const wanted = previous.startsWith("-") ? optionNamed(previous)?.value : undefined;
  if (wanted !== undefined) return valueCandidates(wanted, sources, starting);
  if (current.startsWith("-")) {
    return starting([
      ...options.flatMap((option) => option.names.filter((name) => name.startsWith("--"))),
      "--help",
    ]);
  }
  const args = positionalsOf(definition);
  // clipanion names an optional list only as "..." (stop's ids, which --all may replace); the
  // only optional lists the commands take are of sessions.
  const last = args.at(-1) === "..." ? (args.at(-2) ?? "id") : undefined;
  const argument = args[positionals] === "..." ? last : (args[positionals] ?? last);
  if (argument === "id") return starting(await sources.sessions());
  if (argument === "snapshot") return starting(await sources.snapshots());
  if (argument === "dir") return [FILES];
  return [];
}

function valueCandidates(
  value: string,
  sources: CompletionSources,
  starting: (candidates: readonly string[]) => string[],
): string[] {
  if (value === "state") return starting(sources.states);
  if (value === "for") return starting(WAIT_GOALS);
  if (value === "path") return [FILES];
  return [];
}
