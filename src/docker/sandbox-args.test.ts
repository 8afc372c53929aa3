import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig.js';
import { CAPABILITY_NAMES, describeHost, type HostCapabilities } from './host-grants.js';
import { sandboxRunPlan } from './sandbox-args.js';

const FULL = '1ffffffffff'; // every capability (bits 0-40)
const NO_SYS_RESOURCE = '000001fffeffffff'; // this machine: CAP_SYS_RESOURCE (bit 24) missing

function host(capBnd: string, extra: Partial<HostCapabilities> = {}): HostCapabilities {
  return { ...describeHost({ capBnd, oomScoreAdj: 0, info: { ServerVersion: '20.10.24', SecurityOptions: ['name=seccomp,profile=default'], CgroupVersion: '1', CgroupDriver: 'cgroupfs' }, devices: ['/dev/null', '/dev/fuse'] }), ...extra };
}

function config(overrides: Partial<PodSandboxConfig__Output> = {}): PodSandboxConfig__Output {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u', attempt: 0 },
    hostname: '',
    logDirectory: '',
    dnsConfig: null,
    portMappings: [],
    labels: {},
    annotations: {},
    linux: null,
    windows: null,
    ...overrides,
  };
}

function linux(securityContext: Record<string, unknown>, rest: Record<string, unknown> = {}): PodSandboxConfig__Output['linux'] {
  return { cgroupParent: '', sysctls: {}, overhead: null, resources: null, securityContext, ...rest } as unknown as PodSandboxConfig__Output['linux'];
}

const plan = (cfg: PodSandboxConfig__Output, h = host(FULL)) => sandboxRunPlan({ config: cfg, name: 'k8s_POD_p_ns_u_0', image: 'pause:1', host: h });

function expectInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: { code: number; message: string }) => {
    assert.equal(error.code, GrpcCode.INVALID_ARGUMENT);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('sandboxRunPlan', () => {
  test('a plain pod: name, shareable IPC, image last; labels go in a label file, not in arguments', () => {
    const { args, warnings } = plan(config());
    assert.deepEqual(args.slice(0, 6), ['--name', 'k8s_POD_p_ns_u_0', '--restart', 'no', '--log-driver', 'none']);
    assert.ok(args.join(' ').includes('--ipc shareable'));
    assert.ok(!args.some((arg) => arg.startsWith('--label')));
    assert.equal(args.at(-1), 'pause:1');
    assert.deepEqual(warnings, []);
  });

  test('on a host that grants everything: oom_score_adj -998 and --privileged, as cri-dockerd does', () => {
    const { args, warnings, privilegedSubstituted } = plan(config({ linux: linux({ privileged: true }) }), host(FULL));
    assert.ok(args.join(' ').includes('--oom-score-adj -998'));
    assert.ok(args.includes('--privileged'));
    assert.equal(privilegedSubstituted, false);
    assert.deepEqual(warnings, []);
  });

  test('on a host without CAP_SYS_RESOURCE: the closest allowed oom_score_adj and a privileged substitute, with warnings', () => {
    const h = host(NO_SYS_RESOURCE);
    assert.equal(h.privilegedAllowed, false);
    assert.deepEqual(h.missingCapabilities, ['CAP_SYS_RESOURCE']);
    const { args, warnings, privilegedSubstituted } = plan(config({ linux: linux({ privileged: true }) }), h);
    assert.ok(!args.includes('--privileged'));
    assert.ok(!args.includes('--oom-score-adj'), 'the inherited 0 is the lowest allowed, so nothing is asked');
    assert.equal(privilegedSubstituted, true);
    const capAdds = args.flatMap((arg, i) => (arg === '--cap-add' ? [args[i + 1]] : []));
    assert.ok(capAdds.includes('SYS_ADMIN') && capAdds.includes('NET_ADMIN'));
    assert.ok(!capAdds.includes('SYS_RESOURCE'), 'never asks for what the host lacks');
    assert.ok(!capAdds.includes('BPF'), 'Docker 20.10 does not know CAP_BPF');
    assert.ok(args.join(' ').includes('--security-opt seccomp=unconfined'));
    assert.ok(args.join(' ').includes('--security-opt systempaths=unconfined'));
    assert.ok(args.join(' ').includes('--device /dev/fuse'));
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), /CAP_SYS_RESOURCE/);
    assert.match(warnings.join('\n'), /oom_score_adj -998/);
  });

  test('Docker 23 and newer accept the newer capabilities', () => {
    const h = describeHost({ capBnd: NO_SYS_RESOURCE, oomScoreAdj: 0, info: { ServerVersion: '24.0.7' } });
    assert.ok(h.grantableCapabilities.includes('CAP_BPF'));
    assert.equal(h.grantableCapabilities.length, CAPABILITY_NAMES.length - 1);
  });

  test('namespaces: host network, host PID and IPC; userns POD and TARGET are refused', () => {
    const args = plan(config({ linux: linux({ namespaceOptions: { network: 'NODE', pid: 'NODE', ipc: 'NODE', targetId: '', usernsOptions: null } }) })).args.join(' ');
    assert.ok(args.includes('--network host') && args.includes('--pid host') && args.includes('--ipc host'));
    expectInvalid(() => plan(config({ linux: linux({ namespaceOptions: { network: 'POD', pid: 'TARGET', ipc: 'POD' } }) })), /namespace_options\.pid/);
    expectInvalid(() => plan(config({ linux: linux({ namespaceOptions: { network: 'POD', pid: 'POD', ipc: 'POD', usernsOptions: { mode: 'POD', uids: [], gids: [] } } }) })), /userns_options/);
  });

  test('hostname, DNS, ports, cgroup parent, sysctls', () => {
    const args = plan(
      config({
        hostname: 'web',
        dnsConfig: { servers: ['9.9.9.9'], searches: ['x.local'], options: ['ndots:5'] },
        portMappings: [
          { protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '127.0.0.1' },
          { protocol: 'UDP', containerPort: 53, hostPort: 0, hostIp: '' },
          { protocol: 'SCTP', containerPort: 9, hostPort: 9, hostIp: '::1' },
        ],
        linux: linux({}, { cgroupParent: '/kubepods/pod1', sysctls: { 'net.ipv4.ip_forward': '1' } }),
      }),
    ).args.join(' ');
    for (const part of ['--hostname web', '--dns 9.9.9.9', '--dns-search x.local', '--dns-option ndots:5', '--publish 127.0.0.1:8080:80/tcp', '--expose 53/udp', '--publish [::1]:9:9/sctp', '--cgroup-parent /kubepods/pod1', '--sysctl net.ipv4.ip_forward=1']) {
      assert.ok(args.includes(part), `${part} in ${args}`);
    }
  });

  test('bad ports are refused naming the field', () => {
    expectInvalid(() => plan(config({ portMappings: [{ protocol: 'TCP', containerPort: 0, hostPort: 1, hostIp: '' }] })), /port_mappings\[0\]\.container_port/);
    expectInvalid(
      () => plan(config({ portMappings: [{ protocol: 'TCP', containerPort: 80, hostPort: 81, hostIp: '' }], linux: linux({ namespaceOptions: { network: 'NODE', pid: 'POD', ipc: 'POD' } }) })),
      /host networking/,
    );
  });

  test('security context: user, groups, read-only rootfs, seccomp and apparmor profiles', () => {
    const args = plan(config({ linux: linux({ runAsUser: { value: '1000' }, runAsGroup: { value: '3000' }, supplementalGroups: ['4', '5'], readonlyRootfs: true, seccomp: { profileType: 'Unconfined', localhostRef: '' } }) })).args.join(' ');
    for (const part of ['--user 1000:3000', '--group-add 4', '--group-add 5', '--read-only', '--security-opt seccomp=unconfined']) assert.ok(args.includes(part), part);
    expectInvalid(() => plan(config({ linux: linux({ runAsGroup: { value: '1' } }) })), /run_as_group/);
    expectInvalid(() => plan(config({ linux: linux({ apparmor: { profileType: 'Localhost', localhostRef: 'my-profile' } }) })), /AppArmor is not available/);
    expectInvalid(() => plan(config({ linux: linux({ seccomp: { profileType: 'Localhost', localhostRef: 'relative.json' } }) })), /absolute path/);
    expectInvalid(() => plan(config({ linux: linux({ supplementalGroupsPolicy: 'Strict' }) })), /Strict/);
    const legacy = plan(config({ linux: linux({ seccompProfilePath: 'localhost//etc/profile.json' }) })).args.join(' ');
    assert.ok(legacy.includes('--security-opt seccomp=/etc/profile.json'));
  });

  test("the cgroup parent in the form of Docker's cgroup driver: a slice name for systemd, the path as it is for cgroupfs", () => {
    const withParent = (cgroupParent: string) => config({ linux: linux({}, { cgroupParent }) });
    const systemd = host(FULL, { cgroupDriver: 'systemd' });
    const parentArg = (args: string[]) => args[args.indexOf('--cgroup-parent') + 1];
    assert.equal(parentArg(plan(withParent('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_3.slice'), systemd).args), 'kubepods-burstable-pod12_3.slice');
    assert.equal(parentArg(plan(withParent('/kubepods/burstable/pod12-3'), systemd).args), 'kubepods-burstable-pod12_3.slice');
    assert.equal(parentArg(plan(withParent('/kubepods/burstable/pod12-3')).args), '/kubepods/burstable/pod12-3', 'cgroupfs');
    assert.ok(!plan(config()).args.includes('--cgroup-parent'));
  });
});

