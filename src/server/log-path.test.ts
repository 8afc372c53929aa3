import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { refuseSymlinkedLogPath, resolveLogPath } from './log-path.js';

test('a relative log_path lands inside the log directory', () => {
  assert.equal(resolveLogPath('/var/log/pods/p', 'c/0.log'), '/var/log/pods/p/c/0.log');
  assert.equal(resolveLogPath('/var/log/pods/p/', './c/../d/1.log'), '/var/log/pods/p/d/1.log');
  assert.equal(resolveLogPath('/var/log/pods/p', ''), '');
  assert.equal(resolveLogPath('', 'c/0.log'), '', 'no log directory: no log file');
});

test('a log_path that is absolute or climbs out is INVALID_ARGUMENT naming the field', () => {
  for (const bad of ['../../tmp/x.log', '..', 'c/../../x.log', '.', 'c/..']) {
    assert.throws(() => resolveLogPath('/var/log/pods/p', bad), /config\.log_path .* leaves the pod's log_directory/, bad);
  }
  assert.throws(() => resolveLogPath('/var/log/pods/p', '/tmp/x.log'), /config\.log_path "\/tmp\/x\.log" must be relative/);
  assert.throws(() => resolveLogPath('', '/tmp/x.log'), /must be relative/);
  assert.throws(() => resolveLogPath('/var/log/pods/p', 'a\0b'), /NUL/);
});

const dir = mkdtempSync(join(tmpdir(), 'mascri-log-path-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a symbolic link anywhere below the log directory is refused; missing components are fine', async () => {
  const logs = join(dir, 'pod');
  const outside = join(dir, 'outside');
  mkdirSync(join(logs, 'real'), { recursive: true });
  mkdirSync(outside);
  symlinkSync(outside, join(logs, 'evil'));
  writeFileSync(join(outside, 'f'), '');
  symlinkSync(join(outside, 'f'), join(logs, 'real', 'link.log'));
  await refuseSymlinkedLogPath(logs, resolveLogPath(logs, 'real/0.log'), 'real/0.log');
  await refuseSymlinkedLogPath(logs, resolveLogPath(logs, 'new/dir/0.log'), 'new/dir/0.log');
  await assert.rejects(refuseSymlinkedLogPath(logs, resolveLogPath(logs, 'evil/0.log'), 'evil/0.log'), /goes through the symbolic link .*evil/);
  await assert.rejects(refuseSymlinkedLogPath(logs, resolveLogPath(logs, 'real/link.log'), 'real/link.log'), /symbolic link .*link\.log/);
});
