// mascri's benchmark, beside containerd 1.6's CRI: run after `bash scripts/setup.sh` (engine,
// registry, images, CNI plugins, build). The same CRI client makes the same calls to both runtimes in
// the same run: mascri serve and a private containerd (scripts/bench-containerd.mjs), both started up
// front, their pods side by side. The reads are taken in turns, call by call, between the two, each
// holding the same pods and containers at that moment; everything else is measured per runtime, one
// runtime after the other (pod starts one after another, CreateContainer alone, bursts with a relist,
// 20 concurrent, ListContainerStats, relist CPU, RSS of each server process).
//   npm run bench                          full run (about 7 minutes)
//   BENCH_QUICK=1 npm run bench            fewer samples, shorter settles (about 4 minutes)
//   BENCH_RELIST_SECONDS=10                shorter relist CPU measurement
//   BENCH_RUNTIMES=mascri                  one runtime only (mascri, containerd or both, comma-separated)
// Run it under the engine's lock when others share the engine: `flock /tmp/mascri-engine.lock node scripts/bench.mjs`.
// Prints a table and writes bench-results/latest.json. Everything it creates is removed at the end,
// also on SIGINT/SIGTERM and on errors: mascri's containers and extra images, the containerd
// instance (pods, shims, bridge, mounts), the temporary directories.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { CriClient } from '../dist/src/cri/client.js';
import { startContainerd } from './bench-containerd.mjs';
import { importIntoContainerd, loadIntoDocker, makeImageArchive, removeFromDocker } from './bench-images.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const PAUSE = 'localhost:5000/pause:3.10';
const BUSYBOX = 'localhost:5000/busybox:latest';
const QUICK = process.env.BENCH_QUICK === '1';
const READ_CALLS = Number(process.env.BENCH_READ_CALLS ?? (QUICK ? 50 : 200));
const RELIST_SECONDS = Number(process.env.BENCH_RELIST_SECONDS ?? (QUICK ? 5 : 60));
const SETTLE_MS = QUICK ? 2000 : 5000;
/** Bursts of 10 concurrent pod starts, a relist running meanwhile. */
const BURSTS = QUICK ? 1 : 3;
const RELIST_GAP_MS = 20;
/** Extra images, distinct (not tags of one: the CRI lists an image once), so each runtime lists about 50. */
const EXTRA_IMAGES = 48;
const RUNTIMES = (process.env.BENCH_RUNTIMES ?? 'mascri,containerd').split(',').map((s) => s.trim()).filter(Boolean);
const INSTANCE = process.env.BENCH_INSTANCE ?? 'bench';
const RUN = `bench-${process.pid}`;
/** The masked and read-only paths a kubelet sends for procMount: Default. */
const KUBELET_MASKED = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
const KUBELET_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
const READS = ['ListImages', 'ImageStatus', 'PodSandboxStatus', 'ContainerStatus', 'ListPodSandbox', 'ListContainers'];
const PHASES = ['20 pods', '100 containers'];

const dir = mkdtempSync(join(tmpdir(), 'mascri-bench-'));
const results = {
  machine: machine(),
  startedAt: new Date().toISOString(),
  settings: { quick: QUICK, readCalls: READ_CALLS, relistSeconds: RELIST_SECONDS, settleMs: SETTLE_MS, bursts: BURSTS, relistGapMs: RELIST_GAP_MS, extraImages: EXTRA_IMAGES, instance: INSTANCE, runtimes: RUNTIMES, readsInTurns: true, readsInRotation: true },
  runtimes: {},
  dockerCliByHand: undefined,
  targets: [],
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => process.stderr.write(`[bench] ${line}\n`);

function machine() {
  const docker = execFileSync('docker', ['version', '--format', '{{.Server.Version}}']).toString().trim();
  let containerd;
  try {
    containerd = execFileSync('containerd', ['--version']).toString().trim().split(' ')[2];
  } catch {
    containerd = undefined;
  }
  const cgroup = existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1';
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, dockerEngine: docker, containerd, cgroup };
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
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 102.4) / 10;
}
function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime of the process itself
}

/** Every process's CPU (its own, and its waited-for children's) and the machine's busy time, in ms. */
function cpuSnapshot() {
  const hz = clockTicks();
  const procs = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(pid), { comm, ppid: Number(f[1]), self: ((Number(f[11]) + Number(f[12])) * 1000) / hz, children: ((Number(f[13]) + Number(f[14])) * 1000) / hz });
    } catch {
      // gone meanwhile
    }
  }
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { procs, busyMs: ((f[0] + f[1] + f[2] + f[5] + f[6]) * 1000) / hz, stealMs: ((f[7] ?? 0) * 1000) / hz };
}

let ticks;
function clockTicks() {
  return (ticks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()));
}

/**
 * Where the machine's CPU went between two snapshots, by who spent it: the runtime's own process, the
 * processes it started (for mascri: the docker CLI calls, waited for by its process starter), Docker's
 * engine, containerd (Docker's and the benchmark's instance) and the shims, the benchmark itself, and
 * what processes that exited meanwhile spent (runc, OCI hooks such as dockerd's libnetwork-setkey).
 */
