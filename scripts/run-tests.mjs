// Runs the compiled tests with node's test runner.
//   node scripts/run-tests.mjs          unit tests, then end-to-end tests
//   node scripts/run-tests.mjs unit     unit tests only (no Docker needed)
//   node scripts/run-tests.mjs e2e      end-to-end tests only (needs scripts/setup.sh first)
//   node scripts/run-tests.mjs kubelet  the kubelet suite: a real kubelet on mascri (test/kubelet/)
//   node scripts/run-tests.mjs cluster  the cluster suite: kubectl against a cluster on mascri (test/cluster/)
// Unit tests live beside the code (src/**/*.test.ts); end-to-end tests in test/e2e/.
// End-to-end files run one at a time: they share one Docker engine.
// When PATH finds a docker CLI other than the engine package's own (/usr/bin/docker: Debian's
// docker.io ships the 20.10 CLI), the core end-to-end files run a second time with that one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const which = process.argv[2] ?? 'all';
const filter = process.argv[3];

function find(dir, out = []) {
  let names = [];
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) find(path, out);
    else if (name.endsWith('.test.js') && (!filter || path.includes(filter))) out.push(path);
  }
  return out.sort();
}

const suites = [];
if (which === 'all' || which === 'unit') suites.push({ name: 'unit', files: find('dist/src'), concurrency: 4 });
if (which === 'all' || which === 'e2e') suites.push({ name: 'e2e', files: find('dist/test/e2e'), concurrency: 1 });
// The kubelet suite (npm run test:kubelet) is not part of 'all': it needs the Kubernetes build.
if (which === 'kubelet') suites.push({ name: 'kubelet', files: find('dist/test/kubelet'), concurrency: 1 });
// The cluster suite (npm run test:cluster): a Kubernetes cluster of host processes on mascri (test/cluster/).
if (which === 'cluster') suites.push({ name: 'cluster', files: find('dist/test/cluster'), concurrency: 1 });

// The kubelet files add their kubelet's log here (test/kubelet/node.ts); counted at the end.
const KUBELET_SUITE_LOG = join(process.env.MASCRI_KUBELET_DIR ?? '/var/lib/mascri-kubelet', 'logs', 'suite-kubelet.log');
if (which === 'kubelet') rmSync(KUBELET_SUITE_LOG, { force: true });

const tapDir = mkdtempSync(join(tmpdir(), 'mascri-tests-'));

const ENGINE_CLI = '/usr/bin/docker';
const CORE_E2E = ['sandboxes', 'containers', 'images', 'system-paths', 'exec-sync', 'logs', 'docker-down', 'cli-golden'];
const cliVersion = (binary) => spawnSync(binary, ['version', '--format', '{{.Client.Version}}'], { encoding: 'utf8' }).stdout?.trim() ?? '';
if ((which === 'all' || which === 'e2e') && existsSync(ENGINE_CLI)) {
  const engineVersion = cliVersion(ENGINE_CLI);
  const pathVersion = cliVersion('docker');
  if (engineVersion && engineVersion !== pathVersion) {
    // A directory holding only that CLI, put first on PATH for mascri and the tests alike.
    const binDir = join(tapDir, 'engine-cli');
    mkdirSync(binDir);
    symlinkSync(ENGINE_CLI, join(binDir, 'docker'));
    const files = find('dist/test/e2e').filter((path) => CORE_E2E.some((name) => path.endsWith(`/${name}.test.js`)));
    if (files.length > 0) suites.push({ name: `e2e with the docker CLI ${engineVersion} (${ENGINE_CLI}; PATH has ${pathVersion})`, files, concurrency: 1, env: { PATH: `${binDir}:${process.env.PATH}` } });
  }
}

let passed = 0, failed = 0, skipped = 0, ok = true;
for (const suite of suites) {
  if (suite.files.length === 0) { console.error(`no ${suite.name} test files found (did the build run?)`); ok = false; continue; }
  console.log(`\n=== ${suite.name} tests (${suite.files.length} files) ===`);
  const tap = join(tapDir, `${suites.indexOf(suite)}.tap`);
  const result = spawnSync(process.execPath, [
    '--test', `--test-concurrency=${suite.concurrency}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...suite.files,
  ], { stdio: 'inherit', env: { ...process.env, NO_COLOR: '1', ...suite.env } });
  const text = readFileSync(tap, 'utf8');
  const count = (key) => Number((text.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  passed += count('pass'); failed += count('fail'); skipped += count('skipped') + count('todo');
  if (result.status !== 0) ok = false;
}
rmSync(tapDir, { recursive: true, force: true });
if (which === 'kubelet') spawnSync(process.execPath, ['scripts/kubelet-log-errors.mjs', KUBELET_SUITE_LOG], { stdio: 'inherit' });
if (process.env.CI && skipped > 0) { console.error(`${skipped} tests were skipped; no test may be skipped in CI`); ok = false; }
console.log(`\n${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(ok && failed === 0 && passed > 0 ? 0 : 1);
