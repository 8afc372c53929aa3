/** Every container of a pod runs in the pod's cgroup parent (linux.cgroup_parent), as a kubelet asks. */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MascriServer, TestPods, dockerInspect, shellContainer, uniqueSuffix, waitFor, setUpServerWithBusybox } from '../helpers.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The cgroup of each controller of a process (v1 "4:memory:/x", "1:cpu,cpuacct:/x"; v2 "0::/x" as "unified"). */
function processCgroups(pid: number): Map<string, string> {
  const cgroups = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, controllers = '', path = ''] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === '') cgroups.set('unified', path);
    for (const controller of controllers.split(',').filter(Boolean)) cgroups.set(controller, path);
  }
  return cgroups;
}

/** The directories `relative` names in every cgroup hierarchy of this host (v1 controllers, or the v2 root). */
function cgroupDirs(relative: string): string[] {
  const hierarchies = existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))
    ? [CGROUP_ROOT]
    : readdirSync(CGROUP_ROOT)
        .map((name) => join(CGROUP_ROOT, name))
        .filter((path) => lstatSync(path).isDirectory());
  return hierarchies.map((hierarchy) => join(hierarchy, relative)).filter((path) => existsSync(path));
}

/** Removes a cgroup directory and the directories under it, deepest first (a cgroup directory goes with rmdir alone). */
function removeCgroupTree(path: string): void {
  for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) removeCgroupTree(join(path, entry.name));
  rmdirSync(path);
}

describe('the pod cgroup parent', () => {
  let server: MascriServer;
  const pods = new TestPods(() => server);
  const top = `mascri-test-${uniqueSuffix()}`;

  setUpServerWithBusybox(pods, (started) => (server = started));
  after(async () => {
    // Docker made the parent directories and leaves them; the containers' own went with the containers.
    await waitFor(`the test's cgroup directories to be removed`, async () => {
      for (const dir of cgroupDirs(top)) {
        try {
          removeCgroupTree(dir);
        } catch {
          // busy until the last container's cgroup is gone
        }
      }
      return cgroupDirs(top).length === 0 ? true : undefined;
    });
  });

  test("the pause container and every container of the pod run under the sandbox's cgroup_parent", async () => {
    const suffix = uniqueSuffix();
    const uid = `uid-${suffix}`;
    const cgroupParent = `/${top}/pod${uid}`;
    const { id: podId, config: podConfig } = await pods.pod('cgroup', {
      metadata: { name: `cgroup-${suffix}`, namespace: 'e2e', uid, attempt: 0 },
      linux: { cgroupParent },
    });
    // One container with the sandbox config in its request (as a kubelet sends), one without: the sandbox's stored config then says.
    const withConfig = await pods.container(podId, podConfig, shellContainer('with-config', 'sleep 1000'), true);
    const { containerId: withoutConfig } = await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('without-config', 'sleep 1000') });
    pods.created.push(withoutConfig);
    await server.client.callRuntime('StartContainer', { containerId: withoutConfig });

    for (const [what, id] of [['pause container', podId], ['container (sandbox config in the request)', withConfig], ['container (no sandbox config in the request)', withoutConfig]] as const) {
      const inspect = (await dockerInspect(id))!;
      assert.equal(inspect.HostConfig.CgroupParent, cgroupParent, `${what}: HostConfig.CgroupParent`);
      assert.ok(inspect.State.Pid > 0, `${what} runs`);
      const cgroups = processCgroups(inspect.State.Pid);
      const controllers = cgroups.has('memory') ? ['memory', 'cpu'] : ['unified'];
      for (const controller of controllers) assert.equal(cgroups.get(controller), `${cgroupParent}/${id}`, `${what}: its ${controller} cgroup`);
    }
    assert.ok(cgroupDirs(join(top, `pod${uid}`)).length > 0, 'the pod cgroup exists on the host');
  });
});
