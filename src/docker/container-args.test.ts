import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig.js';
import { describeHost } from '../server/host.js';
import { containerCreatePlan } from './container-args.js';

const info = { ServerVersion: '20.10.24', SecurityOptions: ['name=seccomp,profile=default'] };
const restricted = describeHost({ capBnd: '000001fffeffffff', oomScoreAdj: 0, info });
const full = describeHost({ capBnd: '1ffffffffff', oomScoreAdj: 0, info });

function plan(securityContext: Record<string, unknown> | null, host = restricted) {
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
  return containerCreatePlan({ config, name: 'k8s_c_p_n_u_0', sandboxId: 'pause', sandboxNamespaces: undefined, image: 'img', labels: {}, host });
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
