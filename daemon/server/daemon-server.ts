/**
 * The daemon: takes the home's lock, binds the socket, serves every service and, on shutdown,
 * undoes it all in order. It only wires parts together and disposes them.
 */
import { closeSync, constants, lstatSync, rmSync, writeSync } from "node:fs";
import { connect } from "node:net";
import type { GenService } from "@bufbuild/protobuf/codegenv2";
import { DaemonService } from "../../gen/claude_sessions/v1/daemon_pb.js";
import { SessionService } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { Deferred } from "../common/async.js";
import {
  checkSocketPathLength,
  ensurePrivateHome,
  notASocket,
  UnsafeHomeError,
} from "../common/home-guard.js";
import { type HomePaths, homePaths, socketAddress } from "../common/paths.js";
import { openRegularFile, UnsafeFileError } from "../common/regular-file.js";
import { VERSION } from "../common/version.js";
import { daemonService } from "../rpc/daemon-service.js";
import { GrpcServer } from "../rpc/grpc-server.js";
import { HealthService, HealthStatus, healthService } from "../rpc/health-service.js";
import {
  DescriptorIndex,
  loadDocumentedFiles,
  ReflectionV1alphaService,
  ReflectionV1Service,
  reflectionV1,
  reflectionV1alpha,
} from "../rpc/reflection-service.js";
import { FOLLOWER_HELD_LIMIT_BYTES, sessionService } from "../rpc/session-service.js";
import { SessionManager } from "../session/session-manager.js";
import { Branching } from "../snapshot/branching.js";
import { CLIENT_BACKLOG_BYTES } from "../terminal/terminal-attachment.js";
import {
  BUILT_IN_CONFIG,
  ConfigError,
  configChanges,
  type DaemonConfig,
  loadConfig,
} from "./config.js";
import { ConnectionGate } from "./connection-gate.js";
import { DaemonCounters } from "./daemon-counters.js";
import {
  acquireInstanceLock,
  type InstanceLock,
  LockBusyError,
  LockKeyError,
} from "./instance-lock.js";
import type { Logger } from "./logger.js";
import { NOTIFY_ENV, runNotifyCommand } from "./notify-command.js";

/** A start-up problem the user must act on; the message says how. */
export class DaemonStartError extends Error {
  override readonly name = "DaemonStartError";
  constructor(
    message: string,
    /** Another daemon holds this home: the one to talk to, not a failure to report. */
    readonly alreadyRunning = false,
  ) {
    super(message);
  }
}

/** How often the daemon checks that its socket file is still there. */
const SOCKET_CHECK_MS = 1000;

export interface DaemonOptions {
  home: string;
  logger: Logger;
  resume: boolean;
}

export class Daemon {
  readonly paths: HomePaths;
  readonly startedAt = new Date();
  private lock: InstanceLock | undefined;
  private server: GrpcServer | undefined;
  private gate: ConnectionGate | undefined;
  private manager: SessionManager | undefined;
  private readonly shutdownController = new AbortController();
  private stopping: Promise<void> | undefined;
  private health: HealthStatus | undefined;
  private readonly stopped = new Deferred<void>();
  private socketCheck: NodeJS.Timeout | undefined;
  private config: DaemonConfig = BUILT_IN_CONFIG;
  private notifyCommand = "";
  private stopNotify: () => void = () => undefined;

  constructor(private readonly options: DaemonOptions) {
    this.paths = homePaths(options.home);
  }

  /** Starts serving; rejects with {@link DaemonStartError} for problems the user must fix. */
  async start(): Promise<void> {
    const { paths } = this;
    const { logger } = this.options;
    try {
      ensurePrivateHome(paths.home);
      checkSocketPathLength(paths.socket);
    } catch (error) {
      if (error instanceof UnsafeHomeError) throw new DaemonStartError(error.message);
      throw error;
    }
    try {
      this.lock = await acquireInstanceLock(paths.home);
    } catch (error) {
      if (error instanceof LockKeyError) throw new DaemonStartError(error.message);
      if (error instanceof LockBusyError) {
        throw new DaemonStartError(
          `a daemon is already running for ${paths.home}; see: claude-sessions status`,
          true,
        );
      }
      throw error;
    }
    await this.clearStaleSocket();

    // A bad config file is the user's to fix before anything else happens.
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(paths.config);
    } catch (error) {
      if (error instanceof ConfigError) throw new DaemonStartError(error.message);
      throw error;
    }
    if (config.found) logger.info(`config read from ${paths.config}`);

