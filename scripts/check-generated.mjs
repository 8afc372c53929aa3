// CI check (part of `npm run lint`): the CRI contract is upstream's file unchanged, and the committed
// TypeScript types are what it generates.
//   1. src/cri/api.proto has the sha256 that src/cri/README.md records for the k8s.io/cri-api release;
//   2. that release is the one of the pinned kubelet (scripts/kube-release.env: v1.X.Y -> v0.X.Y);
//   3. `npm run gen:types` into a temporary directory gives exactly src/cri/generated (no file
//      changed, missing or left over).
// Exits 1 with what differs and how to fix it.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROTO = 'src/cri/api.proto';
const GENERATED = 'src/cri/generated';
const failures = [];

// "Upstream: k8s.io/cri-api v0.37.2, pkg/apis/runtime/v1/api.proto, sha256 <64 hex>"
const readme = readFileSync('src/cri/README.md', 'utf8');
const pin = /^Upstream: k8s\.io\/cri-api (v\S+), pkg\/apis\/runtime\/v1\/api\.proto, sha256 ([0-9a-f]{64})$/m.exec(readme);
if (!pin) {
  failures.push('src/cri/README.md has no "Upstream: k8s.io/cri-api vX.Y.Z, pkg/apis/runtime/v1/api.proto, sha256 <hex>" line');
} else {
  const [, version, sha256] = pin;
  const actual = createHash('sha256').update(readFileSync(PROTO)).digest('hex');
  if (actual !== sha256) {
    failures.push(
      `${PROTO} is not k8s.io/cri-api ${version}'s file: its sha256 is ${actual}, the recorded one ${sha256}.\n` +
        `  The proto is upstream's, verbatim: put mascri's notes in src/cri/README.md or the code, and restore the file\n` +
        `  (see src/cri/README.md, "Upgrading"); after an upgrade, record the new sha256 there.`,
    );
  }
  const kube = /^KUBE_VERSION=v1\.(\d+)\.(\d+)$/m.exec(readFileSync('scripts/kube-release.env', 'utf8'));
  if (!kube) failures.push('scripts/kube-release.env has no KUBE_VERSION=v1.X.Y line');
  else if (`v0.${kube[1]}.${kube[2]}` !== version) {
    failures.push(`the pinned kubelet is v1.${kube[1]}.${kube[2]} (scripts/kube-release.env), whose CRI is k8s.io/cri-api v0.${kube[1]}.${kube[2]}, but ${PROTO} is ${version}'s: upgrade the proto with it (src/cri/README.md, "Upgrading")`);
  }
}

// The generator writes "// Original file: <input path>" into every file: run it from the same
// directory with the same input path, into a temporary output directory.
const out = mkdtempSync(join(tmpdir(), 'mascri-generated-'));
try {
  const gen = spawnSync(
    join('node_modules', '.bin', 'proto-loader-gen-types'),
    ['--grpcLib=@grpc/grpc-js', '--longs=String', '--enums=String', '--defaults', '--oneofs', '--inputTemplate=%s', '--outputTemplate=%s__Output', '-O', out, PROTO],
    { encoding: 'utf8' },
  );
  if (gen.status !== 0) throw new Error(`proto-loader-gen-types failed:\n${gen.stderr}`);
  execFileSync(process.execPath, ['scripts/fix-generated.mjs', out]);
  if (JSON.parse(readFileSync('package.json', 'utf8')).scripts['gen:types'].includes(`-O ${GENERATED} ${PROTO}`) === false) {
    failures.push('package.json\'s gen:types no longer writes src/cri/generated from src/cri/api.proto: keep it and this check in step');
  }
  const diff = spawnSync('diff', ['-ru', GENERATED, out], { encoding: 'utf8' });
  if (diff.status === 1) {
    const text = diff.stdout.split(out).join('(regenerated)');
    const lines = text.split('\n');
    failures.push(
      `${GENERATED} differs from what ${PROTO} generates: run \`npm run gen:types\` and commit the result` +
        ` (delete ${GENERATED} first if a type was removed).\n` +
        lines.slice(0, 200).join('\n') + (lines.length > 200 ? `\n... (${lines.length - 200} more lines)` : ''),
    );
  } else if (diff.status !== 0) {
    throw new Error(`diff failed: ${diff.stderr}`);
  }
} finally {
  if (existsSync(out)) rmSync(out, { recursive: true, force: true });
}

if (failures.length > 0) {
  for (const failure of failures) console.error(`check-generated: ${failure}`);
  process.exit(1);
}
console.log(`check-generated: ${PROTO} is k8s.io/cri-api ${pin[1]}'s, and ${GENERATED} is what it generates`);
