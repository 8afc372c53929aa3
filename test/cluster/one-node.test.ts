/** A one-node Kubernetes cluster whose runtime is mascri, driven with kubectl. */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mascriVersion } from '../../src/common/version.js';

const VERSION = mascriVersion();
import { docker, processAlive, ROOT, waitFor } from '../helpers.js';
import { busybox, Cluster, httpd } from './cluster.js';

let cluster: Cluster;
const work = mkdtempSync(join(tmpdir(), 'mascri-cluster-test-'));

before(async () => {
  cluster = await Cluster.up(1);
});

after(async () => {
  rmSync(work, { recursive: true, force: true });
  await cluster?.down();
  await docker(['rmi', 'localhost:5000/httpd:v2']);
});

/** Reads a spawned kubectl's stdout until `pattern` matches; answers the match. */
async function readUntil(child: ReturnType<Cluster['spawn']>, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in kubectl's output within ${timeoutMs} ms: ${text}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
  });
}

test('the node is Ready and kubectl shows mascri, with its version, as its container runtime', async () => {
  const wide = await cluster.ok(['get', 'node', 'mascri-cluster-1', '-o', 'wide']);
  const [header, row] = wide.trim().split('\n');
  const columns = header!.split(/\s{2,}/);
  const values = row!.split(/\s{2,}/);
  assert.equal(values[columns.indexOf('STATUS')], 'Ready');
  assert.equal(values[columns.indexOf('CONTAINER-RUNTIME')], `mascri://${VERSION}`);
  const version = await cluster.cri('mascri-cluster-1').callRuntime('Version', {});
  assert.equal(`${version.runtimeName}://${version.runtimeVersion}`, `mascri://${VERSION}`);
});

