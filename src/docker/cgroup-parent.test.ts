import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dockerCgroupParent } from './cgroup-parent.js';

describe('dockerCgroupParent', () => {
  test('systemd: a systemd-style path gives its slice name, as cri-dockerd and containerd take it', () => {
    assert.equal(dockerCgroupParent('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice', 'systemd'), 'kubepods-burstable-pod123.slice');
    assert.equal(dockerCgroupParent('/kubepods.slice/kubepods-pod1234_abcd.slice', 'systemd'), 'kubepods-pod1234_abcd.slice');
    assert.equal(dockerCgroupParent('kubepods-besteffort.slice', 'systemd'), 'kubepods-besteffort.slice');
  });

  test("systemd: a cgroupfs-style path becomes the slice the kubelet's ToSystemd names, dashes escaped", () => {
    assert.equal(dockerCgroupParent('/kubepods/burstable/pod123', 'systemd'), 'kubepods-burstable-pod123.slice');
    assert.equal(dockerCgroupParent('/kubepods/burstable/pod1234-abcd-5678', 'systemd'), 'kubepods-burstable-pod1234_abcd_5678.slice');
    assert.equal(dockerCgroupParent('/kubepods/pod-1/', 'systemd'), 'kubepods-pod_1.slice', 'trailing slash');
    assert.equal(dockerCgroupParent('kubepods//besteffort/pod9', 'systemd'), 'kubepods-besteffort-pod9.slice', 'relative, doubled slash');
    assert.equal(dockerCgroupParent('/kubepods.slice/kubepods-burstable.slice/pod123', 'systemd'), 'kubepods-burstable-pod123.slice', 'slices on the way stand for their last step');
    assert.equal(dockerCgroupParent('/', 'systemd'), '-.slice');
  });

  test('cgroupfs, or a driver not known yet: the path as it is, slice-style names too', () => {
    assert.equal(dockerCgroupParent('/kubepods/burstable/pod123', 'cgroupfs'), '/kubepods/burstable/pod123');
    assert.equal(dockerCgroupParent('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice', 'cgroupfs'), '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice');
    assert.equal(dockerCgroupParent('/kubepods/pod-1', ''), '/kubepods/pod-1');
  });

  test('no cgroup parent is none, whatever the driver', () => {
    assert.equal(dockerCgroupParent('', 'systemd'), '');
    assert.equal(dockerCgroupParent('', 'cgroupfs'), '');
  });
});
