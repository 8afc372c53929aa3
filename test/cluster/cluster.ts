/**
 * A real Kubernetes cluster for the cluster suite: scripts/kube-up.sh starts etcd, the control plane,
 * kube-proxy and one or two kubelets, each with its own `mascri serve --instance`; tests drive it with
 * the release's kubectl, as users do.
 */
import { execa, type ResultPromise } from 'execa';
import { join } from 'node:path';
import { CriClient } from '../../src/cri/client.js';
import { ROOT, waitFor } from '../helpers.js';

const SCRIPTS = join(ROOT, 'scripts');
export const CLUSTER_DIR = '/var/lib/mascri-cluster';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Cluster {
  private clients = new Map<string, CriClient>();

  private constructor(
    readonly kubeconfig: string,
    readonly kubectlPath: string,
    readonly nodeNames: string[],
  ) {}

  /** Starts a cluster of `nodes` nodes (a cluster left by an earlier run is taken down first). */
  static async up(nodes: 1 | 2): Promise<Cluster> {
    await execa('bash', [join(SCRIPTS, 'kube-down.sh'), '--purge'], { reject: false });
    const result = await execa('bash', [join(SCRIPTS, 'kube-up.sh'), '--nodes', String(nodes)], { reject: false, timeout: 45 * 60_000 });
    if (result.exitCode !== 0) throw new Error(`kube-up.sh failed (${result.exitCode}):\n${String(result.stderr).slice(-3000)}`);
    const last = String(result.stdout).trim().split('\n').pop() ?? '';
    const pairs = Object.fromEntries(last.split(' ').map((pair) => pair.split('=', 2) as [string, string]));
    const names = nodes === 1 ? ['mascri-cluster-1'] : ['mascri-cluster-1', 'mascri-cluster-2'];
    return new Cluster(pairs.KUBECONFIG!, pairs.KUBECTL!, names);
  }

  /** Stops everything (kube-down.sh fails when a node leaves containers in Docker). */
  async down(): Promise<void> {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    const result = await execa('bash', [join(SCRIPTS, 'kube-down.sh')], { reject: false, timeout: 10 * 60_000 });
    if (result.exitCode !== 0) throw new Error(`kube-down.sh failed:\n${String(result.stderr).slice(-3000)}`);
  }

  /** Runs kubectl; `input` goes to its stdin. */
  async kubectl(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    const result = await execa(this.kubectlPath, args, { reject: false, input: options.input ?? '', timeout: options.timeoutMs ?? 180_000, env: { KUBECONFIG: this.kubeconfig }, stripFinalNewline: false });
    return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  /** Runs kubectl and fails the test unless it exits 0; answers its stdout. */
  async ok(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const result = await this.kubectl(args, options);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** `kubectl apply -f -` of objects given as JSON. */
  async apply(...objects: Array<Record<string, unknown>>): Promise<void> {
    await this.ok(['apply', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n') });
  }

  async json<T = unknown>(args: string[]): Promise<T> {
    return JSON.parse(await this.ok([...args, '-o', 'json'])) as T;
  }

  /** A kubectl that keeps running (logs -f, port-forward, attach). */
  spawn(args: string[]): ResultPromise {
    return execa(this.kubectlPath, args, { reject: false, env: { KUBECONFIG: this.kubeconfig }, buffer: false, stdin: 'pipe' });
  }

  /** Waits until `kubectl wait` says the condition holds. */
  async waitFor(resource: string, condition: string, timeoutSeconds = 180, namespace = 'default'): Promise<void> {
    await this.ok(['wait', '-n', namespace, `--for=${condition}`, resource, `--timeout=${timeoutSeconds}s`], { timeoutMs: (timeoutSeconds + 30) * 1000 });
  }

  /** A CRI client on one node's mascri. */
  cri(node: string): CriClient {
    let client = this.clients.get(node);
    if (!client) {
      const endpoint = `unix://${CLUSTER_DIR}/nodes/${node}/run/mascri.sock`;
      client = new CriClient(endpoint, endpoint, 30_000);
      this.clients.set(node, client);
    }
    return client;
  }

  /** Pods (name -> node) matching a label selector. */
  async podNodes(selector: string): Promise<Map<string, string>> {
    const list = await this.json<{ items: Array<{ metadata: { name: string }; spec: { nodeName?: string } }> }>(['get', 'pods', '-l', selector]);
    return new Map(list.items.map((pod) => [pod.metadata.name, pod.spec.nodeName ?? '']));
  }

  /** Waits until Docker holds no container of pods whose name starts with `prefix`. */
  async waitForNoDockerContainers(prefix: string, timeoutMs = 180_000): Promise<void> {
    await waitFor(
      `Docker to hold no container of ${prefix}*`,
      async () => {
        const result = await execa('docker', ['ps', '-a', '--format', '{{.Label "io.kubernetes.pod.name"}}'], { reject: false });
        return String(result.stdout).split('\n').some((name) => name.startsWith(prefix)) ? undefined : true;
      },
      timeoutMs,
    );
  }
}

/** A pod spec's container running busybox `script`. */
export function busybox(name: string, script: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, image: 'localhost:5000/busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra };
}

export function httpd(name = 'httpd', tag = 'latest', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, image: `localhost:5000/httpd:${tag}`, imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80 }], readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 1 }, ...extra };
}
