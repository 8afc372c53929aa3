// A private containerd 1.6 instance for the benchmark: its own config, root, state, sockets, CNI
// conf dir and bridge, all under one temporary directory, so it never touches Docker's containerd
// (/run/containerd) or its images. `startContainerd()` answers once its CRI serves; `stop()` removes
// its pods through the CRI, ends it and its shims, deletes its bridge, unmounts what it mounted and
// removes the directory. Used by scripts/bench.mjs.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient } from '../dist/src/cri/client.js';

export const BRIDGE = 'mascri-bench0';
export const SUBNET = '10.222.0.0/24';
const CNI_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The CNI plugin directory that has the bridge, host-local and loopback plugins, or undefined. */
function cniBinDir() {
  return CNI_BIN_DIRS.find((d) => ['bridge', 'host-local', 'loopback'].every((p) => existsSync(join(d, p))));
}

/** Whether an overlay mount works in `dir` (overlay on overlay, or a kernel without it, does not). */
function overlayWorks(dir) {
  const t = join(dir, 'overlay-probe');
  for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(t, d), { recursive: true });
  try {
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${t}/lower,upperdir=${t}/upper,workdir=${t}/work`, `${t}/merged`], { stdio: 'ignore' });
    execFileSync('umount', [`${t}/merged`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
}

/** cgroup v2 when /sys/fs/cgroup is cgroup2fs; the driver is cgroupfs either way (no systemd here to ask). */
function cgroupVersion() {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? 2 : 1;
}

function config(dir, { sandboxImage, registry, snapshotter, cniBin }) {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const mirrors = registry.flatMap((host) => [
    `[${cri}.registry.mirrors."${host}"]`,
    `  endpoint = ["http://${host}"]`,
    `[${cri}.registry.configs."${host}".tls]`,
    '  insecure_skip_verify = true',
  ]);
  return [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    `temp = "${dir}/tmp"`,
    'oom_score = 0',
    '[grpc]',
    `  address = "${dir}/containerd.sock"`,
    '[ttrpc]',
    `  address = "${dir}/containerd.sock.ttrpc"`,
    '[debug]',
    '  level = "warn"',
    '[metrics]',
    '  address = ""',
    // Built-in plugins Docker's containerd also loads that would write outside the directory.
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${dir}/opt"`,
    `[${cri}]`,
    `  sandbox_image = "${sandboxImage}"`,
    // This host refuses a negative oom_score_adj (root lacks CAP_SYS_RESOURCE).
    '  restrict_oom_score_adj = true',
    '  netns_mounts_under_state_dir = true',
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '  enable_selinux = false',
    '  systemd_cgroup = false',
    `[${cri}.containerd]`,
    `  snapshotter = "${snapshotter}"`,
    '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`,
    '  SystemdCgroup = false',
    `[${cri}.cni]`,
    `  bin_dir = "${cniBin}"`,
    `  conf_dir = "${dir}/cni/net.d"`,
    '  max_conf_num = 1',
    ...mirrors,
    '',
  ].join('\n');
}

/** A bridge network of its own: no gateway, no masquerade, no iptables rule; pods reach only each other. */
function cniConflist(dir) {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'mascri-bench',
    plugins: [{ type: 'bridge', bridge: BRIDGE, isGateway: false, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: SUBNET }]], dataDir: join(dir, 'cni', 'ipam') } }],
  }, null, 2);
}

