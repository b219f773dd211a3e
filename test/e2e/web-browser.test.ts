/**
 * The web UI in a real browser: Debian's Chromium, driven by Playwright, on a real
 * `claude-sessions web` and daemon. The list and its live updates, typing in an attached
 * terminal (what reaches the session's log), a read-only watcher that cannot type, the log view
 * following output, start/stop/resume/remove from the page, and the terminal following the
 * window's size.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { type CliHome, cliHome } from "../helpers/cli-home.js";
import { makeRepository } from "../helpers/git.js";
import { fakeClaudeDir, permissionNotification, runHook } from "../helpers/hook-events.js";
import { outputText, readLog } from "../helpers/log-reader.js";
import { tempDir } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";
import { chromiumOptions, startWebUi, type WebUi } from "../helpers/web.js";

interface SessionJson {
  id: string;
  name: string;
  state: string;
  log_path: string;
  cols: number;
  rows: number;
}

/** A bash free of the user's start-up files, with a prompt of its own. */
const SHELL = ["--", "bash", "--norc", "--noprofile", "-i"];

/** The page is expected to show a change this soon after the daemon made it. */
const UPDATE_MS = 1000;

/** The row of the session named `name`. */
function row(page: Page, name: string) {
  return page.locator("tr[data-session-id]", {
    has: page.locator(`td[data-field="name"]`, { hasText: new RegExp(`^${name}$`) }),
  });
}

/** What the page's terminal shows, row by row. */
function screenText(page: Page): Promise<string> {
  return page
    .locator("#terminal .xterm-rows")
    .textContent()
    .then((text) => text ?? "");
}

