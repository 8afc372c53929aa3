/**
 * A real Kubernetes node for the kubelet suite: scripts/kubelet-up.sh starts `mascri serve` and an
 * upstream kubelet in standalone mode; pods are static pod manifests; every check reads the
 * kubelet's own endpoints (/pods, /stats/summary, /healthz, /containerLogs, /run) and mascri's or
 * Docker's view.
 */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { CriClient } from '../../src/cri/client.js';
import { processAlive, ROOT, waitFor } from '../helpers.js';

export const SCRIPTS = join(ROOT, 'scripts');
/** The kubelet's log of every file of the suite, in the node's logs directory. */
export const SUITE_LOG = 'suite-kubelet.log';

/** The part of a v1.Pod the tests read from the kubelet's /pods. */
export interface KubePod {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  status: {
    phase?: string;
    podIP?: string;
    qosClass?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: KubeContainerStatus[];
  };
}

export interface KubeContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  containerID?: string;
  image?: string;
  imageID?: string;
  state: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: string };
    terminated?: { exitCode: number; reason?: string; message?: string };
  };
  lastState?: { terminated?: { exitCode: number; reason?: string } };
}

export interface NodeOptions {
  /** Extra environment for kubelet-up.sh (see its header: log rotation, stats from CRI, ...). */
  env?: Record<string, string>;
}

/** One node (mascri + kubelet) started by kubelet-up.sh. */
export class KubeletNode {
  readonly name: string;
  readonly dir: string;
  readonly manifests: string;
  readonly criEndpoint: string;
  readonly url: string;
  readonly readonlyUrl: string;
  readonly healthzUrl: string;
  private criClient: CriClient | undefined;

  private constructor(
    private readonly env: Record<string, string>,
    summary: Record<string, string>,
  ) {
    this.name = env.MASCRI_NODE_NAME ?? 'mascri-node';
    this.dir = summary.KUBELET_DIR!;
    this.manifests = join(this.dir, 'manifests');
    this.criEndpoint = summary.MASCRI_ENDPOINT!;
    this.url = summary.KUBELET_URL!;
    this.readonlyUrl = summary.KUBELET_READONLY_URL!;
    this.healthzUrl = `http://127.0.0.1:${env.KUBELET_HEALTHZ_PORT ?? '10248'}/healthz`;
  }

  /** Starts the node; a node left running by an earlier run is taken down first. */
  static async up(options: NodeOptions = {}): Promise<KubeletNode> {
    const env = { ...options.env };
    await runScript('kubelet-down.sh', env);
    // Each file reads its own node's logs; the suite keeps them all in suite-kubelet.log (see down()).
    const logs = join(env.MASCRI_KUBELET_DIR ?? '/var/lib/mascri-kubelet', 'logs');
    for (const name of ['kubelet.log', 'mascri.log']) rmSync(join(logs, name), { force: true });
    const summary = await runScript('kubelet-up.sh', env);
    return new KubeletNode(env, summary);
  }

  /**
   * Stops the node (kubelet-down.sh); fails when Docker still holds a container of it, or when mascri
   * answered a container log path that is not the absolute one under the node's pod log directory
   * (the kubelet deletes "<log path>*" when it removes a container).
   */
  async down(): Promise<void> {
    const wrongLogPaths = await this.containersWithWrongLogPaths().catch((error: Error) => [`cannot list containers: ${error.message}`]);
    this.criClient?.close();
    this.criClient = undefined;
    try {
      await runScript('kubelet-down.sh', this.env);
    } finally {
      // The suite counts the kubelet's CRI errors over every file (scripts/kubelet-log-errors.mjs).
      appendFileSync(join(this.dir, 'logs', SUITE_LOG), this.kubeletLog());
    }
    assert.deepEqual(wrongLogPaths, [], 'every container has its absolute log path under the pod log directory');
  }

  private async containersWithWrongLogPaths(): Promise<string[]> {
    const podLogs = `${join(this.dir, 'pod-logs')}/`;
    const { containers } = await this.cri.callRuntime('ListContainers', {});
    const wrong: string[] = [];
    for (const container of containers) {
      const status = await this.cri.callRuntime('ContainerStatus', { containerId: container.id }).catch(() => undefined);
      const logPath = status?.status?.logPath;
      if (status && !(logPath?.startsWith(podLogs) && logPath.endsWith('.log'))) wrong.push(`${container.metadata?.name} (${container.id.slice(0, 12)}): "${logPath}"`);
    }
    return wrong;
  }