describe('sandbox values at the edges of what Linux, resolv.conf and the docker CLI take', () => {
  test('hostname up to HOST_NAME_MAX; DNS values without white space (resolv.conf lines); servers and host_ip are IPs', () => {
    assert.ok(plan(config({ hostname: 'h'.repeat(64) })).args.includes('h'.repeat(64)));
    expectInvalid(() => plan(config({ hostname: 'h'.repeat(65) })), /^hostname is 65 bytes.*HOST_NAME_MAX/);
    expectInvalid(() => plan(config({ hostname: 'h'.repeat(300 * 1024) })), /^hostname is 307200 bytes/);
    const dns = (servers: string[], searches: string[], options: string[]) => config({ dnsConfig: { servers, searches, options } });
    expectInvalid(() => plan(dns([], [], ['ndots:5\nnameserver 6.6.6.6'])), /^dns_config\.options\[0\] .*white space/);
    expectInvalid(() => plan(dns([], ['a b'], [])), /^dns_config\.searches\[0\]/);
    expectInvalid(() => plan(dns([], ['a'.repeat(300 * 1024)], [])), /^dns_config\.searches\[0\] is 307200 bytes/);
    expectInvalid(() => plan(dns(['9.9.9.9', 'not-an-ip'], [], [])), /^dns_config\.servers\[1\] "not-an-ip" is not an IP/);
    plan(dns(['9.9.9.9', '2001:db8::1'], ['.', 'svc.cluster.local'], ['ndots:5', 'edns0']));
    expectInvalid(() => plan(config({ portMappings: [{ protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '127.0.0.1:9' }] })), /^port_mappings\[0\]\.host_ip/);
  });

  test('sysctls: names as Kubernetes writes them; a value too large for an argument, or all of them past DOCKER_ARGS_MAX, is refused naming linux.sysctls', () => {
    const withSysctls = (sysctls: Record<string, string>) => config({ linux: linux({}, { sysctls }) });
    assert.ok(plan(withSysctls({ 'net/ipv4/ip_forward': '1', 'kernel.shm_rmid_forced': '0' })).args.includes('--sysctl'));
    expectInvalid(() => plan(withSysctls({ 'net.ipv4.ip_forward=1 x': '1' })), /^linux\.sysctls: the name/);
    expectInvalid(() => plan(withSysctls({ 'net.core.somaxconn': 'x'.repeat(200 * 1024) })), /^linux\.sysctls is \d+ bytes .*MAX_ARG_STRLEN/);
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`net.ipv4.x${i}`, 'v'.repeat(100 * 1024)]));
    expectInvalid(() => plan(withSysctls(many)), /most of it: linux\.sysctls/);
  });
});
