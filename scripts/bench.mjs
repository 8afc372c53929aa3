// mascri's benchmark: run after `bash scripts/setup.sh` (engine, registry, images, build).
//   npm run bench                      full run (a few minutes)
//   BENCH_RELIST_SECONDS=10 npm run bench   shorter CPU measurement
// Prints a table and writes bench-results/latest.json. Everything it creates is removed at the end.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CriClient } from '../dist/src/cri/client.js';

const ROOT = new URL('..', import.meta.url).pathname;
const PAUSE = 'localhost:5000/pause:3.10';
const BUSYBOX = 'localhost:5000/busybox:latest';
const RELIST_SECONDS = Number(process.env.BENCH_RELIST_SECONDS ?? 60);
const READ_CALLS = 200;
const RUN = `bench-${process.pid}`;
/** The masked and read-only paths a kubelet sends for procMount: Default. */
const KUBELET_MASKED = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
const KUBELET_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const dir = mkdtempSync(join(tmpdir(), 'mascri-bench-'));
const socket = join(dir, 'mascri.sock');
const endpoint = `unix://${socket}`;
const results = { machine: machine(), startedAt: new Date().toISOString(), reads: {}, podStart: {}, concurrent: {}, stats: {}, resources: {} };

function machine() {
  const docker = execFileSync('docker', ['version', '--format', '{{.Server.Version}}']).toString().trim();
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, dockerEngine: docker };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const ms = (v) => Math.round(v * 100) / 100;
function summary(values) {
  return { p50: ms(percentile(values, 50)), p99: ms(percentile(values, 99)), n: values.length };
}

async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function docker(args) {
  return execFileSync('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
}
function timeDocker(args, times = 5) {
  const samples = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    docker(args);
    samples.push(performance.now() - t);
  }
  return percentile(samples, 50);
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024);
}
function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime of mascri serve itself
}

let server;
const client = () => new CriClient(endpoint, endpoint, 120_000);

