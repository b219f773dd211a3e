/**
 * A real OpenSSH server on 127.0.0.1, for end-to-end tests of daemons reached over SSH. Each one
 * has its own port, host key and local account to log in as (created for it, deleted by
 * `dispose`), client configs for `ssh -F` (one that knows the host key, one that does not, one
 * whose key the server refuses), and the command that runs this checkout's CLI as that account.
 * Needs root: it starts sshd and creates the account.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer, Socket } from "node:net";
import { join } from "node:path";
import { cliBin, repoRoot } from "./paths.js";

const SSHD = "/usr/sbin/sshd";
const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 10_000;
const POLL_MS = 25;
/** How much of sshd's stderr is kept for error messages. */
const STDERR_KEEP = 64 * 1024;
/** The environment of what runs as the remote account from here (checks, `runAsUser`). */
const BASE_PATH = "/usr/local/bin:/usr/bin:/bin";

/** A system tool by its absolute path: the test's PATH may lack the sbin directories. */
function sbin(name: string): string {
  return (
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map((dir) => join(dir, name)).find(existsSync) ??
    name
  );
}

export interface TestSshd {
  readonly port: number;
  readonly user: string;
  /** The remote account's home directory. */
  readonly userHome: string;
  /** The claude-sessions home the remote daemon uses (see program). */
  readonly remoteHome: string;
  /** ssh://USER@127.0.0.1:PORT */
  readonly url: string;
  /** `ssh -F <config>`: the value for CLAUDE_SESSIONS_SSH_COMMAND. */
  readonly sshCommand: string;
  /** Same, but a known_hosts without this server's key. */
  readonly sshCommandUnknownHost: string;
  /** Same, but an identity the server does not accept. */
  readonly sshCommandWrongKey: string;
  /**
   * The remote program prefix, as the remote shell reads it: runs this checkout's CLI (or a copy
   * of it the account can read) with `CLAUDE_SESSIONS_HOME` set to `remoteHome`.
   */
  readonly program: string;
  /**
   * Runs a shell command as the remote user (runuser -u USER -- bash -c CMD, in the user's home,
   * with HOME, USER, LOGNAME, SHELL and a plain PATH), resolves with {code, stdout, stderr}.
   */
  runAsUser(command: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Stops the listening sshd (its running connections' child processes stay, as with a real sshd). Resolves once the port refuses connections. */
  stopListening(): Promise<void>;
  /** Starts the listener again on the same port (after stopListening). Resolves once it accepts TCP connections. */
  startListening(): Promise<void>;
  /** Ends everything: the sshd with its connections, the remote user's processes (SIGKILL to each, as pkill -KILL -u USER, then wait until none remain, max 10 s), `userdel -r USER`, and removes the temp directory. Never throws (logs problems to stderr). Idempotent. */
  dispose(): Promise<void>;
}

/**
 * Why the SSH tests cannot run here, or false if they can: not root ("needs root: starts sshd
 * and creates the remote user"), or no /usr/sbin/sshd ("needs openssh-server (/usr/sbin/sshd)").
 * When process.env.CI === "true" and sshd is missing, returns false anyway, so the tests fail
 * loudly instead of being skipped in CI.
 */
export function sshdSkip(): string | false {
  if (process.getuid?.() !== 0) return "needs root: starts sshd and creates the remote user";
  if (!existsSync(SSHD) && process.env.CI !== "true") {
    return "needs openssh-server (/usr/sbin/sshd)";
  }
  return false;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs `file args` (no shell) to its end; a failure to start shows as code null. */
function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", (error) => {
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}` });
    });
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs and expects exit 0. */
async function must(file: string, args: readonly string[], options: RunOptions = {}) {
  const result = await run(file, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${file} ${args.join(" ")} failed (exit ${result.code ?? "signal"}): ${result.stderr.trim()}`,
    );
  }
  return result;
}

/**
 * Runs useradd/userdel, again while another one holds the lock on /etc/passwd (test files run in
 * parallel, each may create its account at the same moment).
 */
async function underPasswdLock(file: string, args: readonly string[]): Promise<RunResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await run(file, args);
    if (result.code === 0 || attempt >= 50 || !/lock|try again/i.test(result.stderr)) {
      return result;
    }
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `word` as a POSIX shell reads it back: as is if plain, else single-quoted. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** A port nothing listens on now (the kernel's pick for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port from port 0"))));
    });
  });
}

/** Whether a TCP connection to 127.0.0.1:port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Pids of processes with `uid` as their real, effective, saved or fs uid. Zombies count while
 * their parent has to reap them; not those of init (pid 1), which this sandbox's init reaps only
 * every couple of seconds: they no longer run.
 */