function cpuBreakdown(before, after, rt) {
  const out = { machine: 0, runtime: 0, runtimeChildren: 0, dockerd: 0, containerd: 0, shims: 0, benchmark: 0, other: 0, exited: 0, steal: 0 };
  out.machine = after.busyMs - before.busyMs;
  out.steal = after.stealMs - before.stealMs;
  let counted = 0;
  for (const [pid, now] of after.procs) {
    const was = before.procs.get(pid);
    const self = now.self - (was?.self ?? 0);
    let key = 'other';
    if (pid === rt.pid) key = 'runtime';
    else if (now.ppid === rt.pid) {
      key = 'runtimeChildren';
      const waited = now.children - (was?.children ?? 0);
      out.runtimeChildren += waited;
      counted += waited;
    } else if (pid === process.pid) key = 'benchmark';
    else if (now.comm === 'dockerd') key = 'dockerd';
    else if (now.comm === 'containerd') key = 'containerd';
    else if (now.comm.startsWith('containerd-shim')) key = 'shims';
    out[key] += self;
    counted += self;
  }
  out.exited = Math.max(0, out.machine - counted);
  for (const key of Object.keys(out)) out[key] = Math.round(out[key]);
  return out;
}

// --- the runtimes ---------------------------------------------------------------------------

let server;
let containerd;
/** The containerd instance while it starts: a clean-up meanwhile waits for it, then stops it. */
let containerdStarting;

