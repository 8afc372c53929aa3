// mascri's soak benchmark (not a timed test): run after `bash scripts/setup.sh`.
//   npm run soak                       30 minutes
//   SOAK_SECONDS=120 npm run soak      shorter
//   SOAK_SAMPLE_SECONDS=60             also print the server's figures every 60 s (memory over time)
//   SOAK_HEAP_SNAPSHOTS=1              write V8 heap snapshots of the server at the start and the end
//                                      (bench-results/soak-{start,end}.heapsnapshot; open in Chrome DevTools)
//   SOAK_RESTART_DOCKER=0              do not restart the Docker daemon (when other work uses it)
// Four concurrent clients churn pods and containers against one `mascri serve` (run a pod, create and
// start a container, ExecSync, read its log, port-forward to it once in a while, stop and remove),
// and the Docker daemon is restarted once in the middle. Prints, at the start (after a warm-up) and at
// the end (after a settle time): the server's RSS, V8 heap, open fds and child processes, and the
// Docker objects of the run; writes bench-results/soak.json. Removes everything it made.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient } from '../dist/src/cri/client.js';
import { startPortForward } from '../dist/src/cli/streaming-client/port-forward.js';

const ROOT = new URL('..', import.meta.url).pathname;
const SECONDS = Number(process.env.SOAK_SECONDS ?? 1800);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 0);
const HEAP_SNAPSHOTS = process.env.SOAK_HEAP_SNAPSHOTS === '1';
const RESTART_DOCKER = process.env.SOAK_RESTART_DOCKER !== '0';
const CLIENTS = 4;
const PAUSE = 'localhost:5000/pause:3.10';
const HTTPD = 'localhost:5000/httpd:latest';
const RUN = `soak-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'mascri-soak-'));
const endpoint = `unix://${join(dir, 'mascri.sock')}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function docker(args) {
  return execFileSync('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
}
function dockerObjects() {
  const out = docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.namespace=${RUN}`]);
  return out ? out.split('\n').length : 0;
}
function children(pid) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}
async function sample(server, http) {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
  const metrics = await fetch(`http://${http}/metrics`).then((r) => r.text()).catch(() => '');
  const heap = Number(/^mascri_process_memory_bytes\{kind="heap_used"\} (\S+)/m.exec(metrics)?.[1] ?? NaN) / 2 ** 20;
  return { rssMiB: Math.round(rss * 10) / 10, heapUsedMiB: Number.isFinite(heap) ? Math.round(heap * 10) / 10 : null, fds: readdirSync(`/proc/${server.pid}/fd`).length, children: children(server.pid).length, dockerObjects: dockerObjects() };
}

