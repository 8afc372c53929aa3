import { grpcCodeName } from '../../common/errors.js';
import { containerState } from '../../docker/convert.js';
import { LABEL_TYPE } from '../../docker/labels.js';
import type { DockerContainerInspect } from '../../docker/types.js';
import { MetricsRegistry, type Counter, type Histogram, type Labels } from './metrics.js';

/** Docker commands that take a subcommand: `docker image ls` is counted as "image ls". */
const MANAGEMENT_COMMANDS = new Set(['builder', 'checkpoint', 'container', 'context', 'image', 'network', 'plugin', 'system', 'volume']);

/** The subcommand a docker call is counted under: "ps", "inspect", "image rm". Pure. */
export function dockerCommand(args: readonly string[]): string {
  const first = args.find((arg) => !arg.startsWith('-'));
  if (!first) return 'unknown';
  const i = args.indexOf(first);
  const second = args[i + 1];
  return MANAGEMENT_COMMANDS.has(first) && second !== undefined && !second.startsWith('-') ? `${first} ${second}` : first;
}

const POD_STATES = ['SANDBOX_READY', 'SANDBOX_NOTREADY'] as const;
const CONTAINER_STATES = ['CONTAINER_CREATED', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_UNKNOWN'] as const;

/** Pods and containers by CRI state, from the store's Docker containers (every state listed, 0 when none). Pure. */
export function countByState(all: readonly DockerContainerInspect[]): { pods: Record<string, number>; containers: Record<string, number> } {
  const pods: Record<string, number> = Object.fromEntries(POD_STATES.map((s) => [s, 0]));
  const containers: Record<string, number> = Object.fromEntries(CONTAINER_STATES.map((s) => [s, 0]));
  for (const inspect of all) {
    const type = inspect.Config.Labels?.[LABEL_TYPE];
    if (type === 'sandbox') pods[inspect.State.Running ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY']!++;
    else if (type === 'container') containers[containerState(inspect.State)]!++;
  }
  return { pods, containers };
}

/** What the operator endpoint's /metrics shows: RPCs, docker calls, HTTP calls, pods and containers. */
export class RuntimeMetrics {
  readonly registry = new MetricsRegistry();
  private readonly rpcs: Counter;
  private readonly rpcSeconds: Histogram;
  private readonly rpcErrors: Counter;
  private readonly dockerCalls: Counter;
  private readonly dockerSeconds: Histogram;
  private readonly httpRequests: Counter;

  constructor(containers: () => readonly DockerContainerInspect[]) {
    const r = this.registry;
    this.rpcs = r.counter('mascri_grpc_requests_total', 'CRI gRPC calls answered, by method and gRPC status code.');
    this.rpcSeconds = r.histogram('mascri_grpc_request_duration_seconds', 'Time to answer a CRI gRPC call (a server stream: until it ended), by method.');
    this.rpcErrors = r.counter('mascri_grpc_errors_total', 'CRI gRPC calls that did not answer OK, by gRPC status code.');
    this.dockerCalls = r.counter('mascri_docker_calls_total', 'docker CLI calls, by subcommand and whether they succeeded.');
    this.dockerSeconds = r.histogram('mascri_docker_call_duration_seconds', 'Time a docker CLI call took, by subcommand.');
    this.httpRequests = r.counter('mascri_http_requests_total', 'Requests to the operator HTTP endpoint, by route and HTTP status.');
    r.gauge('mascri_pods', 'mascri pod sandboxes known now, by CRI state.', () =>
      Object.entries(countByState(containers()).pods).map(([state, value]) => ({ labels: { state }, value })),
    );
    r.gauge('mascri_containers', 'mascri containers known now, by CRI state.', () =>
      Object.entries(countByState(containers()).containers).map(([state, value]) => ({ labels: { state }, value })),
    );
    r.gauge('mascri_process_memory_bytes', "The server process's memory: resident set and V8 heap (used and total).", () => {
      const memory = process.memoryUsage();
      return [
        { labels: { kind: 'rss' }, value: memory.rss },
        { labels: { kind: 'heap_used' }, value: memory.heapUsed },
        { labels: { kind: 'heap_total' }, value: memory.heapTotal },
      ];
    });
  }

  /** Records one finished RPC; `method` is "RuntimeService/Version". */
  observeRpc(method: string, code: number, durationMs: number): void {
    const codeName = grpcCodeName(code);
    this.rpcs.inc({ method, code: codeName });
    this.rpcSeconds.observe({ method }, durationMs / 1000);
    if (code !== 0) this.rpcErrors.inc({ code: codeName });
  }

  /** Records one docker CLI call (hooked to DockerCli.onCall). */
  observeDocker(args: readonly string[], durationMs: number, ok: boolean): void {
    const command = dockerCommand(args);
    this.dockerCalls.inc({ command, ok: String(ok) });
    this.dockerSeconds.observe({ command }, durationMs / 1000);
  }

  observeHttp(route: string, status: number): void {
    this.httpRequests.inc({ route, status: String(status) });
  }

  /** The number of RPCs counted for a method and code (tests). */
  rpcCount(labels: Labels): number {
    return this.rpcs.get(labels);
  }

  render(): string {
    return this.registry.render();
  }
}