async function startServer() {
  // As a user runs it: bin/mascri's own node flags apply.
  server = spawn(join(ROOT, 'bin', 'mascri'), ['serve', '--listen', endpoint, '--pod-infra-image', PAUSE, '--state-dir', join(dir, 'state'), '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const c = client();
  for (let i = 0; i < 200; i++) {
    if (existsSync(socket)) {
      try {
        await c.callRuntime('Version', {}, { timeoutMs: 1000 });
        c.close();
        return;
      } catch {
        // not answering yet: try again
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('mascri serve did not start');
}

let podCounter = 0;
async function startPod(c, containers = 1, label = 'steady') {
  const n = podCounter++;
  const config = { metadata: { name: `p${n}`, namespace: RUN, uid: `${RUN}-${n}`, attempt: 0 }, labels: { bench: RUN, set: label }, linux: {} };
  const { podSandboxId } = await c.callRuntime('RunPodSandbox', { config });
  const ids = [];
  for (let i = 0; i < containers; i++) {
    const { containerId } = await c.callRuntime('CreateContainer', {
      podSandboxId,
      config: { metadata: { name: `c${i}`, attempt: 0 }, image: { image: BUSYBOX }, command: ['sleep', '100000'], labels: { bench: RUN } },
      sandboxConfig: config,
    });
    await c.callRuntime('StartContainer', { containerId });
    ids.push(containerId);
  }
  return { podSandboxId, ids, config };
}

async function measureReads(c, label, pods, containers) {
  const calls = {
    ListPodSandbox: () => c.callRuntime('ListPodSandbox', {}),
    ListContainers: () => c.callRuntime('ListContainers', {}),
  };
  if (pods.length > 0) calls.PodSandboxStatus = (i) => c.callRuntime('PodSandboxStatus', { podSandboxId: pods[i % pods.length] });
  if (containers.length > 0) calls.ContainerStatus = (i) => c.callRuntime('ContainerStatus', { containerId: containers[i % containers.length] });
  const phase = {};
  for (const [name, call] of Object.entries(calls)) {
    for (let i = 0; i < 10; i++) await call(i); // warm up
    const samples = [];
    for (let i = 0; i < READ_CALLS; i++) samples.push(await timed(() => call(i)));
    phase[name] = summary(samples);
  }
  phase.dockerPsA = ms(timeDocker(['ps', '-a', '--no-trunc']));
  phase.dockerInspect = ms(timeDocker(['inspect', containers[0] ?? pods[0] ?? 'localhost:5000/busybox:latest']));
  phase.headline = {
    listContainersVsDockerPs: Math.round(phase.dockerPsA / phase.ListContainers.p50),
    containerStatusVsDockerInspect: phase.ContainerStatus ? Math.round(phase.dockerInspect / phase.ContainerStatus.p50) : null,
  };
  results.reads[label] = phase;
}

async function cleanup() {
  const ids = docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.namespace=${RUN}`]).split('\n').filter(Boolean);
  const manual = docker(['ps', '-aq', '--filter', `label=bench-manual=${RUN}`]).split('\n').filter(Boolean);
  const all = [...ids, ...manual];
  for (let i = 0; i < all.length; i += 50) docker(['rm', '-f', ...all.slice(i, i + 50)]);
}

async function main() {
  docker(['pull', '-q', BUSYBOX]);
  docker(['pull', '-q', PAUSE]);
  await startServer();
  const c = client();
  await new Promise((r) => setTimeout(r, 1000));
  results.resources.rssIdleMiB = rssMiB(server.pid);

  // Reads with 0 running containers (one empty pod so the status call has something to read).
  const empty = await startPod(c, 0, 'empty');
  await measureReads(c, '0 containers', [empty.podSandboxId], []);

  // Pod start, one after another: mascri vs the docker CLI calls the same work needs.
  const sequential = [];
  const pods = [empty.podSandboxId];
  const containers = [];
  for (let i = 0; i < 20; i++) {
    let pod;
    sequential.push(await timed(async () => (pod = await startPod(c, 1))));
    pods.push(pod.podSandboxId);
    containers.push(...pod.ids);
  }
  const byHand = [];
  for (let i = 0; i < 20; i++) {
    byHand.push(await timed(async () => {
      const pause = docker(['run', '--detach', '--label', `bench-manual=${RUN}`, '--ipc', 'shareable', PAUSE]);
      const ctr = docker(['create', '--label', `bench-manual=${RUN}`, '--network', `container:${pause}`, '--ipc', `container:${pause}`, '--pid', `container:${pause}`, BUSYBOX, 'sleep', '100000']);
      docker(['start', ctr]);
    }));
  }
  results.podStart = { mascri: summary(sequential), dockerCliByHand: summary(byHand) };

  // CreateContainer alone, plain and with the masked/read-only lists a kubelet sends (they go through
  // the create relay, since the docker CLI has no flag for them), taking turns in one pod.
  const creates = { plain: [], kubeletLists: [] };
  for (let i = 0; i < 20; i++) {
    for (const [kind, securityContext] of [['plain', {}], ['kubeletLists', { maskedPaths: KUBELET_MASKED, readonlyPaths: KUBELET_READONLY }]]) {
      let id;
      creates[kind].push(await timed(async () => {
        ({ containerId: id } = await c.callRuntime('CreateContainer', {
          podSandboxId: empty.podSandboxId,
          config: { metadata: { name: `${kind}-${i}`, attempt: 0 }, image: { image: BUSYBOX }, command: ['sleep', '100000'], linux: { securityContext } },
          sandboxConfig: empty.config,
        }));
      }));
      await c.callRuntime('RemoveContainer', { containerId: id });
    }
  }
  results.createContainer = { plain: summary(creates.plain), kubeletLists: summary(creates.kubeletLists) };
  results.podStart.ratioP50 = ms(results.podStart.mascri.p50 / results.podStart.dockerCliByHand.p50);
  docker(['rm', '-f', ...docker(['ps', '-aq', '--filter', `label=bench-manual=${RUN}`]).split('\n').filter(Boolean)]);

  // Reads with 20 running containers, and ListContainerStats for them.
  await new Promise((r) => setTimeout(r, 3000));
  await measureReads(c, '20 containers', pods, containers);
  const statsSamples = [];
  for (let i = 0; i < 20; i++) statsSamples.push(await timed(() => c.callRuntime('ListContainerStats', {})));
  results.stats.listContainerStats20 = summary(statsSamples);

  // 20 pods started at once.
  const before = Number(docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.namespace=${RUN}`]).split('\n').filter(Boolean).length);
  let concurrentPods = [];
  const wall = await timed(async () => {
    concurrentPods = await Promise.allSettled(Array.from({ length: 20 }, () => startPod(c, 1, 'concurrent')));
  });
  const ok = concurrentPods.filter((r) => r.status === 'fulfilled');
  const after = Number(docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.namespace=${RUN}`]).split('\n').filter(Boolean).length);
  results.concurrent = { started: ok.length, of: 20, wallMs: ms(wall), dockerContainersAdded: after - before, expectedContainers: 40 };
  for (const r of ok) {
    pods.push(r.value.podSandboxId);
    containers.push(...r.value.ids);
  }

  // Up to 100 running containers: 50 pods of 2 busybox containers in all.
  const target = 100;
  while (containers.length < target) {
    const pod = await startPod(c, Math.min(2, target - containers.length));
    pods.push(pod.podSandboxId);
    containers.push(...pod.ids);
  }
  // Steady state, as a kubelet's relist sees it: let the creation burst (events, log followers) settle.
  await new Promise((r) => setTimeout(r, 5000));
  await measureReads(c, '100 containers', pods, containers);
  results.resources.rssWith100MiB = rssMiB(server.pid);

  // A kubelet's relist: one ListPodSandbox + ListContainers per second.
  const hz = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  const t0 = cpuTicks(server.pid);
  const start = performance.now();
  for (let i = 0; i < RELIST_SECONDS; i++) {
    await c.callRuntime('ListPodSandbox', {});
    await c.callRuntime('ListContainers', {});
    await new Promise((r) => setTimeout(r, Math.max(0, start + (i + 1) * 1000 - performance.now())));
  }
  const cpuSeconds = (cpuTicks(server.pid) - t0) / hz;
  results.resources.relist = { seconds: RELIST_SECONDS, cpuSeconds: ms(cpuSeconds), percentOfOneCore: ms((cpuSeconds / RELIST_SECONDS) * 100), containers: containers.length };
  c.close();
}

function printTable() {
  const lines = [];
  lines.push(`machine: ${results.machine.cpus} cores (${results.machine.cpuModel}), ${results.machine.memoryGiB} GiB, Node ${results.machine.node}, Docker Engine ${results.machine.dockerEngine}`);
  lines.push('');
  lines.push('| read (200 calls each) | 0 containers p50 / p99 ms | 20 containers p50 / p99 ms | 100 containers p50 / p99 ms |');
  lines.push('|---|---|---|---|');
  for (const name of ['ListPodSandbox', 'ListContainers', 'PodSandboxStatus', 'ContainerStatus']) {
    const cell = (phase) => (results.reads[phase]?.[name] ? `${results.reads[phase][name].p50} / ${results.reads[phase][name].p99}` : 'n/a');
    lines.push(`| ${name} | ${cell('0 containers')} | ${cell('20 containers')} | ${cell('100 containers')} |`);
  }
  for (const [label, key] of [['one `docker ps -a` (ms)', 'dockerPsA'], ['one `docker inspect` (ms)', 'dockerInspect']]) {
    lines.push(`| ${label} | ${results.reads['0 containers']?.[key]} | ${results.reads['20 containers']?.[key]} | ${results.reads['100 containers']?.[key]} |`);
  }
  const h = results.reads['100 containers']?.headline ?? {};
  lines.push('');
  lines.push(`headline, 100 containers: ListContainers p50 is ${h.listContainersVsDockerPs}x faster than one docker ps -a; ContainerStatus p50 is ${h.containerStatusVsDockerInspect}x faster than one docker inspect`);
  lines.push('');
  lines.push('| pod start (runp + create + start), 20 one after another | p50 ms | p99 ms |');
  lines.push('|---|---|---|');
  lines.push(`| mascri | ${results.podStart.mascri.p50} | ${results.podStart.mascri.p99} |`);
  lines.push(`| the docker CLI calls by hand (run pause, create, start) | ${results.podStart.dockerCliByHand.p50} | ${results.podStart.dockerCliByHand.p99} |`);
  lines.push(`| ratio (p50) | ${results.podStart.ratioP50}x | |`);
  lines.push('');
  lines.push('| CreateContainer, 20 each | p50 ms | p99 ms |');
  lines.push('|---|---|---|');
  lines.push(`| no masked/read-only paths | ${results.createContainer.plain.p50} | ${results.createContainer.plain.p99} |`);
  lines.push(`| the kubelet's masked/read-only paths (through the create relay) | ${results.createContainer.kubeletLists.p50} | ${results.createContainer.kubeletLists.p99} |`);
  lines.push('');
  lines.push(`20 pods started concurrently: ${results.concurrent.started}/20 succeeded in ${results.concurrent.wallMs} ms; Docker containers added: ${results.concurrent.dockerContainersAdded} (expected ${results.concurrent.expectedContainers})`);
  lines.push(`ListContainerStats, 20 running containers: p50 ${results.stats.listContainerStats20.p50} ms, p99 ${results.stats.listContainerStats20.p99} ms`);
  lines.push(`mascri serve RSS: ${results.resources.rssIdleMiB} MiB idle, ${results.resources.rssWith100MiB} MiB with 100 containers`);
  lines.push(`relist (ListPodSandbox + ListContainers once a second, ${results.resources.relist.containers} containers, ${results.resources.relist.seconds} s): ${results.resources.relist.cpuSeconds} s of CPU = ${results.resources.relist.percentOfOneCore}% of one core`);
  console.log(lines.join('\n'));
}

try {
  await main();
  printTable();
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-results', 'latest.json'), JSON.stringify(results, null, 2));
  console.log(`\nwritten: bench-results/latest.json`);
} catch (error) {
  console.error('benchmark failed:', error);
  process.exitCode = 1;
} finally {
  await cleanup().catch(() => undefined);
  server?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
}