async function waitUntil(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function startServer(http) {
  // Run as a user runs it (bin/mascri's own node flags apply). With SOAK_HEAP_SNAPSHOTS, the server
  // writes a heap snapshot into its working directory on SIGUSR2.
  const env = HEAP_SNAPSHOTS ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2`.trim() } : process.env;
  const server = spawn(join(ROOT, 'bin/mascri'), ['serve', '--listen', endpoint, '--pod-infra-image', PAUSE, '--state-dir', join(dir, 'state'), '--http', http], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, env });
  let log = '';
  server.stderr.on('data', (chunk) => (log = (log + chunk).slice(-4000)));
  server.logTail = () => log;
  return server;
}

/** Has the server write a heap snapshot (SIGUSR2) and moves it to bench-results/soak-<name>.heapsnapshot. */
async function heapSnapshot(server, name) {
  const before = new Set(readdirSync(dir));
  server.kill('SIGUSR2');
  let file;
  await waitUntil(`the ${name} heap snapshot`, async () => {
    file = readdirSync(dir).find((entry) => entry.endsWith('.heapsnapshot') && !before.has(entry));
    if (!file) return false;
    const size = statSync(join(dir, file)).size;
    await sleep(500);
    return size > 0 && statSync(join(dir, file)).size === size;
  }, 120_000);
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  renameSync(join(dir, file), join(ROOT, 'bench-results', `soak-${name}.heapsnapshot`));
  console.log(`heap snapshot: bench-results/soak-${name}.heapsnapshot`);
}

/** Stops dockerd and starts it again the way scripts/setup.sh does; waits until it answers. */
async function restartDocker() {
  const pid = Number(execFileSync('pidof', ['dockerd']).toString().trim().split(' ')[0]);
  process.kill(pid, 'SIGTERM');
  await waitUntil('dockerd to stop', async () => { try { process.kill(pid, 0); return false; } catch { return true; } }, 60_000);
  spawn('/usr/sbin/dockerd', ['--containerd=/run/containerd/containerd.sock'], { detached: true, stdio: ['ignore', 'ignore', 'ignore'] }).unref();
  await waitUntil('dockerd to answer', async () => { docker(['version', '--format', '{{.Server.Version}}']); return true; }, 60_000);
}

async function churn(client, n, deadline, counts) {
  let round = 0;
  while (Date.now() < deadline) {
    round++;
    const uid = `${RUN}-${n}-${round}`;
    const logDirectory = join(dir, 'logs', uid);
    let podId = '';
    try {
      ({ podSandboxId: podId } = await client.callRuntime('RunPodSandbox', { config: { metadata: { name: `p${n}`, namespace: RUN, uid, attempt: 0 }, logDirectory, labels: { soak: RUN } } }));
      const sandboxConfig = { metadata: { name: `p${n}`, namespace: RUN, uid, attempt: 0 }, logDirectory };
      const { containerId } = await client.callRuntime('CreateContainer', { podSandboxId: podId, config: { metadata: { name: 'web', attempt: 0 }, image: { image: HTTPD }, command: ['sh', '-c', 'echo to-log; exec /bin/httpd -f -p 80 -h /www'], logPath: 'web/0.log' }, sandboxConfig });
      await client.callRuntime('StartContainer', { containerId });
      const exec = await client.callRuntime('ExecSync', { containerId, cmd: ['sh', '-c', 'echo soak'], timeout: 10 });
      if (exec.exitCode !== 0) throw new Error(`exec exited ${exec.exitCode}`);
      const { status } = await client.callRuntime('ContainerStatus', { containerId });
      await waitUntil('the log line', async () => existsSync(status.logPath) && readFileSync(status.logPath, 'utf8').includes('to-log'), 10_000);
      if (round % 5 === 1) {
        const { url } = await client.callRuntime('PortForward', { podSandboxId: podId, port: [80] });
        const forwarder = await startPortForward({ url: new URL(url), transport: 'spdy', pairs: [{ local: 0, remote: 80 }], urlFor: async () => new URL(url), out: () => undefined, err: () => undefined });
        try {
          const page = await fetch(`http://127.0.0.1:${forwarder.ports[0].local}/`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text());
          if (!page.includes('hello')) throw new Error('port-forward answered something else');
        } finally {
          await forwarder.close();
        }
        counts.portForwards++;
      }
      await client.callRuntime('StopContainer', { containerId, timeout: 1 });
      counts.rounds++;
    } catch (error) {
      counts.errors++;
      counts.lastError = String(error?.details ?? error?.message ?? error).slice(0, 200);
      await sleep(500);
    } finally {
      // As a kubelet does: a pod that could not be removed (the daemon was away) is removed again until it is.
      for (let attempt = 0; podId && attempt < 60; attempt++) {
        await client.callRuntime('StopPodSandbox', { podSandboxId: podId }).catch(() => undefined);
        const removed = await client.callRuntime('RemovePodSandbox', { podSandboxId: podId }).then(() => true, () => false);
        if (removed) break;
        counts.errors++;
        await sleep(1000);
      }
      rmSync(logDirectory, { recursive: true, force: true });
    }
  }
}

