/**
 * A HOME in which the real Claude Code runs its full UI offline: onboarding done and the project
 * directory trusted, so it goes straight to its prompt.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The directory holding the `claude` installed as a dev dependency. */
export const claudeBinDir = fileURLToPath(new URL("../../../node_modules/.bin", import.meta.url));

export function writeClaudeConfig(home: string, trustedDirs: readonly string[]): void {
  const projects: Record<string, { hasTrustDialogAccepted: boolean }> = {};
  for (const dir of trustedDirs) projects[dir] = { hasTrustDialogAccepted: true };
  writeFileSync(
    join(home, ".claude.json"),
    JSON.stringify({ hasCompletedOnboarding: true, projects }),
  );
}

/**
 * The environment a user with Claude Code installed would have (offline, no auto-update). The
 * Node running the tests comes first: `claude` runs on it (`#!/usr/bin/env node`), whether it is
 * under nvm in a user's home or the Node 24 that CI puts first on PATH.
 */
export function claudeEnv(home: string): Record<string, string> {
  return {
    HOME: home,
    PATH: `${claudeBinDir}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
}
