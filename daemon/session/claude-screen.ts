/**
 * What Claude Code's screen says it is doing: the fallback for a Claude Code session whose hooks
 * and status file are both silent (hooks could not be added, an older Claude Code). Screens
 * change with every release, which is why this comes last; it knows two things that have held
 * for long: the permission dialog ("Do you want to proceed?" over a "❯ 1. Yes" choice) and the
 * spinner's "esc to interrupt" while a turn runs.
 */
import type { ActivityName } from "./session.js";

const QUESTION = /\bDo you want to (proceed|make this edit|create|overwrite|allow|run)\b/i;
const FIRST_CHOICE = /❯\s*1\.\s*Yes\b/;
const INTERRUPTIBLE = /\besc to interrupt\b/i;
/** A dialog's top edge, or a rule above it. */
const BORDER = /^[\s╭╮┌┐+─-]*─[\s╭╮┌┐+─-]*$/;
/** How far above its question a dialog's title may be. */
const TITLE_LINES = 12;

export function claudeScreenActivity(
  text: string,
): { state: ActivityName; detail: string } | undefined {
  const lines = text.split("\n").map((line) => line.replace(/[│|]/g, " ").trim());
  const question = lines.findIndex((line) => QUESTION.test(line));
  if (question >= 0 && lines.slice(question + 1).some((line) => FIRST_CHOICE.test(line))) {
    return { state: "waiting", detail: `permission: ${dialogTitle(lines, question)}` };
  }
  if (lines.some((line) => INTERRUPTIBLE.test(line))) return { state: "working", detail: "" };
  return undefined;
}

/** The first line of the dialog that holds the question at `question` (e.g. "Bash command"). */
function dialogTitle(lines: readonly string[], question: number): string {
  let top = question;
  while (top > 0 && question - top < TITLE_LINES && !BORDER.test(lines[top - 1] as string)) top--;
  for (let i = top; i < question; i++) {
    const line = lines[i] as string;
    if (line !== "") return line.length > 60 ? `${line.slice(0, 59)}…` : line;
  }
  return (lines[question] as string).replace(/\?.*$/, "");
}
