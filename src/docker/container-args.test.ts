import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig.js';
import { describeHost } from './host-grants.js';
import { ARGS_INLINE_MAX, MAX_ARG_BYTES, PATH_MAX, execveTotal } from './arg-limits.js';
import { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS, containerCreatePlan, csvField, systemPaths } from './container-args.js';

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

/** A plan for a container running `command`/`args` with `envs`, and whatever else `extra` sets. */
function processPlan(envs: Array<[string, string]>, command: string[] = [], args: string[] = [], extra: Record<string, unknown> = {}) {
  const config = {
    metadata: { name: 'c', attempt: 0 }, image: { image: 'img' }, command, args, envs: envs.map(([key, value]) => ({ key, value })),
    mounts: [], devices: [], CDIDevices: [], labels: {}, annotations: {}, linux: null, ...extra,
  } as unknown as ContainerConfig__Output;
  return containerCreatePlan({ config, name: 'k8s_c_p_n_u_0', sandboxId: 'pause', sandboxNamespaces: undefined, image: 'img', cgroupParent: '', host: restricted });
}

function expectInvalid(fn: () => unknown, pattern: RegExp): string {
  let message = '';
  assert.throws(fn, (error: { code: number; message: string }) => {
    assert.equal(error.code, 3, 'INVALID_ARGUMENT');
    assert.match(error.message, pattern);
    message = error.message;
    return true;
  });
  return message;
}

test('env and command of ordinary size are docker arguments (the relay is not needed, so ssh/TLS engines work)', () => {
  const small = processPlan([['A', '1'], ['LINES', 'a\nb'], ['BIG', 'x'.repeat(MAX_ARG_BYTES - 5)]], ['sh', '-c'], ['echo hi']);
  assert.equal(small.hostConfig, undefined);
  const { args } = small;
  assert.deepEqual(args.slice(args.indexOf('--entrypoint'), args.indexOf('--entrypoint') + 2), ['--entrypoint', 'sh']);
  assert.ok(args.includes('LINES=a\nb'), 'a value with a line break is one argument, as it is');
  assert.deepEqual(args.slice(args.indexOf('img')), ['img', '-c', 'echo hi']);
});

test('past ARGS_INLINE_MAX, Env, Entrypoint and Cmd go in the create body and leave the arguments', () => {
  const envs = Array.from({ length: 12 }, (_, i): [string, string] => [`V${i}`, String.fromCharCode(97 + i).repeat(100 * 1024)]);
  const big = processPlan([...envs, ['LINES', 'a\nb']], ['sh', '-c'], ['echo ${#1}', 'sh', 'y'.repeat(1000)]);
  assert.ok(!big.args.includes('--env') && !big.args.includes('--entrypoint'));
  assert.equal(big.args.at(-1), 'img', 'nothing after the image');
  assert.deepEqual(big.hostConfig, {
    Config: { Env: [...envs.map(([key, value]) => `${key}=${value}`), 'LINES=a\nb'], Entrypoint: ['sh'], Cmd: ['-c', 'echo ${#1}', 'sh', 'y'.repeat(1000)] },
  });
  assert.ok(execveTotal(big.hostConfig!.Config!.Env!) > ARGS_INLINE_MAX);
  // Only args (the image's entrypoint kept), and stdin without stdin_once beside them.
  const argsOnly = processPlan(envs, [], ['a'], { stdin: true, stdinOnce: false });
  assert.deepEqual(Object.keys(argsOnly.hostConfig!.Config!).sort(), ['Cmd', 'Env', 'StdinOnce']);
  assert.deepEqual(argsOnly.hostConfig!.Config!.Cmd, ['a']);
  // Many small variables pass the limit too: each one costs an --env besides itself.
  const many = processPlan(Array.from({ length: 40_000 }, (_, i): [string, string] => [`K${i}`, 'v']));
  assert.equal(many.hostConfig?.Config?.Env?.length, 40_000);
});

