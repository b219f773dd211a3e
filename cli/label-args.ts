/** Labels and label selectors as the command line gives them: `team=api`, `team-`, `-l team=api`. */
import { UsageError } from "clipanion";

/** `key=value` words as labels; anything else is misuse. */
export function parseLabelWords(words: readonly string[], flag: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const word of words) {
    const at = word.indexOf("=");
    if (at <= 0) throw new UsageError(`${flag} takes key=value (e.g. team=api), got '${word}'`);
    labels[word.slice(0, at)] = word.slice(at + 1);
  }
  return labels;
}

/**
 * `label`'s words: `key=value` sets, `key-` removes (as `kubectl label` takes them). Each key is
 * checked by the daemon.
 */
export function parseLabelChanges(words: readonly string[]): {
  set: Record<string, string>;
  remove: string[];
} {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const word of words) {
    if (word.includes("=")) Object.assign(set, parseLabelWords([word], "label"));
    else if (word.endsWith("-") && word.length > 1) remove.push(word.slice(0, -1));
    else throw new UsageError(`label takes key=value to set and key- to remove, got '${word}'`);
  }
  return { set, remove };
}

/** The `-l` selectors given, as one selector: each must hold (comma-joined). */
export function selectorOf(selectors: readonly string[] | undefined): string {
  return (selectors ?? []).join(",");
}
