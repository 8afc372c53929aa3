/** The node scripts refuse clearly: one error line that says what to do, and nothing left running. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { execa } from 'execa';
import { SCRIPTS } from './node.js';

const dirs: string[] = [];
after(async () => {
  await execa('bash', [join(SCRIPTS, 'kubelet-down.sh')], { reject: false, env: { ...process.env, MASCRI_KUBELET_DIR: '/var/lib/mascri-kubelet-refusals' } });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function script(name: string, env: Record<string, string>): Promise<{ code: number; errorLines: string[] }> {
  const result = await execa('bash', [join(SCRIPTS, name)], { reject: false, env: { ...process.env, ...env }, timeout: 300_000 });
  return { code: result.exitCode ?? -1, errorLines: String(result.stderr).split('\n').filter((line) => /error/i.test(line)) };
}

test('kubelet-up without a running engine: one error line naming the set-up script', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-no-engine-'));
  dirs.push(dir);
  const { code, errorLines } = await script('kubelet-up.sh', { DOCKER_HOST: `unix://${dir}/docker.sock`, MASCRI_KUBELET_DIR: join(dir, 'node') });
  assert.equal(code, 1);
  assert.equal(errorLines.length, 1, errorLines.join('\n'));
  assert.match(errorLines[0]!, /no Docker engine answers.*scripts\/setup\.sh/);
});

test('a build of a release the Go module proxy does not have: one error line naming the module and version', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'mascri-kube-cache-'));
  dirs.push(cache);
  const { code, errorLines } = await script('kube-build.sh', { MASCRI_KUBE_CACHE: cache, MASCRI_KUBE_VERSION: 'v1.37.99' });
  assert.equal(code, 1);
  assert.equal(errorLines.length, 1, errorLines.join('\n'));
  assert.match(errorLines[0]!, /could not get k8s\.io\/kubernetes@v1\.37\.99 from the Go module proxy \(.*(not available|not found|Forbidden|404).*\).*kube-release\.env/);
});

test('a kubelet that cannot reach its runtime: one error line naming the endpoint, and no kubelet left running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-no-runtime-'));
  dirs.push(dir);
  const endpoint = `unix://${dir}/nothing.sock`;
  const env = { MASCRI_KUBELET_DIR: '/var/lib/mascri-kubelet-refusals', KUBELET_RUNTIME_ENDPOINT: endpoint, KUBELET_PORT: '10350', KUBELET_READONLY_PORT: '10355', KUBELET_HEALTHZ_PORT: '10348' };
  const { code, errorLines } = await script('kubelet-up.sh', env);
  assert.equal(code, 1);
  assert.equal(errorLines.length, 1, errorLines.join('\n'));
  assert.ok(errorLines[0]!.includes(`cannot reach its container runtime at ${endpoint}`), errorLines[0]);
  const healthz = await fetch('http://127.0.0.1:10348/healthz').then(() => 'answered', () => 'refused');
  assert.equal(healthz, 'refused', 'the kubelet was stopped');
});