    const counters = new DaemonCounters({
      terminalBacklogBytes: CLIENT_BACKLOG_BYTES,
      followerHeldBytes: FOLLOWER_HELD_LIMIT_BYTES,
    });
    let manager: SessionManager;
    try {
      manager = new SessionManager(paths, logger, counters.attachments);
    } catch (error) {
      if (error instanceof UnsafeHomeError) throw new DaemonStartError(error.message);
      throw error;
    }
    try {
      await manager.load();
    } catch (error) {
      if (error instanceof UnsafeFileError) throw new DaemonStartError(error.message);
      throw error;
    }
    // Only a manager that loaded is shut down: one that did not must not write its empty
    // state over what it could not read.
    this.manager = manager;
    this.applyConfig(config.config, manager);

    const services = [SessionService, DaemonService] as unknown as GenService<never>[];
    const health = new HealthStatus(services.map((service) => service.typeName));
    this.health = health;
    const index = DescriptorIndex.forServices(
      [
        ...services,
        HealthService as unknown as GenService<never>,
        ReflectionV1Service as unknown as GenService<never>,
        ReflectionV1alphaService as unknown as GenService<never>,
      ],
      loadDocumentedFiles(),
    );
    const server = new GrpcServer();
    const branching = new Branching(manager, paths, logger);
    branching.load();
    server.serve(
      SessionService,
      sessionService(manager, branching, this.shutdownController.signal, counters),
    );
    server.serve(
      DaemonService,
      daemonService(
        {
          home: paths.home,
          configPath: paths.config,
          webPort: () => this.config.webPort,
          startedAt: this.startedAt,
          requestShutdown: (options) => void this.stop(options),
          reloadConfig: () => this.reloadConfig(),
        },
        manager,
        counters,
      ),
    );
    server.serve(HealthService, healthService(health));
    server.serve(ReflectionV1Service, reflectionV1(index));
    server.serve(ReflectionV1alphaService, reflectionV1alpha(index));

