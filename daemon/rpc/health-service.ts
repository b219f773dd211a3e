/** `grpc.health.v1.Health`: SERVING for "" and every served service until shutdown begins. */
import { status } from "@grpc/grpc-js";
import {
  Health,
  type HealthCheckResponse_ServingStatus,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";
import { RpcError } from "./rpc-error.js";
import type { ServiceImpl } from "./service-binding.js";

/** Serving statuses by service name, with watchers notified of every change. */
export class HealthStatus {
  private readonly statuses = new Map<string, HealthCheckResponse_ServingStatus>();
  private readonly watchers = new Set<() => void>();

  constructor(serviceNames: readonly string[]) {
    for (const name of ["", ...serviceNames]) this.statuses.set(name, ServingStatus.SERVING);
  }

  get(service: string): HealthCheckResponse_ServingStatus | undefined {
    return this.statuses.get(service);
  }

  entries(): IterableIterator<[string, HealthCheckResponse_ServingStatus]> {
    return this.statuses.entries();
  }

  /** Marks every service NOT_SERVING (the daemon is shutting down). */
  setAllNotServing(): void {
    for (const name of this.statuses.keys()) this.statuses.set(name, ServingStatus.NOT_SERVING);
    for (const notify of this.watchers) notify();
  }

  onChange(notify: () => void): () => void {
    this.watchers.add(notify);
    return () => this.watchers.delete(notify);
  }
}

export { Health as HealthService };

export function healthService(health: HealthStatus): ServiceImpl<(typeof Health)["method"]> {
  return {
    async check(request) {
      const current = health.get(request.service);
      if (current === undefined)
        throw new RpcError(status.NOT_FOUND, `unknown service ${request.service}`);
      return { status: current };
    },
    async list() {
      const statuses: Record<string, { status: HealthCheckResponse_ServingStatus }> = {};
      for (const [name, current] of health.entries()) statuses[name] = { status: current };
      return { statuses };
    },
    async watch(request, call) {
      let last: HealthCheckResponse_ServingStatus | undefined;
      const send = (): void => {
        const current = health.get(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (current !== last) call.write({ status: current });
        last = current;
      };
      send();
      await new Promise<void>((resolve) => {
        const stop = health.onChange(send);
        call.on("cancelled", () => {
          stop();
          resolve();
        });
      });
    },
  };
}
