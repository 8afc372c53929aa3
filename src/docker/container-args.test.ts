import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig.js';
import { describeHost } from '../server/host.js';
import { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS, containerCreatePlan, systemPaths } from './container-args.js';

const info = { ServerVersion: '20.10.24', SecurityOptions: ['name=seccomp,profile=default'] };
const restricted = describeHost({ capBnd: '000001fffeffffff', oomScoreAdj: 0, info });
const full = describeHost({ capBnd: '1ffffffffff', oomScoreAdj: 0, info });

function plan(securityContext: Record<string, unknown> | null, host = restricted, cgroupParent = '') {
  const config = {
    metadata: { name: 'c', attempt: 0 },
    image: { image: 'img' },
    command: [],
    args: [],
    envs: [],
    mounts: [],
    devices: [],
    CDIDevices: [],
    labels: {},
    annotations: {},
    linux: securityContext ? { resources: null, securityContext } : null,
  } as unknown as ContainerConfig__Output;
  return containerCreatePlan({ config, name: 'k8s_c_p_n_u_0', sandboxId: 'pause', sandboxNamespaces: undefined, image: 'img', cgroupParent, host });
}

const capAdds = (args: string[]) => args.flatMap((arg, i) => (arg === '--cap-add' ? [args[i + 1]!] : []));

test('adding ALL: one --cap-add per granted capability on a host that lacks some, plain ALL otherwise', () => {
  const limited = plan({ capabilities: { addCapabilities: ['ALL'], dropCapabilities: [], addAmbientCapabilities: [] } });
  const caps = capAdds(limited.args);
  assert.ok(caps.length > 30);
  assert.ok(caps.every((cap) => /^[A-Z_]+$/.test(cap)), 'no comma-joined list');
  assert.ok(!caps.includes('SYS_RESOURCE'));
  assert.match(limited.warnings.join(), /capability ALL/);
  assert.deepEqual(capAdds(plan({ capabilities: { addCapabilities: ['ALL'], dropCapabilities: [], addAmbientCapabilities: [] } }, full).args), ['ALL']);
});

test('no seccomp profile is unconfined, as the CRI defines it; RuntimeDefault keeps Docker\'s profile', () => {
  assert.ok(plan({}).args.join(' ').includes('--security-opt seccomp=unconfined'));
  assert.ok(plan(null).args.join(' ').includes('--security-opt seccomp=unconfined'), 'no security context is no profile too');
  const runtimeDefault = plan({ seccomp: { profileType: 'RuntimeDefault', localhostRef: '' } }).args.join(' ');
  assert.ok(!runtimeDefault.includes('seccomp='));
  assert.ok(!plan({ seccompProfilePath: 'runtime/default' }).args.join(' ').includes('seccomp='));
});

test('masked and read-only paths: Docker\'s defaults need nothing; other lists go to HostConfig as given', () => {
  assert.equal(systemPaths([], []), undefined);
  assert.equal(systemPaths([...DOCKER_MASKED_PATHS].reverse(), DOCKER_READONLY_PATHS), undefined, 'the same set in another order is the default');
  const kubelet = [...DOCKER_MASKED_PATHS, '/sys/devices/virtual/powercap'];
  assert.deepEqual(systemPaths(kubelet, DOCKER_READONLY_PATHS), { MaskedPaths: kubelet });
  assert.deepEqual(systemPaths(['/bin/ls'], []), { MaskedPaths: ['/bin/ls'] }, 'an empty list keeps Docker\'s default for that list');
  assert.deepEqual(systemPaths([], ['/tmp']), { ReadonlyPaths: ['/tmp'] });
  assert.throws(() => systemPaths(['proc/kcore'], []), /masked_paths\[0\] "proc\/kcore" must be an absolute path/);
  assert.throws(() => systemPaths([], ['/ok', 'tmp']), /readonly_paths\[1\]/);

  const custom = { maskedPaths: ['/bin/ls'], readonlyPaths: ['/tmp'] };
  assert.deepEqual(plan(custom).hostConfig, { MaskedPaths: ['/bin/ls'], ReadonlyPaths: ['/tmp'] });
  assert.equal(plan({ ...custom, privileged: true }, full).hostConfig, undefined, 'privileged containers get neither list, as with Docker');
  assert.equal(plan({}).hostConfig, undefined);
});

test("the container goes in the pod's cgroup parent, in the form of Docker's cgroup driver", () => {
  const parentArg = (args: string[]) => (args.includes('--cgroup-parent') ? args[args.indexOf('--cgroup-parent') + 1] : undefined);
  const cgroupfs = { ...restricted, cgroupDriver: 'cgroupfs' };
  const systemd = { ...restricted, cgroupDriver: 'systemd' };
  assert.equal(parentArg(plan(null, cgroupfs, '/kubepods/besteffort/pod-1').args), '/kubepods/besteffort/pod-1');
  assert.equal(parentArg(plan(null, systemd, '/kubepods/besteffort/pod-1').args), 'kubepods-besteffort-pod_1.slice');
  assert.equal(parentArg(plan(null, systemd, '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod_1.slice').args), 'kubepods-besteffort-pod_1.slice');
  assert.equal(parentArg(plan(null, systemd).args), undefined, 'no cgroup parent, Docker\'s default');
});

test('stdin without stdin_once keeps the container stdin open across attaches (the CLI would set StdinOnce)', () => {
  const withStdin = (stdin: boolean, stdinOnce: boolean) => {
    const config = { metadata: { name: 'c', attempt: 0 }, image: { image: 'img' }, command: [], args: [], envs: [], mounts: [], devices: [], CDIDevices: [], labels: {}, annotations: {}, linux: null, stdin, stdinOnce } as unknown as ContainerConfig__Output;
    return containerCreatePlan({ config, name: 'k8s_c_p_n_u_0', sandboxId: 'pause', sandboxNamespaces: undefined, image: 'img', cgroupParent: '', host: restricted });
  };
  assert.deepEqual(withStdin(true, false).hostConfig, { Config: { StdinOnce: false } });
  assert.ok(withStdin(true, false).args.includes('--interactive'));
  const once = withStdin(true, true);
  assert.equal(once.hostConfig, undefined, 'stdin_once is what the CLI does by itself');
  assert.deepEqual(once.args.slice(once.args.indexOf('--interactive'), once.args.indexOf('--interactive') + 3), ['--interactive', '--attach', 'stdin']);
  assert.equal(withStdin(false, false).hostConfig, undefined);
});