/** Mount points at or below `dir`, deepest first. */
function mountsUnder(dir) {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((point) => point && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

/** Processes whose command line names `needle` (the instance's socket: its shims), but not this one. */
function processesNaming(needle) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(needle))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function rssKiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function linkExists(name) {
  return existsSync(`/sys/class/net/${name}`);
}

/**
 * Starts the instance. Options: sandboxImage, registry (hosts served over plain HTTP), log (a
 * function for progress lines). Answers { endpoint, dir, pid, snapshotter, cgroupVersion, version, stop }.
 */
export async function startContainerd({ sandboxImage, registry = ['localhost:5000', '127.0.0.1:5000'], log = () => undefined }) {
  const cniBin = cniBinDir();
  if (!cniBin) throw new Error(`no CNI plugins (bridge, host-local, loopback) in ${CNI_BIN_DIRS.join(' or ')}: run scripts/setup.sh (it installs containernetworking-plugins)`);
  if (linkExists(BRIDGE)) throw new Error(`the interface ${BRIDGE} exists already: another benchmark runs, or one left it (ip link delete ${BRIDGE})`);
  const dir = mkdtempSync(join(tmpdir(), 'mascri-bench-containerd-'));
  const socket = join(dir, 'containerd.sock');
  const endpoint = `unix://${socket}`;
  let child;
  let exited = false;
  let stopping;

  const stop = () => (stopping ??= (async () => {
    // 1. Its pods and containers, through its own CRI.
    if (child && !exited && existsSync(socket)) {
      const c = new CriClient(endpoint, endpoint, 30_000);
      try {
        const { items } = await c.callRuntime('ListPodSandbox', {});
        for (const pod of items) {
          await c.callRuntime('StopPodSandbox', { podSandboxId: pod.id }).catch(() => undefined);
          await c.callRuntime('RemovePodSandbox', { podSandboxId: pod.id }).catch(() => undefined);
        }
        const { containers } = await c.callRuntime('ListContainers', {});
        for (const ctr of containers) await c.callRuntime('RemoveContainer', { containerId: ctr.id }).catch(() => undefined);
      } catch (error) {
        log(`containerd: could not remove its pods through the CRI: ${error.message}`);
      } finally {
        c.close();
      }
    }
    // 2. The daemon, then any shim of it still running (they outlive a daemon by design).
    if (child && !exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
      for (let i = 0; i < 20 && !exited; i++) await sleep(100);
    }
    // Containers its CRI could not remove: their processes first (a shim killed leaves them running).
    for (const pid of [...containerProcesses('k8s.io'), ...processesNaming(socket)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (containerProcesses('k8s.io').length > 0) await sleep(500);
    // 3. The bridge (its veths went with the pods' network namespaces), mounts, cgroups, the directory.
    if (linkExists(BRIDGE)) {
      try {
        execFileSync('ip', ['link', 'delete', BRIDGE], { stdio: 'ignore' });
      } catch (error) {
        log(`containerd: could not delete ${BRIDGE}: ${error.message}`);
      }
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const points = mountsUnder(dir);
      if (points.length === 0) break;
      for (const point of points) {
        try {
          execFileSync('umount', attempt < 2 ? [point] : ['-l', point], { stdio: 'ignore' });
        } catch {
          // busy or gone: the next round tries again, lazily at last
        }
      }
    }
    removeEmptyCgroups('k8s.io');
    const left = mountsUnder(dir);
    if (left.length > 0) log(`containerd: still mounted under ${dir}: ${left.join(', ')}`);
    else rmSync(dir, { recursive: true, force: true });
  })());

  try {
    const snapshotter = overlayWorks(dir) ? 'overlayfs' : 'native';
    for (const d of ['root', 'state', 'tmp', 'opt', 'cni/net.d', 'cni/ipam']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'config.toml'), config(dir, { sandboxImage, registry, snapshotter, cniBin }));
    writeFileSync(join(dir, 'cni', 'net.d', '10-mascri-bench.conflist'), cniConflist(dir));
    const out = openSync(join(dir, 'containerd.log'), 'a');
    // A process group of its own: a Ctrl-C in the terminal reaches the benchmark, which removes the
    // pods through this containerd before it stops it; it must not stop first.
    child = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    child.on('exit', () => (exited = true));
    let spawnError;
    child.on('error', (error) => {
      spawnError = error; // no containerd on PATH: said below, and the directory is removed
      exited = true;
    });
    const c = new CriClient(endpoint, endpoint, 5000);
    let version;
    try {
      for (let i = 0; i < 200 && !version && !exited; i++) {
        if (existsSync(socket)) {
          try {
            version = await c.callRuntime('Version', {}, { timeoutMs: 1000 });
            const { status } = await c.callRuntime('Status', {}, { timeoutMs: 1000 });
            if (!status.conditions.every((cond) => cond.status)) version = undefined; // NetworkReady comes with the CNI config
          } catch {
            version = undefined;
          }
        }
        if (!version) await sleep(100);
      }
    } finally {
      c.close();
    }
    if (spawnError) throw new Error(`cannot start containerd: ${spawnError.message} (the docker.io package installs /usr/bin/containerd)`);
    if (!version) throw new Error(`containerd did not start or is not ready; its log:\n${tail(join(dir, 'containerd.log'))}`);
    log(`containerd ${version.runtimeVersion} (CRI ${version.runtimeApiVersion}) in ${dir}, snapshotter ${snapshotter}, cgroup v${cgroupVersion()} (cgroupfs)`);
    /** The RSS of its shims (one per pod), in MiB: memory a containerd node spends beside the daemon. */
    const shimsRssMiB = () => Math.round(processesNaming(socket).reduce((sum, pid) => sum + rssKiB(pid), 0) / 1024);
    return { endpoint, dir, pid: child.pid, snapshotter, cgroupVersion: cgroupVersion(), version: version.runtimeVersion, logFile: join(dir, 'containerd.log'), shimsRssMiB, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The cgroup directories containerd's CRI makes for pods without a cgroup parent: /<namespace> in each hierarchy. */
function namespaceCgroups(namespace) {
  const root = '/sys/fs/cgroup';
  return cgroupVersion() === 2 ? [join(root, namespace)] : readdirSync(root).map((h) => join(root, h, namespace));
}

/** Processes in the cgroups below /<namespace> (the instance's containers; no other runtime here uses k8s.io). */
function containerProcesses(namespace) {
  const pids = new Set();
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name === 'cgroup.procs') {
        for (const pid of readFileSync(join(d, e.name), 'utf8').split('\n').filter(Boolean)) pids.add(Number(pid));
      }
    }
  };
  for (const d of namespaceCgroups(namespace)) walk(d);
  return [...pids];
}

/** The namespace's cgroups, deepest first: runc removes a container's, a container killed leaves its own; rmdir refuses a cgroup with processes. */
function removeEmptyCgroups(namespace) {
  const remove = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) remove(join(d, e.name));
    try {
      rmdirSync(d);
    } catch {
      // not empty: not ours to force
    }
  };
  for (const d of namespaceCgroups(namespace)) remove(d);
}
