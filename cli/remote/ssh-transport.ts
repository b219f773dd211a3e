/**
 * The byte stream to a daemon on another machine: the system's `ssh` running
 * `claude-sessions dial-stdio` there, as docker's `-H ssh://` runs `docker system dial-stdio`.
 * OpenSSH does everything a connection to another machine needs (the user's config, keys,
 * agent, known hosts, jump hosts); this side reads the far side's hello line, then hands the
 * pipe to HTTP/2 as if it were the daemon's socket.
 *
 * Every way it can fail ends in one line a person can act on: ssh missing, the host key unknown,
 * the login refused, the host unreachable, `claude-sessions` missing on the far side or too old
 * to dial, and the connection lost once it was up.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { Duplex } from "node:stream";
import { VERSION } from "../../daemon/common/version.js";
import { printable } from "../printable.js";
import { Status } from "../rpc/call-error.js";
import { shellQuote, splitWords } from "../shell-quote.js";
import { DIAL_PROTOCOL, type DialHello, parseHello } from "./dial-hello.js";
import { RemoteError } from "./remote-error.js";
import type { SshAddress } from "./ssh-url.js";

/** The program run on the far side when nothing names another. */
export const DEFAULT_REMOTE_PROGRAM = "claude-sessions";

/** How much the far side may print before its hello (a login shell's greeting) before we give up. */
const MAX_GREETING_BYTES = 64 * 1024;

/** How much of ssh's stderr is kept to explain a failure. */
const MAX_STDERR_BYTES = 16 * 1024;

export interface SshDialOptions {
  address: SshAddress;
  /** The command that runs `claude-sessions` on the far side, as its shell reads it. */
  program: string;
  /** Whether the far side starts its daemon when none runs (`dial-stdio --no-start` if not). */
  start: boolean;
  /** The ssh command, as words (`CLAUDE_SESSIONS_SSH_COMMAND`, default `ssh`). */
  sshCommand: readonly string[];
}

/** The ssh command `CLAUDE_SESSIONS_SSH_COMMAND` names (as a shell splits it), or `ssh`. */
export function sshCommandOf(env: NodeJS.ProcessEnv = process.env): string[] {
  const text = env.CLAUDE_SESSIONS_SSH_COMMAND;
  if (text === undefined || text.trim() === "") return ["ssh"];
  return splitWords(text, "CLAUDE_SESSIONS_SSH_COMMAND");
}

/** The arguments given to ssh: batch mode (never a prompt), no terminal, keep-alives. */
export function sshArguments(options: SshDialOptions): string[] {
  const { address } = options;
  const remote = `${options.program} dial-stdio${options.start ? "" : " --no-start"}`;
  return [
    ...options.sshCommand.slice(1),
    "-T",
    "-o",
    "BatchMode=yes",
    // A host that drops packets fails in seconds, not after TCP's two minutes.
    "-o",
    "ConnectTimeout=15",
    // A connection whose other end vanished (a sleeping laptop, a dropped network) is noticed
    // within about 45 s instead of when TCP gives up.
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "ServerAliveCountMax=3",
    ...(address.port === undefined ? [] : ["-p", String(address.port)]),
    ...(address.user === undefined ? [] : ["-l", address.user]),
    "--",
    address.host,
    remote,
  ];
}

/** The command a person runs to check the host by hand: `ssh -p 2222 ann@box`. */
function manualSsh(address: SshAddress): string {
  return shellQuote([
    "ssh",
    ...(address.port === undefined ? [] : ["-p", String(address.port)]),
    address.user === undefined ? address.host : `${address.user}@${address.host}`,
  ]);
}

/** The last line ssh (or the far side) wrote on stderr, as one printable line. */
function lastLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  return printable(lines.at(-1) ?? "");
}

/**
 * Why a dial ended before the far side said hello, from ssh's exit and what it wrote on stderr:
 * the one-line error, with a gRPC status for programs.
 */