describe('a pod made with kubectl run', () => {
  before(async () => {
    await cluster.ok(['run', 'box', '--image=localhost:5000/busybox:latest', '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.5; done']);
    await cluster.ok(['run', 'web', '--image=localhost:5000/httpd:latest', '--image-pull-policy=IfNotPresent', '--restart=Never', '--port=80']);
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'echo' },
      spec: { containers: [busybox('echo', 'while read line; do echo "got $line"; done', { stdin: true })] },
    });
    for (const pod of ['box', 'web', 'echo']) await cluster.waitFor(`pod/${pod}`, 'condition=Ready');
  });

  test('kubectl logs and logs -f', async () => {
    await waitFor('two ticks', async () => ((await cluster.ok(['logs', 'box'])).includes('tick 2\n') ? true : undefined), 60_000);
    const logs = await cluster.ok(['logs', 'box']);
    assert.match(logs, /^tick 1\ntick 2\n/);
    const follow = cluster.spawn(['logs', '-f', 'box', '--tail=1']);
    try {
      const first = Number((await readUntil(follow, /tick (\d+)\n/))[1]);
      await readUntil(follow, new RegExp(`tick ${first + 2}\\n`));
    } finally {
      follow.kill();
    }
  });

  test('kubectl exec, with and without -it', async () => {
    assert.equal(await cluster.ok(['exec', 'box', '--', 'sh', '-c', 'echo "$((6 * 7))"']), '42\n');
    assert.equal(await cluster.ok(['exec', '-i', 'box', '--', 'sh', '-c', 'cat; echo done'], { input: 'from stdin\n' }), 'from stdin\ndone\n');
    const failed = await cluster.kubectl(['exec', 'box', '--', 'sh', '-c', 'exit 3']);
    assert.equal(failed.code, 3, 'the exit code of the command');
    // -it needs a terminal: `script` gives kubectl one.
    const tty = await execa('script', ['-qec', `KUBECONFIG=${cluster.kubeconfig} ${cluster.kubectlPath} exec -it box -- sh -c 'tty; stty size'`, '/dev/null'], { reject: false, timeout: 60_000, input: '' });
    assert.equal(tty.exitCode, 0, String(tty.stdout));
    assert.match(String(tty.stdout), /\/dev\/pts\/\d+/);
  });

  test('kubectl attach', async () => {
    const attach = cluster.spawn(['attach', '-i', 'echo']);
    try {
      const seen = readUntil(attach, /got hello/);
      // kubectl may need a moment to connect: repeat the line until the echo comes back.
      const timer = setInterval(() => attach.stdin!.write('hello\n'), 500);
      try {
        await seen;
      } finally {
        clearInterval(timer);
      }
    } finally {
      attach.kill();
    }
  });

  test('kubectl port-forward to the httpd', async () => {
    const forward = cluster.spawn(['port-forward', 'pod/web', ':80']);
    try {
      const port = Number((await readUntil(forward, /Forwarding from 127\.0\.0\.1:(\d+) -> 80/))[1]);
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) });
        assert.equal(response.status, 200);
        assert.match(await response.text(), /hello from mascri httpd/);
      }
    } finally {
      forward.kill();
    }
  });

  test('kubectl cp both ways', async () => {
    const local = join(work, 'to-pod.txt');
    writeFileSync(local, 'a file from the host\n'.repeat(100));
    await cluster.ok(['cp', local, 'box:/tmp/from-host.txt']);
    assert.equal(await cluster.ok(['exec', 'box', '--', 'cat', '/tmp/from-host.txt']), readFileSync(local, 'utf8'));
    await cluster.ok(['exec', 'box', '--', 'sh', '-c', 'echo "made in the pod" > /tmp/from-pod.txt']);
    const back = join(work, 'from-pod.txt');
    await cluster.ok(['cp', 'box:/tmp/from-pod.txt', back]);
    assert.equal(readFileSync(back, 'utf8'), 'made in the pod\n');
  });

  test('kubectl get --raw .../proxy/stats/summary has every pod', async () => {
    const summary = await waitFor(
      'every pod in the summary',
      async () => {
        const s = JSON.parse(await cluster.ok(['get', '--raw', '/api/v1/nodes/mascri-cluster-1/proxy/stats/summary'])) as { pods: Array<{ podRef: { name: string }; containers?: Array<{ memory?: { workingSetBytes?: number } }> }> };
        const names = s.pods.map((p) => p.podRef.name);
        return ['box', 'web', 'echo'].every((name) => names.includes(name)) ? s : undefined;
      },
      60_000,
    );
    for (const pod of summary.pods.filter((p) => ['box', 'web', 'echo'].includes(p.podRef.name))) {
      assert.ok((pod.containers?.[0]?.memory?.workingSetBytes ?? 0) > 0, `${pod.podRef.name} has memory stats`);
    }
  });

  test('a pod deleted with a grace period gets it, and its containers leave Docker', async () => {
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'graceful' },
      spec: { terminationGracePeriodSeconds: 30, containers: [busybox('main', "trap 'echo got TERM; sleep 2; echo bye; exit 0' TERM; while true; do sleep 0.2; done")] },
    });
    await cluster.waitFor('pod/graceful', 'condition=Ready');
    const started = Date.now();
    await cluster.ok(['delete', 'pod', 'graceful', '--grace-period=10', '--wait=true']);
    const took = Date.now() - started;
    assert.ok(took >= 2000 && took < 10_000 + 15_000, `deleted after ${took} ms (the container needs 2 s after TERM)`);
    await cluster.waitForNoDockerContainers('graceful');
  });
});

