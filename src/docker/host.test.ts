import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { diskUsage, LocalHost, readSmallText } from './host.js';

test('disk usage counts allocated blocks and inodes, hard links once, without following symlinks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-layer-'));
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'data'), Buffer.alloc(64 * 1024, 1));
    linkSync(join(dir, 'sub', 'data'), join(dir, 'hardlink'));
    symlinkSync('/usr', join(dir, 'link-to-usr'));
    const usage = await diskUsage(dir);
    assert.equal(usage.inodes, 4n, 'dir, sub, data (once), the symlink');
    assert.ok(usage.bytes >= 64n * 1024n, `${usage.bytes} bytes`);
    assert.ok(usage.bytes < 1024n * 1024n, 'the symlink target is not walked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('small-file reads return the whole text across their 4 KiB buffer, a multi-byte character split included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-small-'));
  try {
    const texts: Record<string, string> = {
      empty: '',
      line: '12345\n',
      exact: 'a'.repeat(4096),
      over: 'b'.repeat(4095) + 'é' + 'c'.repeat(10), // 'é' is 2 bytes: its first byte ends the first 4 KiB
      large: 'memory.stat '.repeat(2000),
    };
    for (const [name, text] of Object.entries(texts)) writeFileSync(join(dir, name), text);
    for (const [name, text] of Object.entries(texts)) assert.equal(await readSmallText(join(dir, name)), text, name);
    assert.equal(await readSmallText(join(dir, 'absent')), undefined);
    assert.equal(await readSmallText(dir), undefined, 'a directory cannot be read');
    const status = await readSmallText('/proc/self/status'); // size 0 in stat, like every /proc and cgroup file
    assert.match(status ?? '', /^Name:.*\n[\s\S]*VmRSS:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('many small-file reads at once all answer, each its own file, and later reads still run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-small-'));
  try {
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, String(i)), `file ${i}\n`.repeat(i * 20));
    const paths = Array.from({ length: 200 }, (_, i) => join(dir, String(i % 60))); // 10 of each 60 do not exist
    const texts = await Promise.all(paths.map((path) => readSmallText(path)));
    texts.forEach((text, i) => assert.equal(text, i % 60 < 50 ? `file ${i % 60}\n`.repeat((i % 60) * 20) : undefined, paths[i]));
    assert.equal(await readSmallText(join(dir, '7')), 'file 7\n'.repeat(140));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing directory walks to nothing', async () => {
  assert.deepEqual(await diskUsage('/nonexistent/mascri'), { bytes: 0n, inodes: 0n });
});

test('the local host reads /proc files by pid and name, and answers undefined for what is not there', async () => {
  const proc = mkdtempSync(join(tmpdir(), 'mascri-proc-'));
  try {
    mkdirSync(join(proc, '42', 'net'), { recursive: true });
    writeFileSync(join(proc, '42', 'net', 'dev'), 'counters');
    mkdirSync(join(proc, 'self'));
    writeFileSync(join(proc, 'self', 'mountinfo'), 'mounts');
    const host = new LocalHost(proc);
    assert.equal(await host.readProcFile(42, 'net/dev'), 'counters');
    assert.equal(await host.readProcFile('self', 'mountinfo'), 'mounts');
    assert.equal(await host.readProcFile(43, 'cgroup'), undefined);
    assert.equal(await host.readCgroupFile(join(proc, 'none')), undefined);
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
});

test('the grants come from the dockerd process when /proc has one, else from mascri', async () => {
  const proc = mkdtempSync(join(tmpdir(), 'mascri-proc-'));
  try {
    for (const [pid, comm, capBnd, oom] of [['7', 'dockerd', '00000000a80425fb', '-500'], ['self', 'node', '00000000a80425fb', '0']] as const) {
      mkdirSync(join(proc, pid));
      writeFileSync(join(proc, pid, 'comm'), `${comm}\n`);
      writeFileSync(join(proc, pid, 'status'), `Name:\t${comm}\nCapBnd:\t${capBnd}\n`);
      writeFileSync(join(proc, pid, 'oom_score_adj'), `${oom}\n`);
    }
    const grants = await new LocalHost(proc).grants(undefined);
    assert.equal(grants.minOomScoreAdj, -500);
    assert.equal(grants.privilegedAllowed, false, "dockerd's bounding set lacks capabilities");
    rmSync(join(proc, '7'), { recursive: true });
    assert.equal((await new LocalHost(proc).grants(undefined)).minOomScoreAdj, 0);
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
});

test('commandOnPath finds executables on PATH', async () => {
  const host = new LocalHost();
  assert.equal(await host.commandOnPath('sh'), true);
  assert.equal(await host.commandOnPath('no-such-command-mascri'), false);
});