export function dialFailure(
  options: Pick<SshDialOptions, "address" | "program">,
  exitCode: number | null,
  stderr: string,
): RemoteError {
  const { address } = options;
  const line = lastLine(stderr).replace(/\.$/, "");
  const said = line === "" ? "" : `: ${line}`;
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(stderr)) {
    return new RemoteError(
      Status.UNAVAILABLE,
      `the host key of ${address.host} is not known here, or has changed; check it and accept it by connecting once with: ${manualSsh(address)}`,
    );
  }
  if (/Permission denied|Too many authentication failures/i.test(stderr)) {
    return new RemoteError(
      Status.UNAUTHENTICATED,
      `ssh could not log in to ${address.url}${said}; check that your key is loaded (ssh-add -l) and listed in ~/.ssh/authorized_keys on ${address.host}`,
    );
  }
  if (exitCode === 255) {
    return new RemoteError(Status.UNAVAILABLE, `cannot reach ${address.url} over ssh${said}`);
  }
  if (/unknown command 'dial-stdio'|Command not found/.test(stderr)) {
    return new RemoteError(
      Status.FAILED_PRECONDITION,
      `the claude-sessions on ${address.host} is too old to be reached over ssh (it has no dial-stdio); upgrade it to ${VERSION} or later`,
    );
  }
  if (
    exitCode === 126 ||
    exitCode === 127 ||
    /command not found|No such file or directory/.test(stderr)
  ) {
    return new RemoteError(
      Status.FAILED_PRECONDITION,
      `claude-sessions is not installed on ${address.host}, or not on the PATH ssh commands get there ('${printable(options.program)}'${said}); install it there, or name its path with: claude-sessions context add NAME ${address.url} --program /path/to/claude-sessions (or CLAUDE_SESSIONS_REMOTE_PROGRAM)`,
    );
  }
  return new RemoteError(
    Status.UNAVAILABLE,
    `${address.url} did not answer as claude-sessions dial-stdio (ssh exited with ${exitCode ?? "a signal"}${said})`,
  );
}

/** A hello this side cannot go on from: an error from the far side, or another protocol. */
function helloFailure(address: SshAddress, hello: DialHello): RemoteError | undefined {
  if (hello.protocol !== DIAL_PROTOCOL) {
    const upgrade =
      hello.protocol > DIAL_PROTOCOL ? "this machine's" : `the one on ${address.host}`;
    return new RemoteError(
      Status.FAILED_PRECONDITION,
      `the claude-sessions on ${address.host} (${printable(hello.version)}) speaks dial protocol ${hello.protocol}, this one (${VERSION}) speaks ${DIAL_PROTOCOL}; upgrade ${upgrade}`,
    );
  }
  if (hello.error !== undefined) {
    return new RemoteError(
      hello.error.code,
      `${address.url}: ${printable(hello.error.message)}`,
      false,
      hello.error.notRunning === true,
    );
  }
  return undefined;
}

/**
 * The pipe to the far side's daemon, for {@link Http2Connection}: writes go to ssh's stdin, and
 * what ssh prints after the hello is read. `connected` settles once the hello has come (with
 * it), or rejects with the {@link RemoteError} that says why not; a connection lost after that
 * is an "error" of the same kind, then "close".
 */
export class SshTransport extends Duplex {
  readonly connected: Promise<DialHello>;
  private readonly child: ChildProcessWithoutNullStreams;
  private greeting: Buffer | undefined = Buffer.alloc(0);
  private stderr = "";
  private settle: { resolve(hello: DialHello): void; reject(error: RemoteError): void };