describe('workloads', () => {
  test('a Deployment of 3 httpd replicas scaled to 6, then rolled to another tag with maxUnavailable 0', async () => {
    // The second tag: the same image under another name in the local registry.
    for (const args of [['tag', 'localhost:5000/httpd:latest', 'localhost:5000/httpd:v2'], ['push', '-q', 'localhost:5000/httpd:v2']]) {
      const result = await docker(args);
      assert.equal(result.code, 0, result.stderr);
    }
    const deployment = (tag: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web-deploy' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web-deploy' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 2 } },
        template: { metadata: { labels: { app: 'web-deploy' } }, spec: { terminationGracePeriodSeconds: 2, containers: [httpd('httpd', tag)] } },
      },
    });
    await cluster.apply(deployment('latest'));
    await cluster.ok(['rollout', 'status', 'deployment/web-deploy', '--timeout=180s'], { timeoutMs: 200_000 });
    await cluster.ok(['scale', 'deployment/web-deploy', '--replicas=6']);
    await cluster.ok(['rollout', 'status', 'deployment/web-deploy', '--timeout=180s'], { timeoutMs: 200_000 });
    const before = await cluster.podNodes('app=web-deploy');
    assert.equal(before.size, 6);
    await cluster.ok(['set', 'image', 'deployment/web-deploy', 'httpd=localhost:5000/httpd:v2']);
    await cluster.ok(['rollout', 'status', 'deployment/web-deploy', '--timeout=300s'], { timeoutMs: 320_000 });
    const pods = await cluster.json<{ items: Array<{ metadata: { name: string; deletionTimestamp?: string }; spec: { containers: Array<{ image: string }> }; status: { conditions?: Array<{ type: string; status: string }> } }> }>(['get', 'pods', '-l', 'app=web-deploy']);
    const live = pods.items.filter((p) => !p.metadata.deletionTimestamp);
    assert.equal(live.length, 6);
    for (const pod of live) {
      assert.equal(pod.spec.containers[0]!.image, 'localhost:5000/httpd:v2');
      assert.ok(pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${pod.metadata.name} Ready`);
      assert.ok(!before.has(pod.metadata.name), 'a new pod');
    }
    // The old pods are gone from Docker too.
    await waitFor(
      'the old pods to leave Docker',
      async () => {
        const result = await docker(['ps', '-a', '--format', '{{.Label "io.kubernetes.pod.name"}}']);
        const names = new Set(result.stdout.split('\n'));
        return [...before.keys()].some((name) => names.has(name)) ? undefined : true;
      },
      180_000,
    );
    await cluster.ok(['delete', 'deployment', 'web-deploy', '--wait=true']);
    await cluster.waitForNoDockerContainers('web-deploy-');
  });

  test('a Job that completes and one that fails past its backoffLimit; both logs readable', async () => {
    const job = (name: string, script: string, backoffLimit: number) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: { backoffLimit, template: { spec: { restartPolicy: 'Never', containers: [busybox('main', script)] } } },
    });
    await cluster.apply(job('job-ok', 'echo computing; echo result 42', 2), job('job-fail', 'echo trying; exit 1', 1));
    await cluster.waitFor('job/job-ok', 'condition=Complete');
    assert.equal(await cluster.ok(['logs', 'job/job-ok']), 'computing\nresult 42\n');
    await cluster.waitFor('job/job-fail', 'condition=Failed');
    const failed = await cluster.json<{ status: { failed?: number } }>(['get', 'job', 'job-fail']);
    assert.equal(failed.status.failed, 2, 'the first try and one retry (backoffLimit 1)');
    assert.equal(await cluster.ok(['logs', 'job/job-fail']), 'trying\n');
    await cluster.ok(['delete', 'job', 'job-ok', 'job-fail', '--wait=true']);
  });

  test('a DaemonSet runs one pod on the node', async () => {
    await cluster.apply({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'node-agent' },
      spec: { selector: { matchLabels: { app: 'node-agent' } }, template: { metadata: { labels: { app: 'node-agent' } }, spec: { terminationGracePeriodSeconds: 1, containers: [busybox('agent', 'exec sleep 3600')] } } },
    });
    await cluster.ok(['rollout', 'status', 'daemonset/node-agent', '--timeout=120s'], { timeoutMs: 150_000 });
    const pods = await cluster.podNodes('app=node-agent');
    assert.deepEqual([...pods.values()], ['mascri-cluster-1']);
    await cluster.ok(['delete', 'daemonset', 'node-agent', '--wait=true']);
  });
});

test('ConfigMap, Secret, emptyDir and projected service-account-token volumes are mounted and readable', async () => {
  await cluster.ok(['create', 'configmap', 'settings', '--from-literal=color=blue']);
  await cluster.ok(['create', 'secret', 'generic', 'creds', '--from-literal=password=s3cr3t']);
  await cluster.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'volumes' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        busybox('main', 'echo shared > /scratch/note; exec sleep 3600', {
          volumeMounts: [
            { name: 'config', mountPath: '/etc/settings' },
            { name: 'secret', mountPath: '/etc/creds', readOnly: true },
            { name: 'scratch', mountPath: '/scratch' },
            { name: 'token', mountPath: '/var/run/token' },
          ],
        }),
        busybox('reader', 'exec sleep 3600', { volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }),
      ],
      volumes: [
        { name: 'config', configMap: { name: 'settings' } },
        { name: 'secret', secret: { secretName: 'creds' } },
        { name: 'scratch', emptyDir: {} },
        { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'mascri-test', expirationSeconds: 3600 } }] } },
      ],
    },
  });
  await cluster.waitFor('pod/volumes', 'condition=Ready');
  assert.equal(await cluster.ok(['exec', 'volumes', '-c', 'main', '--', 'cat', '/etc/settings/color']), 'blue');
  assert.equal(await cluster.ok(['exec', 'volumes', '-c', 'main', '--', 'cat', '/etc/creds/password']), 's3cr3t');
  assert.equal(await cluster.ok(['exec', 'volumes', '-c', 'reader', '--', 'cat', '/scratch/note']), 'shared\n');
  const token = await cluster.ok(['exec', 'volumes', '-c', 'main', '--', 'cat', '/var/run/token/token']);
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { aud: string[]; sub: string };
  assert.deepEqual(claims.aud, ['mascri-test']);
  assert.equal(claims.sub, 'system:serviceaccount:default:default');
  // The default service account's own token is there too (the kube-api-access volume).
  assert.match(await cluster.ok(['exec', 'volumes', '-c', 'main', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/namespace']), /^default$/);
  await cluster.ok(['delete', 'pod', 'volumes', '--wait=true']);
});

test('restarting mascri and restarting the kubelet keep the pods Running with no container restarted', async () => {
  const restarts = async () => {
    const pods = await cluster.json<{ items: Array<{ metadata: { name: string }; status: { phase: string; containerStatuses?: Array<{ restartCount: number; containerID?: string }> } }> }>(['get', 'pods']);
    return pods.items.filter((p) => ['box', 'web', 'echo'].includes(p.metadata.name)).map((p) => `${p.metadata.name}:${p.status.phase}:${p.status.containerStatuses?.map((c) => `${c.restartCount}/${c.containerID}`).join(',')}`).sort();
  };
  const before = await restarts();
  assert.equal(before.length, 3);
  assert.ok(before.every((line) => line.includes(':Running:0/')), before.join('\n'));
  const node = join('/var/lib/mascri-cluster/nodes/mascri-cluster-1/run');
  for (const component of ['mascri', 'kubelet']) {
    const pid = Number(readFileSync(join(node, `${component}.pid`), 'utf8'));
    process.kill(pid, 'SIGTERM');
    await waitFor(`${component} to stop`, async () => (processAlive(pid) ? undefined : true), 30_000);
    const up = await execa('bash', [join(ROOT, 'scripts', 'kube-up.sh'), '--nodes', '1'], { reject: false, timeout: 600_000 });
    assert.equal(up.exitCode, 0, String(up.stderr));
    await cluster.waitFor('node/mascri-cluster-1', 'condition=Ready');
    // Let the node sync its pods for a few seconds (the ticker goes on meanwhile), then compare.
    // Right after a restart the kubelet may not serve the log for a moment (its runtime was away).
    const tick = async () => {
      const answer = await cluster.kubectl(['logs', 'box', '--tail=1']);
      const count = /tick (\d+)/.exec(answer.stdout)?.[1];
      return answer.code === 0 && count ? Number(count) : undefined;
    };
    const now = await waitFor('the log of box again', tick, 60_000);
    await waitFor('ten more ticks', async () => ((await tick()) ?? 0) >= now + 10 ? true : undefined, 60_000);
    assert.deepEqual(await restarts(), before, `after restarting ${component}`);
  }
});
