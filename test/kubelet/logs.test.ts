/** Container logs under a real kubelet: rotation through ReopenContainerLog keeps every line once, in order. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { waitFor } from '../helpers.js';
import { busybox, KubeletNode, staticPod } from './node.js';

let node: KubeletNode;
const LINES = 3000;

before(async () => {
  // A small maximum size and the shortest check interval the kubelet allows: several rotations in seconds.
  node = await KubeletNode.up({ env: { KUBELET_LOG_MAX_SIZE: '16Ki', KUBELET_LOG_MAX_FILES: '50', KUBELET_LOG_MONITOR_INTERVAL: '3s' } });
});

after(async () => {
  await node?.down();
});

/** The content of every CRI log line in a file (stream and tag checked), in order. */
function criLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^\S+ (stdout|stderr) ([FP]) (.*)$/.exec(line);
      assert.ok(match, `not a CRI log line: ${line.slice(0, 120)}`);
      return match[3]!;
    });
}

test('with a small containerLogMaxSize the kubelet rotates a chatty container\'s log, and the files hold every line once, in order', async () => {
  const script = `i=0; while [ $i -lt ${LINES} ]; do i=$((i+1)); echo "line $i $(printf '%040d' $i)"; [ $((i % 20)) -eq 0 ] && usleep 100000; done; echo done; exec sleep 3600`;
  node.applyPod(staticPod('chatty', [busybox('main', script)]));
  const pod = await node.waitForRunning('chatty');
  const dir = join(node.dir, 'pod-logs', `default_${pod.metadata.name}_${pod.metadata.uid}`, 'main');
  const current = join(dir, '0.log');
  await waitFor('the last line in the current log file', async () => (existsSync(current) && readFileSync(current, 'utf8').includes(' F done\n') ? true : undefined), 180_000);
  // The kubelet compresses a rotated file to a .tmp, renames it to .gz and then removes the
  // original: read once no file is half-way through that.
  const rotated = await waitFor(
    'the rotated files to settle',
    async () => {
      const names = readdirSync(dir).filter((name) => name.startsWith('0.log.'));
      const settled = names.every((name) => /^0\.log\.\d{8}-\d{6}(\.gz)?$/.test(name) && !(name.endsWith('.gz') ? false : names.includes(`${name}.gz`)));
      return settled ? names.sort() : undefined; // the suffix is a timestamp (YYYYMMDD-hhmmss), so names sort by age
    },
    60_000,
  );
  assert.ok(rotated.length >= 2, `the kubelet rotated the log at least twice (files: ${readdirSync(dir).join(', ')})`);
  assert.ok(rotated.some((name) => name.endsWith('.gz')), 'older rotations are compressed');
  const lines: string[] = [];
  const parts: string[] = [];
  for (const name of [...rotated, '0.log']) {
    const bytes = readFileSync(join(dir, name));
    const part = criLines((name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8'));
    parts.push(`${name}: ${part.length} lines, ${part[0]?.split(' ').slice(0, 2).join(' ')} .. ${part.at(-1)?.split(' ').slice(0, 2).join(' ')}`);
    lines.push(...part);
  }
  const expected = Array.from({ length: LINES }, (_, i) => `line ${i + 1} ${String(i + 1).padStart(40, '0')}`);
  expected.push('done');
  assert.equal(lines.length, expected.length, `every line once (files: ${parts.join('; ')})`);
  assert.deepEqual(lines, expected, 'in order');
  assert.doesNotMatch(node.kubeletLog(), /Failed to rotate log|reopen container log failed/, 'every ReopenContainerLog succeeded');
  // The kubelet still reads the current file.
  const tail = await node.containerLogs('chatty', 'main', 'tailLines=1');
  assert.equal(tail, 'done\n');
});