  constructor(private readonly options: SshDialOptions) {
    super({ allowHalfOpen: true });
    let settle: typeof this.settle | undefined;
    this.connected = new Promise<DialHello>((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.settle = settle as typeof this.settle;
    // Its failure is also each call's; this promise is for whoever waits for the hello.
    this.connected.catch(() => undefined);
    const [command = "ssh"] = options.sshCommand;
    this.child = spawn(command, sshArguments(options), { stdio: ["pipe", "pipe", "pipe"] });
    this.child.on("error", (error: NodeJS.ErrnoException) => {
      const failure =
        error.code === "ENOENT"
          ? new RemoteError(
              Status.UNAVAILABLE,
              `ssh is not installed here (no '${printable(command)}' on PATH); install OpenSSH's client (on Debian: apt install openssh-client), or name it with CLAUDE_SESSIONS_SSH_COMMAND`,
            )
          : new RemoteError(
              Status.UNAVAILABLE,
              `cannot run ${printable(command)}: ${error.message}`,
            );
      this.fail(failure);
    });
    this.child.stdout.on("data", (chunk: Buffer) => this.receive(chunk));
    this.child.stdout.on("end", () => {
      if (this.greeting === undefined) this.push(null);
    });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (text: string) => {
      this.stderr = (this.stderr + text).slice(-MAX_STDERR_BYTES);
    });
    // The far side is written to only by HTTP/2; a pipe it closed is the connection lost.
    this.child.stdin.on("error", () => undefined);
    this.child.on("close", (code) => this.exited(code));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void) {
    if (this.child.stdin.write(chunk)) callback();
    else this.child.stdin.once("drain", () => callback());
  }

  override _final(callback: (error?: Error) => void): void {
    this.child.stdin.end();
    callback();
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    callback(error);
  }

  /** Keeps the process alive while the connection is open (the default), or not. */
  ref(): this {
    this.child.ref();
    for (const pipe of [this.child.stdin, this.child.stdout, this.child.stderr])
      (pipe as unknown as { ref?(): void }).ref?.();
    return this;
  }

  unref(): this {
    this.child.unref();
    for (const pipe of [this.child.stdin, this.child.stdout, this.child.stderr])
      (pipe as unknown as { unref?(): void }).unref?.();
    return this;
  }

  private receive(chunk: Buffer): void {
    if (this.greeting === undefined) {
      if (!this.push(chunk)) this.child.stdout.pause();
      return;
    }
    let pending = Buffer.concat([this.greeting, chunk]);
    for (let newline = pending.indexOf(10); newline !== -1; newline = pending.indexOf(10)) {
      const line = pending.subarray(0, newline).toString("utf8").replace(/\r$/, "");
      pending = pending.subarray(newline + 1);
      const hello = parseHello(line);
      if (hello === undefined) continue;
      const failure = helloFailure(this.options.address, hello);
      if (failure !== undefined) {
        this.fail(failure);
        return;
      }
      this.greeting = undefined;
      this.settle.resolve(hello);
      if (pending.byteLength > 0 && !this.push(pending)) this.child.stdout.pause();
      return;
    }
    if (pending.byteLength > MAX_GREETING_BYTES) {
      this.fail(
        new RemoteError(
          Status.UNAVAILABLE,
          `${this.options.address.url} printed ${MAX_GREETING_BYTES / 1024} KiB without the hello of claude-sessions dial-stdio; check what the login shell prints there`,
        ),
      );
      return;
    }
    this.greeting = pending;
  }

  private exited(code: number | null): void {
    if (this.greeting !== undefined) {
      this.fail(dialFailure(this.options, code, this.stderr));
      return;
    }
    if (code !== 0) {
      const line = lastLine(this.stderr);
      const how = line === "" ? `ssh exited with ${code ?? "a signal"}` : line;
      this.destroy(
        new RemoteError(
          Status.UNAVAILABLE,
          `the connection to ${this.options.address.url} was lost (${how})`,
          true,
        ),
      );
    }
  }

  private fail(error: RemoteError): void {
    this.settle.reject(error);
    this.greeting = Buffer.alloc(0);
    this.destroy(error);
  }
}