test('an env, command or args entry no process can start with is refused naming it; so are more than ARG_MAX in all', () => {
  const message = expectInvalid(() => processPlan([['A', '1'], ['HUGE', 'secret'.repeat(50 * 1024)]]), /^envs\[1\] \(HUGE=\.\.\.\) is 307205 bytes .*MAX_ARG_STRLEN/);
  assert.ok(!message.includes('secret'), 'the value is not repeated');
  expectInvalid(() => processPlan([], ['x'.repeat(300 * 1024)]), /^command\[0\] is 307200 bytes/);
  expectInvalid(() => processPlan([], ['sh'], ['-c', 'echo', 'x'.repeat(300 * 1024)]), /^args\[2\] is 307200 bytes/);
  expectInvalid(() => processPlan([['A', 'a\0b']]), /^envs\[0\] \(A=\.\.\.\) holds a NUL/);
  expectInvalid(() => processPlan([['A=B', 'c']]), /^envs\[0\]\.key "A=B" holds "="/);
  const envs = Array.from({ length: 30 }, (_, i): [string, string] => [`V${i}`, 'x'.repeat(100 * 1024)]);
  expectInvalid(() => processPlan(envs), /^envs, command and args take [\d.]+ MiB .*ARG_MAX/);
});

test('mount paths: commas, quotes and line breaks are quoted for --mount (a CSV record); carriage returns and paths past PATH_MAX are refused', () => {
  assert.equal(csvField('source=/a'), 'source=/a');
  assert.equal(csvField('source=/a,b"c\nd'), '"source=/a,b""c\nd"');
  const mounts = (hostPath: string, containerPath = '/m') => ({ mounts: [{ hostPath, containerPath, readonly: false, propagation: 'PROPAGATION_PRIVATE', selinuxRelabel: false, uidMappings: [], gidMappings: [] }] });
  const args = processPlan([], [], [], mounts('/tmp/a,b"c\nd', '/m,1')).args;
  assert.equal(args[args.indexOf('--mount') + 1], 'type=bind,"source=/tmp/a,b""c\nd","target=/m,1",bind-propagation=rprivate');
  expectInvalid(() => processPlan([], [], [], mounts('/tmp/a\rb')), /^mounts\[0\]\.host_path .*carriage return/s);
  processPlan([], [], [], mounts('/' + 'p'.repeat(PATH_MAX - 2)));
  expectInvalid(() => processPlan([], [], [], mounts('/' + 'p'.repeat(PATH_MAX - 1))), /^mounts\[0\]\.host_path is 4096 bytes .*PATH_MAX/);
  expectInvalid(() => processPlan([], [], [], mounts('/a', 'relative')), /^mounts\[0\]\.container_path "relative" must be absolute/);
  expectInvalid(() => processPlan([], [], [], { mounts: [{ ...mounts('/a').mounts[0]!, mountOptions: ['noexec'] }] }), /^mounts\[0\]\.mount_options \["noexec"\] cannot be honoured/);
  expectInvalid(() => processPlan([], [], [], { workingDir: '/' + 'w'.repeat(PATH_MAX) }), /^working_dir is 4097 bytes/);
});

test('devices: paths with a colon (the --device separator) and permissions other than r, w, m are refused naming the field', () => {
  const devices = (hostPath: string, containerPath: string, permissions: string) => ({ devices: [{ hostPath, containerPath, permissions }] });
  const args = processPlan([], [], [], devices('/dev/null', '/dev/x', 'rw')).args;
  assert.equal(args[args.indexOf('--device') + 1], '/dev/null:/dev/x:rw');
  expectInvalid(() => processPlan([], [], [], devices('/dev/null', '/dev/a:b', 'rw')), /^devices\[0\]\.container_path .*colon/);
  expectInvalid(() => processPlan([], [], [], devices('/dev/null', '/dev/x', 'rwx')), /^devices\[0\]\.permissions "rwx"/);
  expectInvalid(() => processPlan([], [], [], devices('/dev/' + 'd'.repeat(PATH_MAX), '/dev/x', '')), /^devices\[0\]\.host_path is \d+ bytes/);
});

test('what cannot move to the body (here 400 mounts of 4 KiB paths) past DOCKER_ARGS_MAX is refused naming the field', () => {
  const mounts = Array.from({ length: 400 }, (_, i) => ({ hostPath: `/${i}`.padEnd(4000, 'h'), containerPath: `/${i}`.padEnd(100, 'c'), readonly: false, propagation: 'PROPAGATION_PRIVATE', selinuxRelabel: false, uidMappings: [], gidMappings: [] }));
  expectInvalid(() => processPlan([], [], [], { mounts }), /docker arguments, more than the 1\.5 MiB .*most of it: mounts/);
});