  /** A CRI client on this node's mascri: mascri's view of the node. */
  get cri(): CriClient {
    this.criClient ??= new CriClient(this.criEndpoint, this.criEndpoint, 30_000);
    return this.criClient;
  }

  get kubeletLogPath(): string {
    return join(this.dir, 'logs', 'kubelet.log');
  }

  get mascriLogPath(): string {
    return join(this.dir, 'logs', 'mascri.log');
  }

  kubeletLog(): string {
    return existsSync(this.kubeletLogPath) ? readFileSync(this.kubeletLogPath, 'utf8') : '';
  }

  mascriLog(): string {
    return existsSync(this.mascriLogPath) ? readFileSync(this.mascriLogPath, 'utf8') : '';
  }

  /** Writes a static pod manifest (atomically: the kubelet ignores dot files). */
  applyPod(pod: Record<string, unknown> & { metadata: { name: string } }): void {
    const file = join(this.manifests, `${pod.metadata.name}.json`);
    const tmp = join(this.manifests, `.${pod.metadata.name}.json.tmp`);
    writeFileSync(tmp, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...pod }));
    renameSync(tmp, file);
  }

  /** Removes a static pod manifest: the kubelet then stops and removes the pod. */
  deletePod(name: string): void {
    rmSync(join(this.manifests, `${name}.json`), { force: true });
  }

  /** The name the kubelet gives a static pod (the manifest's name, a dash, the node name). */
  podName(manifestName: string): string {
    return `${manifestName}-${this.name}`;
  }

  /** The kubelet's /pods (read-only port). */
  async pods(): Promise<KubePod[]> {
    const answer = (await this.getJson(`${this.readonlyUrl}/pods`)) as { items?: KubePod[] };
    return answer.items ?? [];
  }

  /** The kubelet's view of one static pod, or undefined when it has none. */
  async pod(manifestName: string): Promise<KubePod | undefined> {
    return (await this.pods()).find((pod) => pod.metadata.name === this.podName(manifestName));
  }

  /** Waits until the kubelet reports the static pod and `check` accepts it. */
  async waitForPod(manifestName: string, what: string, check: (pod: KubePod) => boolean, timeoutMs = 120_000): Promise<KubePod> {
    let last: KubePod | undefined;
    try {
      return await waitFor(
        `${manifestName}: ${what}`,
        async () => {
          last = await this.pod(manifestName);
          return last && check(last) ? last : undefined;
        },
        timeoutMs,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; the kubelet's last view: ${JSON.stringify(last?.status ?? null)}`);
    }
  }

  /** Waits until every container of the pod is running and ready. */
  waitForRunning(manifestName: string, timeoutMs = 120_000): Promise<KubePod> {
    return this.waitForPod(
      manifestName,
      'Running with every container ready',
      (pod) => pod.status.phase === 'Running' && (pod.status.containerStatuses ?? []).length > 0 && (pod.status.containerStatuses ?? []).every((c) => c.ready && c.state.running),
      timeoutMs,
    );
  }

  /** GET a kubelet path on the read-only port, as JSON. */
  async readonly(path: string): Promise<unknown> {
    return this.getJson(`${this.readonlyUrl}${path}`);
  }

  /** The kubelet's /stats/summary. */
  async statsSummary(): Promise<StatsSummary> {
    return (await this.readonly('/stats/summary')) as StatsSummary;
  }

  /** A request to the kubelet's authenticated port (anonymous, AlwaysAllow), answering status and body. */
  secure(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = httpsRequest(`${this.url}${path}`, { method, rejectUnauthorized: false, timeout: 60_000 }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('timeout', () => request.destroy(new Error(`GET ${path} timed out`)));
      request.on('error', reject);
      request.end();
    });
  }

  /** The kubelet's /containerLogs for a static pod's container. */
  async containerLogs(manifestName: string, container: string, query = ''): Promise<string> {
    const pod = await this.pod(manifestName);
    const answer = await this.secure(`/containerLogs/${pod?.metadata.namespace ?? 'default'}/${this.podName(manifestName)}/${container}${query ? `?${query}` : ''}`);
    if (answer.status !== 200) throw new Error(`containerLogs answered ${answer.status}: ${answer.body}`);
    return answer.body;
  }

  /** Runs a command in a container through the kubelet's /run endpoint (ExecSync underneath). */
  async run(manifestName: string, container: string, cmd: string): Promise<{ status: number; body: string }> {
    const pod = await this.pod(manifestName);
    return this.secure(`/run/${pod?.metadata.namespace ?? 'default'}/${this.podName(manifestName)}/${container}?cmd=${encodeURIComponent(cmd)}`, 'POST');
  }

  async healthy(): Promise<boolean> {
    try {
      const response = await fetch(this.healthzUrl, { signal: AbortSignal.timeout(2000) });
      return response.ok && (await response.text()) === 'ok';
    } catch {
      return false;
    }
  }

  /** Kills the kubelet (SIGTERM) and starts it again with the same configuration; waits until healthy. */
  async restartKubelet(): Promise<void> {
    await this.stopProcess('kubelet.pid');
    await runScript('kubelet-up.sh', this.env);
  }

  /** Kills `mascri serve` (SIGTERM) under the running kubelet and starts it again. */
  async restartMascri(): Promise<void> {
    this.criClient?.close();
    this.criClient = undefined;
    await this.stopProcess('mascri.pid');
    await runScript('kubelet-up.sh', this.env);
  }

  private async stopProcess(pidFile: string): Promise<void> {
    const path = join(this.dir, 'run', pidFile);
    const pid = Number(readFileSync(path, 'utf8').trim());
    process.kill(pid, 'SIGTERM');
    await waitFor(`${pidFile} to exit`, async () => (processAlive(pid) ? undefined : true), 30_000);
  }

  private async getJson(url: string): Promise<unknown> {
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  }
}

