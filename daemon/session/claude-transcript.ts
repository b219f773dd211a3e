/**
 * Where Claude Code keeps a conversation's transcript, as its own lookup does:
 * `$CLAUDE_CONFIG_DIR` (else `$HOME/.claude`) `/projects/<slug of the directory>/<id>.jsonl`.
 * Claude Code writes it only at the first prompt; before that `claude --resume <id>` answers
 * "No conversation found", and `claude --session-id <id>` refuses an id whose file exists.
 */
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Claude Code cuts a directory's slug at this many characters and adds a hash of the path. */
const MAX_SLUG_CHARS = 200;

/** The directory name Claude Code gives a project: every character but [a-zA-Z0-9] is "-". */
export function claudeProjectSlug(dir: string): string {
  const slug = dir.replace(/[^a-zA-Z0-9]/g, "-");
  if (slug.length <= MAX_SLUG_CHARS) return slug;
  let hash = 0;
  for (let i = 0; i < dir.length; i++) hash = ((hash << 5) - hash + dir.charCodeAt(i)) | 0;
  return `${slug.slice(0, MAX_SLUG_CHARS)}-${Math.abs(hash).toString(36)}`;
}

/**
 * The transcript of `conversationId` for Claude Code run in `workingDir` with `env`. Claude Code
 * names the project by its working directory as the kernel reports it, links resolved.
 */
export function claudeTranscriptPath(
  conversationId: string,
  workingDir: string,
  env: Readonly<Record<string, string>>,
): string {
  return join(claudeProjectDir(workingDir, env), `${conversationId}.jsonl`);
}

/** Claude Code's directory of settings and transcripts in `env`. */
function claudeConfigDir(env: Readonly<Record<string, string>>): string {
  return (env.CLAUDE_CONFIG_DIR ?? join(env.HOME ?? homedir(), ".claude")).normalize("NFC");
}

/** The directory of the transcripts of Claude Code run in `workingDir` with `env`. */
export function claudeProjectDir(
  workingDir: string,
  env: Readonly<Record<string, string>>,
): string {
  let dir = workingDir;
  try {
    dir = realpathSync(workingDir);
  } catch {
    // A directory that is gone fails the resume's own check, with its message.
  }
  return join(claudeConfigDir(env), "projects", claudeProjectSlug(dir));
}

/**
 * Where the transcript of `conversationId` is: in the project of `workingDir` as Claude Code
 * would look, else in any project (a conversation moved by /resume from another directory).
 */
export function findClaudeTranscript(
  conversationId: string,
  workingDir: string,
  env: Readonly<Record<string, string>>,
): string | undefined {
  const expected = claudeTranscriptPath(conversationId, workingDir, env);
  if (existsSync(expected)) return expected;
  const projects = join(claudeConfigDir(env), "projects");
  let names: string[];
  try {
    names = readdirSync(projects);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const candidate = join(projects, name, `${conversationId}.jsonl`);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Whether Claude Code has a transcript for `conversationId` there, so `--resume` finds it. */
export function hasClaudeTranscript(
  conversationId: string,
  workingDir: string,
  env: Readonly<Record<string, string>>,
): boolean {
  return existsSync(claudeTranscriptPath(conversationId, workingDir, env));
}