describe("e2e: the web UI in Chromium", () => {
  let home: CliHome;
  let work: ReturnType<typeof tempDir>;
  let web: WebUi;
  let browser: Browser;
  let page: Page;
  const sessions = new Map<string, SessionJson>();

  const session = async (name: string) => {
    return home.json<SessionJson>(["show", name]);
  };
  const logOf = async (name: string) => outputText(readLog((await session(name)).log_path).records);

  before(async () => {
    home = cliHome();
    work = tempDir("csb-work-");
    await home.ok(["daemon"]);
    for (const name of ["alpha", "beta", "gamma"]) {
      const started = await home.json<SessionJson>([
        "start",
        "--name",
        name,
        "--label",
        `team=${name === "gamma" ? "ops" : "web"}`,
        work.path,
        ...SHELL,
      ]);
      sessions.set(name, started);
    }
    web = await startWebUi(home.path);
    browser = await chromium.launch(chromiumOptions());
    // One context, as one browser profile: its tabs share the cookie and the connections.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on("dialog", (dialog) => void dialog.accept());
    await page.goto(web.url);
  });

  after(async () => {
    try {
      await browser?.close();
      await web?.stop();
    } finally {
      await home?.cleanup();
      work?.remove();
    }
  });

  it("lands on / with the token gone from the address, and lists the three sessions", async () => {
    assert.equal(page.url(), `http://127.0.0.1:${web.port}/`);
    await page.locator("tr[data-session-id]").nth(2).waitFor();
    assert.equal(await page.locator("tr[data-session-id]").count(), 3);
    for (const [name, started] of sessions) {
      const cells = row(page, name);
      assert.equal(await cells.getAttribute("data-session-id"), started.id);
      assert.match(
        (await cells.locator('[data-field="state"]').textContent()) ?? "",
        /^running \(pid \d+\)$/,
      );
      assert.equal(await cells.locator('[data-field="directory"]').textContent(), work.path);
      assert.equal(
        await cells.locator('[data-field="labels"]').textContent(),
        `team=${name === "gamma" ? "ops" : "web"}`,
      );
    }
    assert.equal(await page.locator("#connection").textContent(), "live");
  });

  it(`shows a session stopped elsewhere within ${UPDATE_MS} ms, and one started elsewhere`, async () => {
    await home.ok(["stop", "gamma"]);
    await page
      .locator("tr[data-session-id]", { hasText: "gamma" })
      .locator('[data-field="state"]', { hasText: /^stopped/ })
      .waitFor({ timeout: UPDATE_MS });
    await home.ok(["start", "--name", "delta", work.path, ...SHELL]);
    await row(page, "delta").waitFor({ timeout: UPDATE_MS });
    assert.equal(await page.locator("tr[data-session-id]").count(), 4);
  });

  it("types what the page's terminal is given into the session: echo web-$((6*7)) shows web-42 in its log", async () => {
    await row(page, "alpha").locator('button[data-action="attach"]').click();
    await page.locator("#detail-status", { hasText: /^attached$/ }).waitFor();
    await page.locator("#terminal").click();
    await page.keyboard.type("echo web-$((6*7))");
    await page.keyboard.press("Enter");
    await waitFor("web-42 in alpha's log", async () => /\bweb-42\b/.test(await logOf("alpha")));
    await waitFor("web-42 on the page's terminal", async () =>
      (await screenText(page)).includes("web-42"),
    );
  });

  it("follows the browser window's size: the attached session takes the terminal's", async () => {
    const before = await session("alpha");
    await page.setViewportSize({ width: 900, height: 600 });
    const after = await waitFor("alpha resized", async () => {
      const now = await session("alpha");
      return now.cols < before.cols && now.rows < before.rows ? now : undefined;
    });
    // The shell sees the new size too.
    await page.locator("#terminal").click();
    await page.keyboard.type("stty size");
    await page.keyboard.press("Enter");
    await waitFor("stty size on the terminal", async () =>
      (await screenText(page)).includes(`${after.rows} ${after.cols}`),
    );
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("gives a read-only watcher the session's output and none of its keys", async () => {
    await row(page, "beta").locator('button[data-action="watch"]').click();
    await page.locator("#detail-status", { hasText: "watching (read-only)" }).waitFor();
    const size = await session("beta");
    await page.locator("#terminal").click();
    await page.keyboard.type("echo typed-by-watcher");
    await page.keyboard.press("Enter");
    await home.ok(["send", "beta", "--enter", "--", "echo marker-$((2+3))"]);
    await waitFor("marker-5 on the watcher's terminal", async () =>
      (await screenText(page)).includes("marker-5"),
    );
    assert.ok((await logOf("beta")).includes("marker-5"));
    assert.ok(!(await logOf("beta")).includes("typed-by-watcher"));
    // A watcher never resizes the session.
    const after = await session("beta");
    assert.deepEqual([after.cols, after.rows], [size.cols, size.rows]);
  });

  it("shows a session's log and follows it as it grows", async () => {
    await row(page, "alpha").locator('button[data-action="log"]').click();
    await page.locator("#detail-status", { hasText: "log (following)" }).waitFor();
    await waitFor("the log on the page", async () => (await screenText(page)).includes("web-42"));
    await home.ok(["send", "alpha", "--enter", "--", "echo follow-$((3*3))"]);
    await waitFor("follow-9 on the page", async () =>
      (await screenText(page)).includes("follow-9"),
    );
  });

  it("leaves the page's buttons working however many tabs follow logs (streams hold no HTTP connection)", async () => {
    // A browser holds 6 HTTP/1.1 connections per origin, across its tabs: 4 tabs each with a
    // watch and a log over HTTP would hold 8, and a click would wait for one.
    const tabs: Page[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const tab = await page.context().newPage();
        tabs.push(tab);
        await tab.goto(`http://127.0.0.1:${web.port}/`);
        await row(tab, "alpha").locator('button[data-action="log"]').click();
        await tab.locator("#detail-status", { hasText: "log (following)" }).waitFor();
        await waitFor("the log in the tab", async () => (await screenText(tab)).includes("web-42"));
      }
      await home.ok(["start", "--name", "epsilon", work.path, ...SHELL]);
      const epsilon = row(page, "epsilon");
      await epsilon.waitFor({ timeout: UPDATE_MS });
      await epsilon.locator('button[data-action="stop"]').click();
      await epsilon
        .locator('[data-field="state"]', { hasText: /^stopped/ })
        .waitFor({ timeout: 10_000 });
      await epsilon.locator('button[data-action="remove"]').click();
      await epsilon.waitFor({ state: "detached", timeout: 10_000 });
    } finally {
      for (const tab of tabs) await tab.close();
    }
  });

  it("starts, stops, resumes and removes a session from the page", async () => {
    await page.fill('input[name="directory"]', work.path);
    await page.fill('input[name="command"]', "bash --norc --noprofile -i");
    await page.fill('input[name="name"]', "from-web");
    await page.click('#start-form button[type="submit"]');
    const created = row(page, "from-web");
    await created.waitFor({ timeout: UPDATE_MS * 5 });
    // A session started from the page is attached in it.
    await page.locator("#detail-status", { hasText: /^attached$/ }).waitFor();
    const started = await session("from-web");
    assert.equal(started.state, "running");
    assert.equal(
      (await home.json<{ working_dir: string }>(["show", "from-web"])).working_dir,
      work.path,
    );

    await created.locator('button[data-action="stop"]').click();
    await created.locator('[data-field="state"]', { hasText: /^stopped/ }).waitFor();
    await created.locator('button[data-action="resume"]').click();
    await created.locator('[data-field="state"]', { hasText: /^running/ }).waitFor();
    await created.locator('button[data-action="stop"]').click();
    await created.locator('button[data-action="remove"]').click();
    await created.waitFor({ state: "detached" });
    const names = (await home.json<SessionJson[]>(["list"])).map((listed) => listed.name);
    assert.ok(!names.includes("from-web"), names.join(", "));
  });

  it("starts a session in a new git worktree, with labels", async () => {
    const repo = makeRepository(join(realpathSync(work.path), "shop"), { README: "shop\n" });
    await page.fill('input[name="directory"]', repo);
    await page.fill('input[name="command"]', "bash --norc --noprofile -i");
    await page.fill('input[name="name"]', "feature");
    await page.fill('#start-form input[name="labels"]', "team=web, kind=feature");
    await page.check('input[name="worktree"]');
    await page.fill('input[name="branch"]', "web-feature");
    await page.click('#start-form button[type="submit"]');
    const created = row(page, "feature");
    await created.locator('[data-field="worktree"]', { hasText: /^web-feature$/ }).waitFor();
    assert.equal(
      await created.locator('[data-field="labels"]').textContent(),
      "kind=feature, team=web",
    );
    const shown = await home.json<{
      working_dir: string;
      worktree: { path: string; branch: string } | null;
    }>(["show", "feature"]);
    assert.equal(shown.worktree?.branch, "web-feature");
    assert.equal(shown.working_dir, shown.worktree?.path);
    assert.ok(
      existsSync(join(shown.working_dir, "README")),
      "the worktree has the repository's files",
    );
    await home.ok(["stop", "feature"]);
    await home.ok(["rm", "feature"]);
    await page.uncheck('input[name="worktree"]');
    await page.fill('#start-form input[name="labels"]', "");
  });

  it("forks a session, snapshots it, and restores the snapshot from the page", async () => {
    const repo = makeRepository(join(realpathSync(work.path), "branching"), {
      README: "branching\n",
    });
    await home.ok(["start", "--name", "origin", repo, "--", "bash", "--norc", "--noprofile", "-i"]);
    const originId = (await session("origin")).id;
    writeFileSync(join(repo, "draft.txt"), "not committed\n");
    const origin = row(page, "origin");
    await origin.waitFor({ timeout: UPDATE_MS * 5 });

    await origin.locator('button[data-action="snapshot"]').click();
    await page
      .locator("#notice", {
        hasText: /^snapshot [0-9a-f]{8} of origin at seq \d+, 1 file changed$/,
      })
      .waitFor();
    await origin.locator('button[data-action="fork"]').click();
    await page
      .locator("#notice", {
        hasText: /^forked origin as [0-9a-f]{8} on claude-sessions\/[0-9a-f]{8}$/,
      })
      .waitFor();
    // The fork is attached in the page, and its worktree holds the uncommitted file.
    await page.locator("#detail-status", { hasText: /^attached$/ }).waitFor();
    type Branched = {
      id: string;
      origin: { session_id: string; snapshot_id: string | null } | null;
      worktree: { path: string } | null;
    };
    const branched = async () =>
      (await home.json<Branched[]>(["list"])).filter(
        (listed) => listed.origin?.session_id === originId,
      );
    const [fork] = await branched();
    assert.ok(fork?.worktree, "the fork has a worktree");
    assert.equal(readFileSync(join(fork.worktree.path, "draft.txt"), "utf8"), "not committed\n");

    await origin.locator('button[data-action="details"]').click();
    const item = page.locator("#snapshots li");
    await item.waitFor();
    assert.match(
      (await item.textContent()) ?? "",
      /^[0-9a-f]{8} · seq \d+ · [0-9a-f]{12}, 1 file changed · \d{4}-\d\d-\d\dT/,
    );
    await item.locator('button[data-action="restore"]').click();
    await page.locator("#notice", { hasText: /^restored [0-9a-f]{8} as [0-9a-f]{8}$/ }).waitFor();
    await page.locator("#detail-status", { hasText: /^attached$/ }).waitFor();
    const restored = (await branched()).find((listed) => listed.origin?.snapshot_id);
    assert.ok(restored?.worktree, "the restored session has a worktree");
    assert.equal(
      readFileSync(join(restored.worktree.path, "draft.txt"), "utf8"),
      "not committed\n",
    );

    for (const listed of await branched()) await home.ok(["rm", "--force", listed.id]);
    await home.ok(["rm", "--force", "origin"]);
  });

  it("says what the daemon refused, in its words", async () => {
    await page.fill('input[name="directory"]', `${work.path}/no-such-dir`);
    await page.fill('input[name="command"]', "bash");
    await page.fill('input[name="name"]', "");
    await page.click('#start-form button[type="submit"]');
    await page.locator("#notice", { hasText: /^start: .*no-such-dir/ }).waitFor();
  });

  it("shows a session's details as show does, and renames and relabels it from the page", async () => {
    await row(page, "beta").locator('button[data-action="details"]').click();
    const details = page.locator("#details");
    await details.filter({ hasText: "Labels:" }).waitFor();
    const shown = (await details.textContent()) ?? "";
    const id = sessions.get("beta")?.id ?? "";
    assert.match(shown, new RegExp(`^ID: +${id}$`, "m"));
    assert.match(shown, /^Labels: +team=web$/m);
    assert.match(shown, new RegExp(`^Directory: +${work.path}$`, "m"));
    assert.match(shown, /^Command: +bash --norc --noprofile -i$/m);

    await page.fill('#edit-form input[name="labels"]', "role=review, team=api");
    await page.click('#edit-form button[name="label"]');
    await details.filter({ hasText: /^Labels: +role=review, team=api$/m }).waitFor();
    assert.deepEqual(
      (await home.json<{ labels: Record<string, string> }>(["show", "beta"])).labels,
      {
        role: "review",
        team: "api",
      },
    );

    await page.fill('#edit-form input[name="name"]', "beta-two");
    await page.click('#edit-form button[name="rename"]');
    await details.filter({ hasText: /^Name: +beta-two$/m }).waitFor();
    await row(page, "beta-two").waitFor();
    assert.equal((await home.json<{ id: string }>(["show", "beta-two"])).id, id);

    // A refusal is the daemon's, in its words: a label key it does not take.
    await page.fill('#edit-form input[name="labels"]', "-bad=1");
    await page.click('#edit-form button[name="label"]');
    await page
      .locator("#notice", { hasText: /^label beta-two: label key '-bad' is not valid: / })
      .waitFor();
  });

  it("shows live which agent waits for you, in its row and in the tab's title", async () => {
    const claudeHome = join(work.path, "home-asker");
    mkdirSync(claudeHome, { recursive: true });
    const asker = await home.json<SessionJson>(
      ["start", "--name", "asker", work.path, "--", "claude"],
      {
        env: { PATH: `${fakeClaudeDir}:${process.env.PATH}`, HOME: claudeHome },
      },
    );
    await row(page, "asker").waitFor({ timeout: UPDATE_MS });
    assert.equal(await page.title(), "claude-sessions");
    const hook = runHook(home.path, asker.id, permissionNotification(asker.id, work.path));
    assert.equal(hook.status, 0, hook.stderr);
    await row(page, "asker")
      .locator('[data-field="activity"]', { hasText: /^waiting: / })
      .waitFor({ timeout: UPDATE_MS * 5 });
    assert.equal(await page.title(), "(1 waiting) claude-sessions");
    await home.ok(["stop", "asker"]);
    await row(page, "asker")
      .locator('[data-field="state"]', { hasText: /^stopped/ })
      .waitFor();
    assert.equal(await page.title(), "claude-sessions");
  });

  it("says so when the attached session ends, and the row turns to exited", async () => {
    await row(page, "delta").locator('button[data-action="attach"]').click();
    await page.locator("#detail-status", { hasText: /^attached$/ }).waitFor();
    await page.locator("#terminal").click();
    await page.keyboard.type("exit 3");
    await page.keyboard.press("Enter");
    await page.locator("#detail-status", { hasText: /^the session ended$/ }).waitFor();
    await row(page, "delta")
      .locator('[data-field="state"]', { hasText: /^exited \(code 3\)$/ })
      .waitFor({ timeout: UPDATE_MS });
    assert.equal((await session("delta")).state, "exited");
  });

  it("goes on across a daemon restart: the page reconnects and the sessions are there", async () => {
    const before = await page.locator("tr[data-session-id]").count();
    // Every state the connection shows from now on.
    await page.evaluate(() => {
      const shown = document.getElementById("connection") as HTMLElement;
      const states: string[] = [];
      (window as unknown as { connectionStates: string[] }).connectionStates = states;
      new MutationObserver(() => states.push(shown.dataset.state ?? "")).observe(shown, {
        attributes: true,
        attributeFilter: ["data-state"],
      });
    });
    await home.ok(["daemon", "restart"]);
    await waitFor(
      "the page to lose the daemon, then be live again",
      async () => {
        const states = await page.evaluate(
          () => (window as unknown as { connectionStates: string[] }).connectionStates,
        );
        const lost = states.indexOf("lost");
        return lost >= 0 && states.slice(lost).includes("live") ? true : undefined;
      },
      15_000,
    );
    await waitFor("every row back", async () =>
      (await page.locator("tr[data-session-id]").count()) === before ? true : undefined,
    );
    assert.match(
      (await row(page, "alpha").locator('[data-field="state"]').textContent()) ?? "",
      /^running/,
    );
    // And the terminal works through the new daemon.
    await row(page, "alpha").locator('button[data-action="attach"]').click();
    await page.locator("#detail-status", { hasText: /^attached$/ }).waitFor();
    await page.locator("#terminal").click();
    await page.keyboard.type("echo again-$((5*5))");
    await page.keyboard.press("Enter");
    await waitFor("again-25 in alpha's log", async () => /\bagain-25\b/.test(await logOf("alpha")));
  });
});
