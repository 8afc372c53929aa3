import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { grpcCodeName } from '../../common/errors.js';
import { mascriVersion } from '../../common/version.js';
import { containerState } from '../../docker/convert.js';
import { LABEL_TYPE } from '../../docker/labels.js';
import type { DockerContainerInspect } from '../../docker/types.js';

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

/** Latency buckets in seconds: from a store read (sub-millisecond) to an image pull (a minute). */
export const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** What the server is, shown as the labels of mascri_build_info. */
export interface BuildInfo {
  /** The --instance served; '' for the default instance. */
  instance: string;
  /** The docker CLI mascri runs (--docker). */
  dockerCli: string;
}

let processRegistry: Registry | undefined;

/**
 * prom-client's process metrics (process_cpu_seconds_total, process_resident_memory_bytes,
 * process_open_fds, nodejs_eventloop_lag_seconds, nodejs_gc_duration_seconds, ...), under the names
 * every Prometheus client library gives them, as containerd and cri-dockerd show Go's. Made once per
 * process: they describe the process, not a server, and their event-loop and GC monitors cannot be stopped.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** What the operator endpoint's /metrics shows: RPCs, docker calls, HTTP calls, pods and containers, the process. */
export class RuntimeMetrics {
  /** This server's metrics (a registry of its own, not prom-client's global one), and the process's once wanted. */
  private registry: Registry;
  private readonly own: Registry;
  private readonly rpcs: Counter<'method' | 'code'>;
  private readonly rpcSeconds: Histogram<'method'>;
  private readonly rpcErrors: Counter<'code'>;
  private readonly dockerCalls: Counter<'command' | 'ok'>;
  private readonly dockerSeconds: Histogram<'command'>;
  private readonly httpRequests: Counter<'route' | 'status'>;

  constructor(containers: () => readonly DockerContainerInspect[], build: BuildInfo) {
    const own = new Registry();
    const registers = [own];
    this.rpcs = new Counter({
      name: 'mascri_grpc_requests_total',
      help: 'CRI gRPC calls answered, by method and gRPC status code.',
      labelNames: ['method', 'code'],
      registers,
    });
    this.rpcSeconds = new Histogram({
      name: 'mascri_grpc_request_duration_seconds',
      help: 'Time to answer a CRI gRPC call (a server stream: until it ended), by method.',
      labelNames: ['method'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.rpcErrors = new Counter({ name: 'mascri_grpc_errors_total', help: 'CRI gRPC calls that did not answer OK, by gRPC status code.', labelNames: ['code'], registers });
    this.dockerCalls = new Counter({
      name: 'mascri_docker_calls_total',
      help: 'docker CLI calls, by subcommand and whether they succeeded.',
      labelNames: ['command', 'ok'],
      registers,
    });
    this.dockerSeconds = new Histogram({
      name: 'mascri_docker_call_duration_seconds',
      help: 'Time a docker CLI call took, by subcommand.',
      labelNames: ['command'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.httpRequests = new Counter({
      name: 'mascri_http_requests_total',
      help: 'Requests to the operator HTTP endpoint, by route and HTTP status.',
      labelNames: ['route', 'status'],
      registers,
    });
    // Gauges read at scrape time.
    new Gauge({
      name: 'mascri_pods',
      help: 'mascri pod sandboxes known now, by CRI state.',
      labelNames: ['state'],
      registers,
      collect() {
        for (const [state, value] of Object.entries(countByState(containers()).pods)) this.set({ state }, value);
      },
    });
    new Gauge({
      name: 'mascri_containers',
      help: 'mascri containers known now, by CRI state.',
      labelNames: ['state'],
      registers,
      collect() {
        for (const [state, value] of Object.entries(countByState(containers()).containers)) this.set({ state }, value);
      },
    });
    new Gauge({
      name: 'mascri_process_memory_bytes',
      help: "The server process's memory: resident set and V8 heap (used and total).",
      labelNames: ['kind'],
      registers,
      collect() {
        const memory = process.memoryUsage();
        this.set({ kind: 'rss' }, memory.rss);
        this.set({ kind: 'heap_used' }, memory.heapUsed);
        this.set({ kind: 'heap_total' }, memory.heapTotal);
      },
    });
    // Not `instance`: Prometheus gives every series that label from the scrape target.
    new Gauge({
      name: 'mascri_build_info',
      help: "mascri's version, the --instance it serves ('' for the default one) and the docker CLI it runs; always 1.",
      labelNames: ['version', 'instance_name', 'docker_cli'],
      registers,
    }).set({ version: mascriVersion(), instance_name: build.instance, docker_cli: build.dockerCli }, 1);
    this.own = own;
    this.registry = own;
  }

  /**
   * Adds prom-client's process metrics: when the operator endpoint serves /metrics. They are not
   * started otherwise, for their event-loop monitor and GC observer cost time and memory all along.
   */
  withProcessMetrics(): this {
    this.registry = Registry.merge([this.own, processMetrics()]);
    return this;
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

  /** The Content-Type of what render() gives: the Prometheus text format, version 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format, the gauges collected now. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