/** mascri serve as a user runs it (bin/mascri's own node flags apply; no --http: its event-loop delay comes from verbose Status). */
async function startMascri() {
  const socket = join(dir, 'mascri.sock');
  const endpoint = `unix://${socket}`;
  const args = ['serve', '--listen', endpoint, '--pod-infra-image', PAUSE, '--state-dir', join(dir, 'state'), '--log-level', 'warn', '--instance', INSTANCE];
  server = spawn(join(ROOT, 'bin', 'mascri'), args, { stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = false;
  server.on('exit', () => (exited = true));
  const c = new CriClient(endpoint, endpoint, 120_000);
  try {
    for (let i = 0; i < 200 && !exited; i++) {
      if (existsSync(socket)) {
        try {
          await c.callRuntime('Version', {}, { timeoutMs: 1000 });
          return { name: 'mascri', endpoint, pid: server.pid, eventLoopClient: new CriClient(endpoint, endpoint, 120_000) };
        } catch {
          // not answering yet: try again
        }
      }
      await sleep(50);
    }
  } finally {
    c.close();
  }
  throw new Error(`mascri serve did not start (is another server serving instance "${INSTANCE}"? BENCH_INSTANCE=... picks another)`);
}

/**
 * The event loop's delay in mascri serve since the last call: the "eventLoop" of its verbose Status
 * (node's monitorEventLoopDelay, 10 ms resolution, reset at each such call, so an idle loop reads
 * about 10 ms).
 */
async function eventLoop(rt) {
  if (!rt.eventLoopClient) return undefined;
  const { info } = await rt.eventLoopClient.callRuntime('Status', { verbose: true });
  const reading = JSON.parse(info.eventLoop);
  return { p50Ms: reading.p50Ms, p99Ms: reading.p99Ms, maxMs: reading.maxMs };
}

// --- pods and reads -------------------------------------------------------------------------

let podCounter = 0;
async function startPod(c, containers = 1, label = 'steady') {
  const n = podCounter++;
  const config = { metadata: { name: `p${n}`, namespace: RUN, uid: `${RUN}-${n}`, attempt: 0 }, labels: { bench: RUN, set: label }, linux: {} };
  checkAborted();
  const { podSandboxId } = await c.callRuntime('RunPodSandbox', { config });
  const ids = [];
  for (let i = 0; i < containers; i++) {
    checkAborted();
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

/**
 * The reads, taken in turns call by call between the runtimes (a call to the first, one to the
 * second, one to the first, ...), so load from elsewhere on the machine falls on each alike; each
 * runtime holds its pods and containers of the moment. The six reads take turns too (one of each,
 * then the next round), so no read is measured in a quieter or busier stretch than another (in
 * blocks, each read's figures fell with its place in the order, on both runtimes, as the machine
 * settled after the pod starts). With one runtime, its calls one after another.
 */
async function readsInTurns(runtimes, phase) {
  const calls = (s) => ({
    ListImages: () => s.c.callImage('ListImages', {}),
    ImageStatus: () => s.c.callImage('ImageStatus', { image: { image: BUSYBOX } }),
    PodSandboxStatus: (i) => s.c.callRuntime('PodSandboxStatus', { podSandboxId: s.pods[i % s.pods.length] }),
    ContainerStatus: (i) => s.c.callRuntime('ContainerStatus', { containerId: s.containers[i % s.containers.length] }),
    ListPodSandbox: () => s.c.callRuntime('ListPodSandbox', {}),
    ListContainers: () => s.c.callRuntime('ListContainers', {}),
  });
  const each = runtimes.map((s) => ({ s, calls: calls(s), phase: {} }));
  for (let i = 0; i < 10; i++) for (const name of READS) for (const one of each) await one.calls[name](i); // warm up
  const samples = Object.fromEntries(READS.map((name) => [name, each.map(() => [])]));
  for (let i = 0; i < READ_CALLS; i++) {
    for (const name of READS) {
      for (const [k, one] of each.entries()) {
        checkAborted();
        samples[name][k].push(await timed(() => one.calls[name](i)));
      }
    }
  }
  for (const name of READS) for (const [k, one] of each.entries()) one.phase[name] = summary(samples[name][k]);
  for (const { s, phase: reads } of each) {
    const [images, podList, ctrList] = await Promise.all([s.c.callImage('ListImages', {}), s.c.callRuntime('ListPodSandbox', {}), s.c.callRuntime('ListContainers', {})]);
    reads.counts = { images: images.images.length, pods: podList.items.length, containers: ctrList.containers.length };
    s.r.reads[phase] = reads;
  }
  // mascri's docker CLI equivalents, after the turns (they load the engine behind it).
  const m = runtimes.find((s) => s.rt.name === 'mascri');
  if (m) {
    m.r.reads[phase].dockerPsA = ms(timeDocker(['ps', '-a', '--no-trunc']));
    m.r.reads[phase].dockerInspect = ms(timeDocker(['inspect', m.containers[0]]));
  }
}

/** `count` pods of one container started at once, a relist (ListPodSandbox + ListContainers every RELIST_GAP_MS) on its own connection meanwhile. */
async function burst(c, relister, count, label) {
  const starts = [];
  let done = false;
  const pods = Promise.allSettled(
    Array.from({ length: count }, async () => {
      const t = performance.now();
      const pod = await startPod(c, 1, label);
      starts.push(performance.now() - t);
      return pod;
    }),
  );
  const relist = [];
  const clientLoop = monitorEventLoopDelay({ resolution: 10 });
  clientLoop.enable();
  const wallStart = performance.now();
  void pods.finally(() => (done = true));
  while (!done) {
    relist.push(await timed(async () => {
      await relister.callRuntime('ListPodSandbox', {});
      await relister.callRuntime('ListContainers', {});
    }));
    if (!done) await sleep(RELIST_GAP_MS);
  }
  const settled = await pods;
  const wall = performance.now() - wallStart;
  clientLoop.disable();
  const benchLoop = { p99Ms: ms(clientLoop.percentile(99) / 1e6), maxMs: ms(clientLoop.max / 1e6) };
  const ok = settled.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const errors = settled.filter((r) => r.status === 'rejected').map((r) => String(r.reason?.message ?? r.reason));
  return { ok, errors, starts, relist, wallMs: wall, benchLoop };
}

/** A pod start by hand: the three docker CLI calls mascri's RunPodSandbox + CreateContainer + StartContainer need at least. */
function startByHand() {
  const pause = docker(['run', '--detach', '--label', `bench-manual=${RUN}`, '--ipc', 'shareable', PAUSE]);
  const ctr = docker(['create', '--label', `bench-manual=${RUN}`, '--network', `container:${pause}`, '--ipc', `container:${pause}`, '--pid', `container:${pause}`, BUSYBOX, 'sleep', '100000']);
  docker(['start', ctr]);
}

/** The clients of each runtime opened by open(), closed at the end of main(). */
const opened = [];

/** One runtime under measurement: its CRI clients, its pods and containers so far (they stay until the clean-up), its results. */
function open(rt) {
  const r = { endpoint: rt.endpoint, reads: {}, rssMiB: {}, eventLoop: {} };
  results.runtimes[rt.name] = r;
  const s = { rt, r, c: new CriClient(rt.endpoint, rt.endpoint, 120_000), relister: new CriClient(rt.endpoint, rt.endpoint, 120_000), pods: [], containers: [], first: undefined };
  s.keep = (pod) => {
    s.pods.push(pod.podSandboxId);
    s.containers.push(...pod.ids);
  };
  opened.push(s);
  return s;
}

/** 20 pod starts one after another, then CreateContainer alone, in one runtime. */
async function sequentialStarts(s) {
  const { rt, r, c } = s;
  // Against mascri, taking turns with the docker CLI calls the same work needs by hand on the same
  // engine, so load from elsewhere falls on both alike.
  log(`${rt.name}: 20 pod starts one after another${rt.name === 'mascri' ? ', taking turns with the docker CLI by hand' : ''}`);
  const sequential = [];
  const byHand = [];
  // The event loop read once around the 20 (a verbose Status runs `docker info`: not between the starts).
  await eventLoop(rt);
  for (let i = 0; i < 20; i++) {
    let pod;
    sequential.push(await timed(async () => (pod = await startPod(c, 1))));
    s.keep(pod);
    s.first ??= pod;
    if (rt.name === 'mascri') byHand.push(await timed(async () => startByHand()));
  }
  r.podStart = summary(sequential);
  r.eventLoop.sequentialStarts = await eventLoop(rt);
  if (rt.name === 'mascri') {
    results.dockerCliByHand = { podStart: summary(byHand) };
    docker(['rm', '-f', ...docker(['ps', '-aq', '--filter', `label=bench-manual=${RUN}`]).split('\n').filter(Boolean)]);
  }

  // CreateContainer alone, plain and with the masked/read-only lists a kubelet sends (mascri: through
  // the create relay, since the docker CLI has no flag for them), taking turns in the first pod.
  const creates = { plain: [], kubeletLists: [] };
  for (let i = 0; i < (QUICK ? 10 : 20); i++) {
    for (const [kind, securityContext] of [['plain', {}], ['kubeletLists', { maskedPaths: KUBELET_MASKED, readonlyPaths: KUBELET_READONLY }]]) {
      checkAborted();
      let id;
      creates[kind].push(await timed(async () => {
        ({ containerId: id } = await c.callRuntime('CreateContainer', {
          podSandboxId: s.first.podSandboxId,
          config: { metadata: { name: `${kind}-${i}`, attempt: 0 }, image: { image: BUSYBOX }, command: ['sleep', '100000'], linux: { securityContext } },
          sandboxConfig: s.first.config,
        }));
      }));
      await c.callRuntime('RemoveContainer', { containerId: id });
    }
  }
  r.createContainer = { plain: summary(creates.plain), kubeletLists: summary(creates.kubeletLists) };
}

/** ListContainerStats of one runtime's 20 running containers. */
async function containerStats(s) {
  const samples = [];
  for (let i = 0; i < 20; i++) {
    checkAborted();
    samples.push(await timed(() => s.c.callRuntime('ListContainerStats', {})));
  }
  s.r.listContainerStats20 = summary(samples);
}

/** Bursts of 10 concurrent pod starts, then 20 at once, a relist meanwhile, in one runtime. */
async function concurrentStarts(s) {
  const { rt, r, c, relister } = s;
  log(`${rt.name}: ${BURSTS} x 10 concurrent pod starts with a relist meanwhile`);
  const b = { starts: [], relist: [], wallMs: [], errors: [], eventLoop: [], benchLoop: [], cpu: [] };
  for (let i = 0; i < BURSTS; i++) {
    checkAborted(); // a burst's starts fail one by one once interrupted: the run stops here, not in the next phase
    await eventLoop(rt);
    const cpuBefore = cpuSnapshot();
    const one = await burst(c, relister, 10, 'burst');
    b.cpu.push(cpuBreakdown(cpuBefore, cpuSnapshot(), rt));
    b.eventLoop.push(await eventLoop(rt));
    one.ok.forEach(s.keep);
    b.starts.push(...one.starts);
    b.relist.push(...one.relist);
    b.wallMs.push(ms(one.wallMs));
    b.errors.push(...one.errors);
    b.benchLoop.push(one.benchLoop);
    await sleep(1000);
  }
  // benchEventLoop: the benchmark's own loop (the client side of the relist), so a slow relist can be told from a slow client.
  // cpuMs: the machine's CPU per burst (the mean of the bursts), by who spent it (cpuBreakdown).
  const cpuMs = Object.fromEntries(Object.keys(b.cpu[0] ?? {}).map((key) => [key, Math.round(b.cpu.reduce((sum, one) => sum + one[key], 0) / b.cpu.length)]));
  r.burst10 = { bursts: BURSTS, podStart: summary(b.starts), relist: summary(b.relist), wallMs: b.wallMs, errors: b.errors, benchEventLoop: worst(b.benchLoop), cpuMs };
  r.eventLoop.burst10 = worst(b.eventLoop);

  checkAborted();
  log(`${rt.name}: 20 concurrent pod starts`);
  const before = await countCri(c);
  const dockerBefore = rt.name === 'mascri' ? dockerCount() : undefined;
  await eventLoop(rt);
  const twenty = await burst(c, relister, 20, 'concurrent');
  r.eventLoop.concurrent20 = await eventLoop(rt);
  twenty.ok.forEach(s.keep);
  const after = await countCri(c);
  r.concurrent20 = { started: twenty.ok.length, of: 20, wallMs: ms(twenty.wallMs), podStart: summary(twenty.starts), relist: summary(twenty.relist), benchEventLoop: twenty.benchLoop, podsAdded: after.pods - before.pods, containersAdded: after.containers - before.containers, errors: twenty.errors };
  if (dockerBefore !== undefined) r.concurrent20.dockerContainersAdded = dockerCount() - dockerBefore;
}

/** Up to 100 running containers in one runtime: pods of 2 busybox containers for the rest. */
async function fillTo100(s) {
  log(`${s.rt.name}: up to 100 containers`);
  while (s.containers.length < 100) s.keep(await startPod(s.c, Math.min(2, 100 - s.containers.length)));
}

/** A kubelet's relist, one ListPodSandbox + ListContainers per second: the server's CPU; then its RSS. */
async function relistCpu(s) {
  const { rt, r, c } = s;
  log(`${rt.name}: relist once a second for ${RELIST_SECONDS} s`);
  const t0 = cpuTicks(rt.pid);
  const start = performance.now();
  for (let i = 0; i < RELIST_SECONDS; i++) {
    checkAborted();
    await c.callRuntime('ListPodSandbox', {});
    await c.callRuntime('ListContainers', {});
    await sleep(Math.max(0, start + (i + 1) * 1000 - performance.now()));
  }
  const cpuSeconds = (cpuTicks(rt.pid) - t0) / clockTicks();
  r.relistCpu = { seconds: RELIST_SECONDS, cpuSeconds: ms(cpuSeconds), percentOfOneCore: ms((cpuSeconds / RELIST_SECONDS) * 100), containers: s.containers.length };
  r.rssMiB.end = rssMiB(rt.pid);
}

/** The worst of several event-loop readings. */
function worst(readings) {
  const valid = readings.filter(Boolean);
  if (valid.length === 0) return undefined;
  const max = (key) => Math.max(...valid.map((v) => v[key] ?? 0));
  return { p50Ms: max('p50Ms'), p99Ms: max('p99Ms'), maxMs: max('maxMs') };
}

async function countCri(c) {
  const [p, k] = await Promise.all([c.callRuntime('ListPodSandbox', {}), c.callRuntime('ListContainers', {})]);
  return { pods: p.items.length, containers: k.containers.length };
}

function dockerCount() {
  return docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.namespace=${RUN}`]).split('\n').filter(Boolean).length;
}

// --- clean-up -------------------------------------------------------------------------------

async function stopMascri() {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  }
  const ids = docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.namespace=${RUN}`]).split('\n').filter(Boolean);
  const manual = docker(['ps', '-aq', '--filter', `label=bench-manual=${RUN}`]).split('\n').filter(Boolean);
  const all = [...ids, ...manual];
  for (let i = 0; i < all.length; i += 50) docker(['rm', '-f', ...all.slice(i, i + 50)]);
}

let cleaning;
function cleanup() {
  return (cleaning ??= (async () => {
    await stopMascri().catch((error) => log(`could not remove mascri's containers: ${error.message}`));
    // containerd after mascri (their pods exist side by side; neither's removal touches the other's):
    // one still starting is waited for (a failed start has removed itself).
    const instance = containerd ?? (await containerdStarting?.catch(() => undefined));
    await instance?.stop().catch((error) => log(`could not stop containerd: ${error.message}`));
    try {
      removeFromDocker(RUN);
    } catch (error) {
      log(`could not remove the extra images: ${error.message}`);
    }
    rmSync(dir, { recursive: true, force: true });
  })());
}

/** The signal that interrupted the run: the measurements stop at their next step, then the clean-up runs. */
let aborted;
function checkAborted() {
  if (aborted) throw new Error(`interrupted by ${aborted}`);
}
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 };
for (const signal of Object.keys(SIGNAL_NUMBERS)) {
  process.on(signal, () => {
    const exit = () => void cleanup().finally(() => process.exit(128 + SIGNAL_NUMBERS[signal]));
    if (aborted) return exit(); // a second signal: no more waiting for the calls in flight
    aborted = signal;
    log(`${signal}: stopping at the next step, then removing what the benchmark started`);
    setTimeout(exit, 20_000).unref(); // a call that hangs does not keep the clean-up waiting
  });
}

// --- the run --------------------------------------------------------------------------------

async function main() {
  docker(['pull', '-q', BUSYBOX]);
  docker(['pull', '-q', PAUSE]);
  const { archive } = makeImageArchive({ dir, base: BUSYBOX, count: EXTRA_IMAGES, run: RUN });

  // Both runtimes up front, the extra images in each; their pods exist side by side from here on.
  const runtimes = [];
  if (RUNTIMES.includes('mascri')) {
    loadIntoDocker(archive);
    const rt = await startMascri();
    log(`mascri serve (instance "${INSTANCE}") on ${rt.endpoint}`);
    runtimes.push(open(rt));
  }
  if (RUNTIMES.includes('containerd')) {
    checkAborted();
    containerd = await (containerdStarting = startContainerd({ sandboxImage: PAUSE, log }));
    checkAborted();
    const c = new CriClient(containerd.endpoint, containerd.endpoint, 120_000);
    try {
      for (const image of [PAUSE, BUSYBOX]) await c.callImage('PullImage', { image: { image } });
    } finally {
      c.close();
    }
    importIntoContainerd(archive, containerd.endpoint.slice('unix://'.length));
    const s = open({ name: 'containerd', endpoint: containerd.endpoint, pid: containerd.pid, shimsRssMiB: containerd.shimsRssMiB });
    s.r.instance = { version: containerd.version, snapshotter: containerd.snapshotter, cgroupVersion: containerd.cgroupVersion };
    runtimes.push(s);
  }
  if (runtimes.length === 0) throw new Error(`BENCH_RUNTIMES=${RUNTIMES.join(',')}: none of mascri, containerd`);
  await sleep(1000);
  for (const s of runtimes) s.r.rssMiB.idle = rssMiB(s.rt.pid);

  // Pod starts one after another and CreateContainer alone: each runtime on its own, one after the other.
  for (const [i, s] of runtimes.entries()) {
    if (i > 0) await sleep(1000);
    await sequentialStarts(s);
  }

  // Reads with 20 running pods in each, in turns; then ListContainerStats of each.
  await sleep(SETTLE_MS);
  for (const s of runtimes) s.r.rssMiB['20 pods'] = rssMiB(s.rt.pid);
  log(`reads with 20 pods${runtimes.length > 1 ? `, ${runtimes.map((s) => s.rt.name).join(' and ')} in turns` : ''}`);
  await readsInTurns(runtimes, '20 pods');
  for (const s of runtimes) await containerStats(s);

  // Bursts of 10 and 20 concurrent pod starts, then up to 100 containers: each runtime on its own.
  for (const s of runtimes) await concurrentStarts(s);
  for (const s of runtimes) await fillTo100(s);

  // Reads with 100 containers in each, in turns.
  await sleep(SETTLE_MS);
  for (const s of runtimes) {
    s.r.rssMiB['100 containers'] = rssMiB(s.rt.pid);
    if (s.rt.shimsRssMiB) s.r.rssMiB.shimsWith100Containers = s.rt.shimsRssMiB();
  }
  log(`reads with 100 containers${runtimes.length > 1 ? `, ${runtimes.map((s) => s.rt.name).join(' and ')} in turns` : ''}`);
  await readsInTurns(runtimes, '100 containers');

  // The relist's CPU: each runtime on its own.
  for (const s of runtimes) await relistCpu(s);
  judge();
}

// --- targets and the table ------------------------------------------------------------------

/** `value <= limit`: met, or not met and by how much. */
function verdict(value, limit, unit = 'ms') {
  if (value === undefined || limit === undefined) return 'n/a';
  if (value <= limit) return 'met';
  return `not met: +${ms(value - limit)} ${unit} (${ms(value / limit)}x)`;
}

function judge() {
  const m = results.runtimes.mascri;
  const k = results.runtimes.containerd;
  const t = [];
  for (const phase of PHASES) {
    for (const call of READS) {
      const mine = m?.reads[phase]?.[call]?.p50;
      const theirs = k?.reads[phase]?.[call]?.p50;
      t.push({ target: `${call} p50 at ${phase} <= containerd's`, value: mine, limit: theirs, result: verdict(mine, theirs) });
    }
    for (const call of ['ListImages', 'ImageStatus']) {
      const mine = m?.reads[phase]?.[call]?.p50;
      t.push({ target: `${call} p50 at ${phase} <= 1 ms`, value: mine, limit: 1, result: verdict(mine, 1) });
    }
    for (const call of ['PodSandboxStatus', 'ContainerStatus']) {
      const mine = m?.reads[phase]?.[call]?.p50;
      const list = m?.reads[phase]?.ListContainers?.p50;
      t.push({ target: `${call} p50 at ${phase} <= mascri's ListContainers p50`, value: mine, limit: list, result: verdict(mine, list) });
    }
  }
  const byHand = results.dockerCliByHand?.podStart.p50;
  t.push({ target: 'pod start p50 <= 1.0x the docker CLI by hand', value: m?.podStart.p50, limit: byHand, result: verdict(m?.podStart.p50, byHand) });
  t.push({ target: 'relist p99 <= 10 ms during 10 concurrent pod starts', value: m?.burst10.relist.p99, limit: 10, result: verdict(m?.burst10.relist.p99, 10) });
  t.push({ target: 'RSS <= 60 MiB with 20 pods', value: m?.rssMiB['20 pods'], limit: 60, result: verdict(m?.rssMiB['20 pods'], 60, 'MiB') });
  t.push({ target: 'RSS <= 100 MiB with 100 containers', value: m?.rssMiB['100 containers'], limit: 100, result: verdict(m?.rssMiB['100 containers'], 100, 'MiB') });
  results.targets = t;
}

const cell = (s) => (s ? `${s.p50} / ${s.p99}` : 'n/a');
const ratio = (a, b) => (a !== undefined && b ? `${ms(a / b)}x` : 'n/a');

function printTable() {
  const m = results.runtimes.mascri;
  const k = results.runtimes.containerd;
  const target = (name) => results.targets.find((x) => x.target === name)?.result ?? '';
  const mach = results.machine;
  const lines = [];
  lines.push(`machine: ${mach.cpus} cores (${mach.cpuModel}), ${mach.memoryGiB} GiB, cgroup ${mach.cgroup}, Node ${mach.node}, Docker Engine ${mach.dockerEngine}, containerd ${mach.containerd}${k?.instance ? ` (snapshotter ${k.instance.snapshotter})` : ''}${QUICK ? '; BENCH_QUICK=1' : ''}`);
  lines.push('');
  lines.push(`| p50 / p99 ms (${READ_CALLS} calls each${m && k ? ', reads in turns' : ''}) | mascri | containerd | ratio (p50) | target (p50) |`);
  lines.push('|---|---|---|---|---|');
  for (const phase of PHASES) {
    const counts = (r) => (r?.reads[phase]?.counts ? `${r.reads[phase].counts.images} images, ${r.reads[phase].counts.pods} pods, ${r.reads[phase].counts.containers} containers` : 'n/a');
    lines.push(`| **reads, ${phase}** | ${counts(m)} | ${counts(k)} | | |`);
    for (const call of READS) {
      const a = m?.reads[phase]?.[call];
      const b = k?.reads[phase]?.[call];
      const goals = [`<= containerd: ${target(`${call} p50 at ${phase} <= containerd's`)}`];
      if (call === 'ListImages' || call === 'ImageStatus') goals.push(`<= 1 ms: ${target(`${call} p50 at ${phase} <= 1 ms`)}`);
      if (call === 'PodSandboxStatus' || call === 'ContainerStatus') goals.push(`<= ListContainers: ${target(`${call} p50 at ${phase} <= mascri's ListContainers p50`)}`);
      lines.push(`| ${call} | ${cell(a)} | ${cell(b)} | ${ratio(a?.p50, b?.p50)} | ${goals.join('; ')} |`);
    }
  }
  lines.push(`| **pod start** (runp + create + start) | | | | |`);
  lines.push(`| 20 one after another | ${cell(m?.podStart)} | ${cell(k?.podStart)} | ${ratio(m?.podStart.p50, k?.podStart.p50)} | <= 1.0x by hand: ${target('pod start p50 <= 1.0x the docker CLI by hand').replace(/^met$/, `met (${ratio(m?.podStart.p50, results.dockerCliByHand?.podStart.p50)})`)} |`);
  lines.push(`| the docker CLI by hand (run pause, create, start) | ${cell(results.dockerCliByHand?.podStart)} | | | |`);
  lines.push(`| each of 10 concurrent (${BURSTS} bursts) | ${cell(m?.burst10.podStart)} | ${cell(k?.burst10.podStart)} | ${ratio(m?.burst10.podStart.p50, k?.burst10.podStart.p50)} | |`);
  lines.push(`| 10 concurrent, wall ms per burst | ${m?.burst10.wallMs.join(', ') ?? 'n/a'} | ${k?.burst10.wallMs.join(', ') ?? 'n/a'} | ${ratio(m && median(m.burst10.wallMs), k && median(k.burst10.wallMs))} | |`);
  const twenty = (r) => (r ? `${r.concurrent20.wallMs} (${r.concurrent20.started}/20 ok, +${r.concurrent20.podsAdded} pods, +${r.concurrent20.containersAdded} containers)` : 'n/a');
  lines.push(`| 20 concurrent, wall ms | ${twenty(m)} | ${twenty(k)} | ${ratio(m?.concurrent20.wallMs, k?.concurrent20.wallMs)} | |`);
  lines.push(`| CreateContainer alone, no masked/read-only paths | ${cell(m?.createContainer.plain)} | ${cell(k?.createContainer.plain)} | ${ratio(m?.createContainer.plain.p50, k?.createContainer.plain.p50)} | |`);
  lines.push(`| CreateContainer alone, the kubelet's masked/read-only paths | ${cell(m?.createContainer.kubeletLists)} | ${cell(k?.createContainer.kubeletLists)} | ${ratio(m?.createContainer.kubeletLists.p50, k?.createContainer.kubeletLists.p50)} | |`);
  lines.push(`| **while pods start** | | | | |`);
  lines.push(`| relist (ListPodSandbox + ListContainers) during 10 concurrent starts | ${cell(m?.burst10.relist)} | ${cell(k?.burst10.relist)} | ${ratio(m?.burst10.relist.p99, k?.burst10.relist.p99)} (p99) | p99 <= 10 ms: ${target('relist p99 <= 10 ms during 10 concurrent pod starts')} |`);
  lines.push(`| relist during 20 concurrent starts | ${cell(m?.concurrent20.relist)} | ${cell(k?.concurrent20.relist)} | ${ratio(m?.concurrent20.relist.p99, k?.concurrent20.relist.p99)} (p99) | |`);
  const loop = (e) => (e ? `${e.p50Ms} / ${e.p99Ms} / ${e.maxMs}` : 'n/a');
  lines.push(`| event loop delay p50 / p99 / max ms (10 ms sampling), 20 sequential starts | ${loop(m?.eventLoop.sequentialStarts)} | n/a (Go) | | |`);
  lines.push(`| event loop delay, 10 concurrent starts (worst burst) | ${loop(m?.eventLoop.burst10)} | n/a (Go) | | |`);
  lines.push(`| event loop delay, 20 concurrent starts | ${loop(m?.eventLoop.concurrent20)} | n/a (Go) | | |`);
  const benchLoop = (r) => (r?.burst10.benchEventLoop ? `${r.burst10.benchEventLoop.p99Ms} / ${r.burst10.benchEventLoop.maxMs}` : 'n/a');
  lines.push(`| the benchmark's own event loop p99 / max ms, 10 concurrent starts (client side of the relist) | ${benchLoop(m)} | ${benchLoop(k)} | | |`);
  const cpuOf = (r, key) => (r?.burst10.cpuMs?.machine !== undefined ? `${r.burst10.cpuMs[key]}` : 'n/a');
  const cpuRow = (label, key) => lines.push(`| ${label} | ${cpuOf(m, key)} | ${cpuOf(k, key)} | | |`);
  cpuRow('CPU ms of the whole machine per burst of 10 starts (2 cores: 2 ms per ms of wall time)', 'machine');
  cpuRow('&nbsp;&nbsp;the runtime\'s own process', 'runtime');
  cpuRow('&nbsp;&nbsp;the processes it started (mascri: the docker CLI calls)', 'runtimeChildren');
  cpuRow('&nbsp;&nbsp;dockerd', 'dockerd');
  cpuRow('&nbsp;&nbsp;containerd (Docker\'s; the benchmark\'s instance is the runtime above)', 'containerd');
  cpuRow('&nbsp;&nbsp;containerd shims', 'shims');
  cpuRow('&nbsp;&nbsp;processes that exited meanwhile (runc, OCI hooks)', 'exited');
  cpuRow('&nbsp;&nbsp;the benchmark (client)', 'benchmark');
  cpuRow('&nbsp;&nbsp;the rest (kernel threads, the pods, ...)', 'other');
  lines.push(`| **resources** | | | | |`);
  lines.push(`| RSS MiB, idle | ${m?.rssMiB.idle ?? 'n/a'} | ${k?.rssMiB.idle ?? 'n/a'} | ${ratio(m?.rssMiB.idle, k?.rssMiB.idle)} | |`);
  lines.push(`| RSS MiB, 20 pods | ${m?.rssMiB['20 pods'] ?? 'n/a'} | ${k?.rssMiB['20 pods'] ?? 'n/a'} | ${ratio(m?.rssMiB['20 pods'], k?.rssMiB['20 pods'])} | <= 60 MiB: ${target('RSS <= 60 MiB with 20 pods')} |`);
  lines.push(`| RSS MiB, 100 containers | ${m?.rssMiB['100 containers'] ?? 'n/a'} | ${k?.rssMiB['100 containers'] ?? 'n/a'} | ${ratio(m?.rssMiB['100 containers'], k?.rssMiB['100 containers'])} | <= 100 MiB: ${target('RSS <= 100 MiB with 100 containers')} |`);
  const cpu = (r) => (r ? `${r.relistCpu.percentOfOneCore}%` : 'n/a');
  lines.push(`| relist once a second, ${RELIST_SECONDS} s, 100 containers: CPU of one core | ${cpu(m)} | ${cpu(k)} | | |`);
  lines.push(`| ListContainerStats, 20 running containers | ${cell(m?.listContainerStats20)} | ${cell(k?.listContainerStats20)} | ${ratio(m?.listContainerStats20.p50, k?.listContainerStats20.p50)} | |`);
  if (m) {
    const r20 = m.reads['20 pods'];
    const r100 = m.reads['100 containers'];
    lines.push('');
    lines.push(`one \`docker ps -a\`: ${r20.dockerPsA} ms at 20 pods, ${r100.dockerPsA} ms at 100 containers; one \`docker inspect\`: ${r20.dockerInspect} / ${r100.dockerInspect} ms`);
    if (m.concurrent20.dockerContainersAdded !== undefined) lines.push(`mascri, 20 concurrent pod starts: Docker containers added ${m.concurrent20.dockerContainersAdded} (expected 40)`);
  }
  const failed = Object.entries(results.runtimes).flatMap(([name, r]) => [...(r.burst10?.errors ?? []), ...(r.concurrent20?.errors ?? [])].map((e) => `${name}: ${e}`));
  if (failed.length > 0) lines.push(`\npod starts that failed:\n${[...new Set(failed)].join('\n')}`);
  lines.push('');
  lines.push(`RSS: of \`mascri serve\` and of the containerd daemon, at least ${SETTLE_MS / 1000} s after its last start, both runtimes' pods (idle \`sleep\` containers) existing side by side; not of Docker's engine behind mascri, nor of containerd's shims (${k?.rssMiB.shimsWith100Containers ?? 'n/a'} MiB in all with 100 containers).`);
  lines.push('Event loop delay: mascri serve\'s own, from its verbose Status (node\'s monitorEventLoopDelay, sampling every 10 ms): an idle loop reads about 10 ms. mascri runs as deployed, without --http.');
  console.log(lines.join('\n'));
}

function median(values) {
  return percentile(values, 50);
}

try {
  try {
    await main();
  } finally {
    for (const s of opened) {
      s.c.close();
      s.relister.close();
      s.rt.eventLoopClient?.close();
    }
  }
  printTable();
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-results', 'latest.json'), JSON.stringify(results, null, 2));
  console.log(`\nwritten: bench-results/latest.json`);
} catch (error) {
  console.error('benchmark failed:', error);
  process.exitCode = 1;
} finally {
  await cleanup();
  if (aborted) process.exitCode = 128 + SIGNAL_NUMBERS[aborted];
}
