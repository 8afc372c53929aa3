import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kernelLogHasOomKill, readKernelLog } from './kernel-log.js';

const ID = '82a5efadd2cd50a01619426a0ff881665064a1f3817e615f15262cb8f5f36722';

test('an oom-kill record names the container in its task or OOM memory cgroup', () => {
  const record = (memcg: string) => `6,1234,5780559613,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=${ID},mems_allowed=0,oom_memcg=${memcg},task_memcg=${memcg},task=dd,pid=11596,uid=0`;
  assert.ok(kernelLogHasOomKill([record(`/docker/${ID}`)], ID), 'cgroupfs driver');
  assert.ok(kernelLogHasOomKill([record(`/kubepods/burstable/podx/${ID}`)], ID), 'under a pod cgroup');
  assert.ok(kernelLogHasOomKill([record(`/system.slice/docker-${ID}.scope`)], ID), 'systemd driver');
  const podLimit = `oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/kubepods/burstable/podx,task_memcg=/kubepods/burstable/podx/${ID},task=dd`;
  assert.ok(kernelLogHasOomKill([podLimit], ID), 'the pod-level limit was hit, the task was the container\'s');
  assert.ok(!kernelLogHasOomKill([record(`/docker/${'f'.repeat(64)}`)], ID), 'another container');
  assert.ok(!kernelLogHasOomKill([`Memory cgroup out of memory: Killed process 11596 (dd) ${ID}`], ID), 'only oom-kill records count');
  assert.ok(!kernelLogHasOomKill([record(`/docker/${ID}`)], 'not-an-id'));
});

test('reading the kernel log answers records or nothing, never throws', () => {
  const records = readKernelLog(50);
  assert.ok(Array.isArray(records) && records.length <= 50);
});
