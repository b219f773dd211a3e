/** Where the daemon looks for a Claude Code transcript: where Claude Code itself keeps it. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  claudeProjectSlug,
  claudeTranscriptPath,
  findClaudeTranscript,
  hasClaudeTranscript,
} from "../../daemon/session/claude-transcript.js";

const id = "3f0c9a1e-5b7d-4c2a-9e8f-1a2b3c4d5e6f";

describe("Claude Code transcript", () => {
  const root = mkdtempSync("/tmp/cct-");
  after(() => rmSync(root, { recursive: true, force: true }));

  it("names a project by its directory with every other character than [a-zA-Z0-9] as '-'", () => {
    assert.equal(claudeProjectSlug("/home/me/my_app.v2"), "-home-me-my-app-v2");
    const long = `/${"a".repeat(250)}`;
    const slug = claudeProjectSlug(long);
    assert.match(slug, new RegExp(`^-${"a".repeat(199)}-[0-9a-z]+$`));
    assert.notEqual(claudeProjectSlug(`/${"a".repeat(249)}b`), slug);
  });

  it("is under $CLAUDE_CONFIG_DIR, else $HOME/.claude, for the directory with links resolved", () => {
    const project = join(root, "project");
    mkdirSync(project);
    symlinkSync(project, join(root, "link"));
    const slug = claudeProjectSlug(project);
    assert.equal(
      claudeTranscriptPath(id, join(root, "link"), { HOME: "/home/me" }),
      `/home/me/.claude/projects/${slug}/${id}.jsonl`,
    );
    assert.equal(
      claudeTranscriptPath(id, project, { HOME: "/home/me", CLAUDE_CONFIG_DIR: "/etc/cc" }),
      `/etc/cc/projects/${slug}/${id}.jsonl`,
    );
  });

  it("exists only once Claude Code has written it", () => {
    const project = join(root, "written");
    mkdirSync(project);
    const env = { HOME: root };
    assert.equal(hasClaudeTranscript(id, project, env), false);
    const transcript = claudeTranscriptPath(id, project, env);
    mkdirSync(join(transcript, ".."), { recursive: true });
    writeFileSync(transcript, "{}\n");
    assert.equal(hasClaudeTranscript(id, project, env), true);
  });

  it("is found where Claude Code would look, else in any of its projects", () => {
    const env = { HOME: join(root, "finder") };
    const here = join(root, "here");
    const there = join(root, "there");
    mkdirSync(here);
    mkdirSync(there);
    assert.equal(findClaudeTranscript(id, here, env), undefined);
    const elsewhere = claudeTranscriptPath(id, there, env);
    mkdirSync(join(elsewhere, ".."), { recursive: true });
    writeFileSync(elsewhere, "{}\n");
    assert.equal(findClaudeTranscript(id, here, env), elsewhere);
    const own = claudeTranscriptPath(id, here, env);
    mkdirSync(join(own, ".."), { recursive: true });
    writeFileSync(own, "{}\n");
    assert.equal(findClaudeTranscript(id, here, env), own);
  });
});