/** Runs a node script; answers the KEY=VALUE pairs of its last line. */
async function runScript(script: string, env: Record<string, string>): Promise<Record<string, string>> {
  const result = await execa('bash', [join(SCRIPTS, script)], { env: { ...process.env, ...env }, reject: false, timeout: 45 * 60_000 });
  if (result.exitCode !== 0) throw new Error(`${script} failed (${result.exitCode}):\n${String(result.stderr).slice(-3000)}\n${String(result.stdout).slice(-1000)}`);
  const last = String(result.stdout).trim().split('\n').pop() ?? '';
  return Object.fromEntries(last.split(' ').map((pair) => pair.split('=', 2) as [string, string]).filter((pair) => pair.length === 2));
}

/** The part of the kubelet's stats summary the tests read. */
export interface StatsSummary {
  node: { nodeName: string; cpu?: CpuStats; memory?: MemoryStats; fs?: FsStats };
  pods: Array<{
    podRef: { name: string; namespace: string; uid: string };
    cpu?: CpuStats;
    memory?: MemoryStats;
    containers?: Array<{ name: string; cpu?: CpuStats; memory?: MemoryStats; rootfs?: FsStats; logs?: FsStats }>;
    'ephemeral-storage'?: FsStats;
  }>;
}
export interface CpuStats { usageNanoCores?: number; usageCoreNanoSeconds?: number }
export interface MemoryStats { workingSetBytes?: number; usageBytes?: number; rssBytes?: number }
export interface FsStats { usedBytes?: number; capacityBytes?: number; inodesUsed?: number }

/** A container spec for busybox running `script`. */
export function busybox(name: string, script: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, image: 'localhost:5000/busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra };
}

/** A static pod manifest with a short grace period unless `spec` says otherwise. */
export function staticPod(name: string, containers: Array<Record<string, unknown>>, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Record<string, unknown> & { metadata: { name: string } } {
  return { metadata: { ...metadata, name, namespace: 'default' } as { name: string }, spec: { terminationGracePeriodSeconds: 5, containers, ...spec } };
}

/** Waits until Docker holds no container of the static pod (by its pod name label). */
export async function waitForNoDockerContainers(podName: string, timeoutMs = 180_000): Promise<void> {
  await waitFor(
    `Docker to hold no container of ${podName}`,
    async () => {
      const result = await execa('docker', ['ps', '-aq', '--filter', `label=io.kubernetes.pod.name=${podName}`], { reject: false });
      return String(result.stdout).trim() === '' ? true : undefined;
    },
    timeoutMs,
  );
}
