// Makes docs/web-ui.png, the README's picture of the web UI: a daemon on a temporary home with a
// few sessions, `claude-sessions web` on a free port, and Debian's Chromium (playwright-core)
// attached to one of them. Run after `npm run build`: node scripts/web-screenshot.js
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const cli = join(import.meta.dirname, "..", "bin", "claude-sessions.js");
const home = mkdtempSync(join(tmpdir(), "cs-shot-"));
const work = mkdtempSync(join(tmpdir(), "shop-"));
const env = { ...process.env, CLAUDE_SESSIONS_HOME: home, NO_COLOR: "1" };
const run = (...args) => execFileSync(process.execPath, [cli, ...args], { env, encoding: "utf8" });
const shell = ["--", "bash", "--norc", "--noprofile", "-i"];

let web;
let browser;
try {
  run("start", "--name", "api", "--label", "team=api", work, ...shell);
  run("start", "--name", "docs", "--label", "team=docs", work, ...shell);
  run("start", "--name", "tests", "--label", "team=api", "--label", "kind=ci", work, ...shell);
  run("start", "--name", "lint", work, "--", "bash", "-c", "echo all clean");
  run("send", "tests", "--enter", "--", "sleep 600");
  web = spawn(process.execPath, [cli, "web", "--port", "0"], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve) =>
    web.stdout.once("data", (chunk) => resolve(chunk.toString().split("\n")[0])),
  );
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(url);
  const api = page.locator("tr[data-session-id]", {
    has: page.locator('td[data-field="name"]', { hasText: /^api$/ }),
  });
  await api.locator('button[data-action="attach"]').click();
  await page.locator("#detail-status", { hasText: /^attached$/ }).waitFor();
  await page.locator("#terminal").click();
  const lines = [
    "echo web-$((6*7))",
    "printf '\\e[32m%s\\e[0m \\e[1;33m%s\\e[0m\\n' 'colours,' 'as in any terminal'",
    'for n in 1 2 3; do echo "step $n of 3"; done',
  ];
  for (const line of lines) {
    await page.keyboard.type(line);
    await page.keyboard.press("Enter");
  }
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(import.meta.dirname, "..", "docs", "web-ui.png") });
  console.log("wrote docs/web-ui.png");
} finally {
  await browser?.close();
  web?.kill("SIGINT");
  try {
    run("stop-daemon", "--stop-sessions", "--timeout", "2s");
  } catch {}
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