function processesOf(uid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/).map(Number) ?? [];
      if (!uids.includes(uid)) continue;
      const zombie = /^State:\s+Z/m.test(status);
      if (zombie && /^PPid:\s+1$/m.test(status)) continue;
      found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/**
 * The per-connection sshd processes of `user` (`sshd: USER [priv]`, `sshd: USER@notty`): they
 * run as root, outlive the listener, and end with their connection.
 */
function sshdSessionsOf(user: string): number[] {
  const title = new RegExp(`^sshd: ${user}[ @[]`);
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (title.test(readFileSync(`/proc/${entry}/cmdline`, "utf8"))) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Live descendants of `root` (not `root` itself), by their parent pids in /proc. */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Generates an ed25519 key pair without a passphrase; returns the private key's path. */
async function keygen(path: string, comment: string): Promise<string> {
  await must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
  await chmod(path, 0o600);
  return path;
}

/** The client config `ssh -F` reads: this key, this known_hosts, nothing from ~/.ssh or /etc. */
function clientConfig(identity: string, knownHosts: string): string {
  return `${[
    "Host *",
    `  IdentityFile ${identity}`,
    "  IdentitiesOnly yes",
    `  UserKnownHostsFile ${knownHosts}`,
    "  GlobalKnownHostsFile /dev/null",
    "  StrictHostKeyChecking yes",
    "  UpdateHostKeys no",
    "  HashKnownHosts no",
    "  PasswordAuthentication no",
    "  KbdInteractiveAuthentication no",
    "  ConnectTimeout 10",
    "  LogLevel ERROR",
  ].join("\n")}\n`;
}

function serverConfig(options: {
  port: number;
  hostKey: string;
  pidFile: string;
  user: string;
}): string {
  return `${[
    `Port ${options.port}`,
    `ListenAddress ${HOST}`,
    `HostKey ${options.hostKey}`,
    `PidFile ${options.pidFile}`,
    "AuthorizedKeysFile .ssh/authorized_keys",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes yes",
    "PermitRootLogin no",
    `AllowUsers ${options.user}`,
    "PermitUserEnvironment no",
    "UseDNS no",
    "PrintMotd no",
    "PrintLastLog no",
    "X11Forwarding no",
    "LoginGraceTime 30",
    // Tests may open many connections at once; the default starts refusing some at 10.
    "MaxStartups 100:30:200",
    "LogLevel VERBOSE",
  ].join("\n")}\n`;
}

/** The node binary the account can run: the one running this, else a system one. */
async function nodeFor(user: string): Promise<string> {
  for (const candidate of [process.execPath, "/usr/bin/node", "/usr/local/bin/node"]) {
    if ((await runAs(user, ["test", "-x", candidate])).code === 0) return candidate;
  }
  throw new Error(`no node binary that ${user} may run (tried ${process.execPath})`);
}

function runAs(user: string, args: readonly string[], options: RunOptions = {}) {
  return run(sbin("runuser"), ["-u", user, "--", ...args], options);
}

/** Whether `user` can read the CLI in the checkout at `root` (its entry and its bundle). */
async function canReadCheckout(user: string, root: string, bin: string): Promise<boolean> {
  for (const path of [bin, join(root, "dist", "cli.cjs"), join(root, "package.json")]) {
    if ((await runAs(user, ["test", "-r", path])).code !== 0) return false;
  }
  return true;
}

/**
 * A copy of what the CLI and its daemon need at run time, which `user` can read: hard links
 * when it can (same filesystem), else a real copy. Returns the copy's CLI entry.
 */
async function installFor(user: string, dir: string): Promise<string> {
  const install = join(dir, "install");
  const parts = ["bin", "dist", "gen", "package.json", "node_modules"]
    .map((part) => join(repoRoot, part))
    .filter((path) => existsSync(path));
  await mkdir(install, { mode: 0o755 });
  const linked = await run("cp", ["-al", "--", ...parts, `${install}/`]);
  if (linked.code !== 0) {
    await rm(install, { recursive: true, force: true });
    await mkdir(install, { mode: 0o755 });
    await must("cp", ["-a", "--", ...parts, `${install}/`]);
  }
  await must("chmod", ["-R", "a+rX", install]);
  await chmod(install, 0o755);
  const bin = join(install, "bin", "claude-sessions.js");
  if (!(await canReadCheckout(user, install, bin))) {
    throw new Error(`${user} still cannot read the copy of the CLI in ${install}`);
  }
  return bin;
}

/** The sshd listener: started, stopped and started again on one config. */
class Listener {
  child: ChildProcess | undefined;
  stderr = "";

  constructor(
    readonly config: string,
    readonly port: number,
  ) {}

  /** Starts sshd and resolves once it accepts connections; rejects with its stderr if not. */
  async start(): Promise<void> {
    if (this.child !== undefined && !hasExited(this.child)) return;
    this.stderr = "";
    // sshd re-executes itself per connection, which needs its absolute path.
    const child = spawn(SSHD, ["-D", "-e", "-f", this.config], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    });
    this.child = child;
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP);
    });
    // Neither keeps a test process alive; the exit hook ends sshd.
    child.unref();
    if (child.stderr instanceof Socket) child.stderr.unref();
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    let failure: Error | undefined;
    void spawnError.then((error) => {
      failure = error;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (failure !== undefined) throw new Error(`cannot start ${SSHD}: ${failure.message}`);
      if (hasExited(child)) {
        await sleep(POLL_MS); // The rest of its stderr.
        throw new Error(
          `sshd exited (${child.exitCode ?? child.signalCode}) before listening on ${HOST}:${this.port}: ${this.stderr.trim()}`,
        );
      }
      if (await accepts(this.port)) {
        if (!hasExited(child)) return;
        continue;
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        await exitOf(child);
        throw new Error(
          `sshd did not listen on ${HOST}:${this.port} within ${START_TIMEOUT_MS} ms: ${this.stderr.trim()}`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  /** Ends the listener (not its connections) and resolves once the port refuses connections. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child !== undefined && !hasExited(child)) {
      child.kill("SIGTERM");
      const stubborn = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exitOf(child);
      clearTimeout(stubborn);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (await accepts(this.port)) {
      if (Date.now() > deadline) {
        throw new Error(`${HOST}:${this.port} still accepts connections after sshd ended`);
      }
      await sleep(POLL_MS);
    }
  }

  /** The listener's pid while it runs. */
  get pid(): number | undefined {
    const child = this.child;
    return child !== undefined && !hasExited(child) ? child.pid : undefined;
  }
}

/** Starts one. Rejects with a clear message (including sshd's stderr) if sshd does not start listening within 10 s. */
export async function startSshd(): Promise<TestSshd> {
  const skip = sshdSkip();
  if (skip !== false) throw new Error(`cannot start sshd: ${skip}`);
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });

  // The account must reach its home through this directory: 0755, owned by root.
  const dir = await mkdtemp("/tmp/cs-sshd-");
  await chmod(dir, 0o755);
  const keys = join(dir, "keys");
  await mkdir(keys, { mode: 0o700 });
  const user = `csr${randomBytes(3).toString("hex")}`;
  const userHome = join(dir, "home");

  let listener: Listener | undefined;
  let uid: number | undefined;
  let disposed = false;
  let userCreated = false;

  const killUserProcesses = () => {
    if (uid !== undefined) for (const pid of processesOf(uid)) killQuietly(pid);
    for (const pid of sshdSessionsOf(user)) killQuietly(pid);
  };

  // A test process that ends without dispose (a crash, a forgotten dispose) leaves nothing.
  const onExit = () => {
    if (disposed) return;
    disposed = true;
    const pid = listener?.pid;
    const descendants = pid === undefined ? [] : descendantsOf(pid);
    if (pid !== undefined) killQuietly(pid);
    for (const child of descendants) killQuietly(child);
    killUserProcesses();
    if (userCreated) {
      spawnSync(sbin("userdel"), ["-r", "-f", user], { stdio: "ignore", timeout: 5000 });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);

  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    process.off("exit", onExit);
    const problem = (what: string, error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`sshd helper (${user}): ${what}: ${message}\n`);
    };
    try {
      const pid = listener?.pid;
      const descendants = pid === undefined ? [] : descendantsOf(pid);
      await listener?.stop();
      for (const child of descendants) killQuietly(child);
    } catch (error) {
      problem("stopping sshd", error);
    }
    try {
      const deadline = Date.now() + 10_000;
      for (;;) {
        killUserProcesses();
        const left = uid === undefined ? [] : processesOf(uid);
        if (left.length === 0 && sshdSessionsOf(user).length === 0) break;
        if (Date.now() > deadline) {
          problem("ending the account's processes", new Error(`still running: ${left.join(" ")}`));
          break;
        }
        await sleep(POLL_MS);
      }
    } catch (error) {
      problem("ending the account's processes", error);
    }
    if (userCreated) {
      let result = await underPasswdLock(sbin("userdel"), ["-r", user]);
      // A process not reaped yet (a zombie of init's) keeps plain userdel from deleting.
      if (result.code !== 0) result = await underPasswdLock(sbin("userdel"), ["-r", "-f", user]);
      if (result.code !== 0) {
        problem("userdel", new Error(`exit ${result.code}: ${result.stderr.trim()}`));
      }
    }
    try {
      await rm(dir, { recursive: true, force: true });
    } catch (error) {
      problem(`removing ${dir}`, error);
    }
  };

  try {
    const hostKey = await keygen(join(keys, "host_ed25519"), `cs-sshd host ${user}`);
    const userKey = await keygen(join(keys, "user_ed25519"), `cs-sshd client ${user}`);
    const wrongKey = await keygen(join(keys, "wrong_ed25519"), `cs-sshd stranger ${user}`);

    // `*` rather than useradd's locked `!`: without PAM, sshd refuses a locked account even
    // for a key.
    const added = await underPasswdLock(sbin("useradd"), [
      "--create-home",
      "--home-dir",
      userHome,
      "--shell",
      "/bin/bash",
      "--password",
      "*",
      user,
    ]);
    if (added.code !== 0) {
      throw new Error(`useradd ${user} failed (exit ${added.code}): ${added.stderr.trim()}`);
    }
    userCreated = true;
    uid = Number((await must("id", ["-u", user])).stdout.trim());
    const gid = Number((await must("id", ["-g", user])).stdout.trim());

    // StrictModes: the home and ~/.ssh owned by the account, not writable by others.
    const sshDir = join(userHome, ".ssh");
    await mkdir(sshDir, { recursive: true });
    await writeFile(join(sshDir, "authorized_keys"), await readFile(`${userKey}.pub`, "utf8"), {
      mode: 0o600,
    });
    await must("chown", ["-R", `${uid}:${gid}`, userHome]);
    await chown(userHome, uid, gid);
    await chmod(userHome, 0o700);
    await chmod(sshDir, 0o700);
    await chmod(join(sshDir, "authorized_keys"), 0o600);

    const node = await nodeFor(user);
    const bin = (await canReadCheckout(user, repoRoot, cliBin))
      ? cliBin
      : await installFor(user, dir);
    const remoteHome = join(userHome, "cs-home");
    const program = [
      `CLAUDE_SESSIONS_HOME=${quote(remoteHome)}`,
      "DISABLE_AUTOUPDATER=1",
      quote(node),
      quote(bin),
    ].join(" ");

    // A port picked now may be taken before sshd binds it: then another one.
    const sshdConfig = join(keys, "sshd_config");
    const pidFile = join(keys, "sshd.pid");
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      await writeFile(sshdConfig, serverConfig({ port, hostKey, pidFile, user }), { mode: 0o600 });
      listener = new Listener(sshdConfig, port);
      try {
        await listener.start();
        break;
      } catch (error) {
        if (attempt >= 5 || !/Address already in use/.test(listener.stderr)) throw error;
      }
    }
    const port = listener.port;
    const started = listener;

    const knownHosts = join(dir, "known_hosts");
    const noKnownHosts = join(dir, "known_hosts_empty");
    await writeFile(knownHosts, `[${HOST}]:${port} ${await readFile(`${hostKey}.pub`, "utf8")}`, {
      mode: 0o644,
    });
    await writeFile(noKnownHosts, "", { mode: 0o644 });
    const config = join(dir, "ssh_config");
    const configUnknownHost = join(dir, "ssh_config_unknown_host");
    const configWrongKey = join(dir, "ssh_config_wrong_key");
    await writeFile(config, clientConfig(userKey, knownHosts), { mode: 0o644 });
    await writeFile(configUnknownHost, clientConfig(userKey, noKnownHosts), { mode: 0o644 });
    await writeFile(configWrongKey, clientConfig(wrongKey, knownHosts), { mode: 0o644 });

    const userEnv = {
      PATH: BASE_PATH,
      HOME: userHome,
      USER: user,
      LOGNAME: user,
      SHELL: "/bin/bash",
    };
    return {
      port,
      user,
      userHome,
      remoteHome,
      url: `ssh://${user}@${HOST}:${port}`,
      sshCommand: `ssh -F ${quote(config)}`,
      sshCommandUnknownHost: `ssh -F ${quote(configUnknownHost)}`,
      sshCommandWrongKey: `ssh -F ${quote(configWrongKey)}`,
      program,
      runAsUser: (command) => runAs(user, ["bash", "-c", command], { cwd: userHome, env: userEnv }),
      stopListening: () => started.stop(),
      startListening: () => {
        if (disposed) return Promise.reject(new Error("this sshd was disposed"));
        return started.start();
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
