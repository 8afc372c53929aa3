// dependency-cruiser (`npm run deps`, part of `npm run lint`): the dependency rules of STYLE.md over
// the module graph, which ESLint's per-file no-restricted-imports cannot see (cycles above all).
//   Imports only point down: cli -> cri, streaming, common; server -> cri, streaming, docker, common;
//   docker -> cri, common; cri, streaming -> common; common -> nothing of ours.
//   Only src/docker starts processes; product code never loads a test-only module.
// Type-only imports count: a cycle of types still ties two modules together, and the cure (the type
// moves to the module it describes, or below both) is the same as for a value cycle.

/** Everything a test may do that product code may not: src/**\/*.test.ts and the whole of test/. */
const TESTS = ['\\.test\\.ts$', '^test/'];

/** The modules only tests may load: the in-memory Docker, the ServerContext built on it, tests and their helpers. */
const TEST_ONLY = ['^src/docker/fake-adapter\\.ts$', '^src/server/testing/', ...TESTS];

/** A rule that `from` (a layer under src/) may not depend on the `refused` layers. */
function layer(from, refused, why) {
  return {
    name: `${from}-not-to-${refused.join('-')}`,
    comment: `${why} (STYLE.md: imports only point down).`,
    severity: 'error',
    from: { path: `^src/${from}/` },
    to: { path: `^src/(${refused.join('|')})/` },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: move what both modules need to the one it belongs to, or below both.',
      severity: 'error',
      from: { path: '^(src|test)/' },
      to: { circular: true },
    },
    layer('docker', ['server', 'cli', 'streaming'], 'src/docker is the door to the host; it knows nothing of who uses it'),
    layer('cli', ['server', 'docker'], 'src/cli is a client: it speaks the CRI over the socket, never to Docker or the server directly'),
    layer('server', ['cli'], 'src/server does not use the client'),
    layer('cri', ['server', 'docker', 'cli', 'streaming'], 'src/cri is the contract both sides share'),
    layer('streaming', ['server', 'docker', 'cli', 'cri'], 'src/streaming holds wire protocols both sides speak'),
    layer('common', ['server', 'docker', 'cli', 'streaming', 'cri'], 'src/common is below every layer'),
    {
      name: 'only-docker-starts-processes',
      comment:
        'Only src/docker starts processes on the host (docker, nsenter, the pty helper): ask the Docker adapter. ' +
        'Tests are excepted: they start servers, kubelets and helpers of their own.',
      severity: 'error',
      from: { path: '^(src|test)/', pathNot: ['^src/docker/', ...TESTS] },
      to: { path: ['^(node:)?child_process$', '(^|/)node_modules/execa/'] },
    },
    {
      name: 'no-test-only-in-product',
      comment: 'src/docker/fake-adapter.ts, src/server/testing/ and test/ are for tests: product code takes the real adapter.',
      severity: 'error',
      from: { path: '^src/', pathNot: [...TESTS, ...TEST_ONLY] },
      to: { path: TEST_ONLY },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve: the rules above would not see where it points.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports (`import type`) are dependencies too; see the top of this file.
    tsPreCompilationDeps: true,
    // The sources import './x.js' for './x.ts' (NodeNext): resolve them as tsc does.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