    // Connections reach the server through the gate, which closes those that never speak.
    const handOver = server.start();
    const gate = new ConnectionGate(handOver, (message) => logger.warn(message));
    await gate.listen(paths.socket);
    this.gate = gate;
    this.server = server;
    this.watchSocket();
    writePidFile(paths.pid);
    logger.info(
      `claude-sessions ${VERSION} daemon (pid ${process.pid}) serving ${socketAddress(paths.socket)}`,
    );
    if (this.options.resume) {
      const resumed = await manager.resumeInterrupted();
      logger.info(`resumed ${resumed.length} interrupted session(s)`);
    }
  }

  /**
   * Reads the config file again and applies it: new sessions get its defaults (running ones keep
   * theirs), the notify command is replaced. A bad file changes nothing: the
   * {@link ConfigError} thrown says why in one line, and the daemon log has it too.
   */
  reloadConfig(): { path: string; found: boolean; config: DaemonConfig } {
    const { logger } = this.options;
    const manager = this.manager;
    if (manager === undefined) throw new ConfigError("the daemon is not serving yet");
    let loaded: ReturnType<typeof loadConfig>;
    try {
      loaded = loadConfig(this.paths.config);
    } catch (error) {
      if (error instanceof ConfigError)
        logger.error(`config not reloaded, the one in effect is kept: ${error.message}`);
      throw error;
    }
    const changes = configChanges(this.config, loaded.config);
    this.applyConfig(loaded.config, manager);
    logger.info(
      `config reloaded from ${this.paths.config}${loaded.found ? "" : " (no file: the built-in defaults)"}: ${changes.length === 0 ? "nothing changed" : changes.join(", ")}`,
    );
    return { path: this.paths.config, found: loaded.found, config: loaded.config };
  }

  /**
   * New sessions' defaults, and the notify command: `$CLAUDE_SESSIONS_NOTIFY` when the daemon's
   * environment sets it, else the file's.
   */
  private applyConfig(config: DaemonConfig, manager: SessionManager): void {
    this.config = config;
    manager.setDefaults({ command: config.command, limits: config.limits });
    const notify = process.env[NOTIFY_ENV] ?? config.notifyCommand;
    if (notify !== this.notifyCommand) {
      this.stopNotify();
      this.stopNotify = runNotifyCommand(manager, notify, this.options.logger);
      this.notifyCommand = notify;
    }
  }

  /**
   * A socket file left by a daemon that died. We hold the lock, so no daemon of ours serves it;
   * anything else is refused rather than deleted.
   */
  private async clearStaleSocket(): Promise<void> {
    const { socket } = this.paths;
    let stats: ReturnType<typeof lstatSync>;
    try {
      stats = lstatSync(socket);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    if (!stats.isSocket()) {
      throw new DaemonStartError(notASocket(socket, stats));
    }
    const answering = await new Promise<boolean>((resolve) => {
      const probe = connect(socket);
      probe.once("connect", () => {
        probe.destroy();
        resolve(true);
      });
      probe.once("error", () => resolve(false));
    });
    if (answering) {
      throw new DaemonStartError(
        `another process is serving ${socket}; stop it before starting a daemon here`,
      );
    }
    rmSync(socket, { force: true });
    this.options.logger.info(`removed stale socket ${socket}`);
  }

  /**
   * If the socket file is deleted under a running daemon (a cleanup script, a mistaken rm),
   * nothing can reach it, and no new daemon can start while it holds the lock: so it binds the
   * socket again. A path taken over by anything else is left alone.
   */
  private watchSocket(): void {
    const { socket } = this.paths;
    let rebinding = false;
    this.socketCheck = setInterval(() => {
      const gate = this.gate;
      if (rebinding || gate === undefined || this.stopping !== undefined) return;
      try {
        lstatSync(socket);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") return;
      }
      rebinding = true;
      this.options.logger.warn(`socket ${socket} was removed; binding it again`);
      gate
        .listen(socket)
        .catch((error: unknown) =>
          this.options.logger.error(`cannot bind ${socket} again: ${(error as Error).message}`),
        )
        .finally(() => {
          rebinding = false;
        });
    }, SOCKET_CHECK_MS);
    this.socketCheck.unref();
  }

  /** Resolves when the daemon has fully stopped. */
  whenStopped(): Promise<void> {
    return this.stopped.promise;
  }

  /**
   * Lets go of every session's host (or, with `stopSessions`, ends the sessions first), flushes
   * logs, writes state, closes the server and removes the socket and pid file. Safe to call
   * more than once.
   */
  stop(options: { graceMs?: number; stopSessions?: boolean } = {}): Promise<void> {
    this.stopping ??= this.shutdown(options);
    return this.stopping;
  }

  private async shutdown(options: { graceMs?: number; stopSessions?: boolean }): Promise<void> {
    const { logger } = this.options;
    if (this.manager === undefined) {
      // Never started: nothing to stop but the lock, if it was taken.
      await this.lock?.release();
      this.stopped.resolve();
      return;
    }
    logger.info("shutting down");
    this.health?.setAllNotServing();
    clearInterval(this.socketCheck);
    await this.manager?.shutdown(options);
    // Sessions are over: end the streams that were waiting on them.
    this.shutdownController.abort();
    this.gate?.close();
    await this.server?.close();
    if (this.server !== undefined) {
      rmSync(this.paths.socket, { force: true });
      rmSync(this.paths.pid, { force: true });
    }
    await this.lock?.release();
    logger.info("stopped");
    this.stopped.resolve();
  }
}

/**
 * Writes the pid file. We hold the lock, so what is there is a dead daemon's: replaced, and a
 * symbolic link planted in its place is removed, never written through.
 */
function writePidFile(path: string): void {
  rmSync(path, { force: true });
  const fd = openRegularFile(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, {
    mode: 0o600,
  });
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
}