const http = `127.0.0.1:${20000 + (process.pid % 10000)}`;
// Interrupted (Ctrl-C, a kill): stop the server and remove the run's pods before going, as the end does.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.kill('SIGKILL');
    const left = docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.namespace=${RUN}`]);
    if (left) docker(['rm', '-f', ...left.split('\n')]);
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}
const server = startServer(http);
const client = new CriClient(endpoint, endpoint, 60_000);
let exitCode = 0;
try {
  await waitUntil('mascri serve to answer', async () => (await client.callRuntime('Version', {}), true), 30_000);
  await client.callImage('PullImage', { image: { image: HTTPD } });
  console.log(`soak: ${CLIENTS} clients for ${SECONDS} s against mascri serve (pid ${server.pid})${RESTART_DOCKER ? '; the Docker daemon restarts once in the middle' : ''}`);
  // Warm-up: one round per client, then the start figures.
  const counts = { rounds: 0, errors: 0, portForwards: 0, lastError: '' };
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => churn(client, n, Date.now() + 1, counts)));
  await sleep(5000);
  const start = await sample(server, http);
  console.log('start', JSON.stringify(start));
  if (HEAP_SNAPSHOTS) await heapSnapshot(server, 'start');
  const deadline = Date.now() + SECONDS * 1000;
  const restart = RESTART_DOCKER
    ? sleep((SECONDS * 1000) / 2).then(async () => {
        console.log('restarting the Docker daemon');
        await restartDocker();
        console.log('the Docker daemon is back');
      })
    : Promise.resolve();
  const samples = [];
  const sampler = SAMPLE_SECONDS > 0 ? setInterval(() => void sample(server, http).then((figures) => {
    samples.push({ atSeconds: Math.round((Date.now() - deadline) / 1000 + SECONDS), ...figures, rounds: counts.rounds });
    console.log('sample', JSON.stringify(samples.at(-1)));
  }, () => undefined), SAMPLE_SECONDS * 1000) : undefined;
  await Promise.all([...Array.from({ length: CLIENTS }, (_, n) => churn(client, n, deadline, counts)), restart]);
  clearInterval(sampler);
  await sleep(15_000); // settle: the server collects what a burst grew once its calls are quiet (checked every 2 s, at most every 10 s)
  const end = await sample(server, http);
  console.log('end  ', JSON.stringify(end));
  if (HEAP_SNAPSHOTS) await heapSnapshot(server, 'end');
  const rssChange = (end.rssMiB - start.rssMiB) / start.rssMiB;
  const fdChange = (end.fds - start.fds) / start.fds;
  const verdict = { rounds: counts.rounds, portForwards: counts.portForwards, errors: counts.errors, lastError: counts.lastError, rssChangePercent: Math.round(rssChange * 1000) / 10, fdChangePercent: Math.round(fdChange * 1000) / 10, childrenAdded: end.children - start.children, dockerObjectsLeft: end.dockerObjects };
  console.log('result', JSON.stringify(verdict));
  // The server's own children (its `docker events` stream) are there at the start too: count what is added.
  // Less than at the start is fine: the start figures are taken just after the warm-up's own connections.
  const met = rssChange <= 0.1 && fdChange <= 0.1 && end.children <= start.children && end.dockerObjects === 0;
  console.log(met ? 'goal met: RSS and fds within 10 % of the start, no child process or Docker object left' : 'goal NOT met (RSS and fds within 10 % of the start, no child process or Docker object left)');
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-results', 'soak.json'), JSON.stringify({ seconds: SECONDS, clients: CLIENTS, dockerRestarted: RESTART_DOCKER, start, end, ...verdict, samples, finishedAt: new Date().toISOString() }, null, 2));
  if (!met) exitCode = 1;
} catch (error) {
  console.error(`soak failed: ${error?.message ?? error}\n${server.logTail()}`);
  exitCode = 1;
} finally {
  client.close();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  const left = docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.namespace=${RUN}`]);
  if (left) docker(['rm', '-f', ...left.split('\n')]);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
