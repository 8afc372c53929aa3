// ESLint (flat config): typescript-eslint's recommended rules on src/ and test/, ESLint's on the
// scripts, and the layering rule of STYLE.md: imports only point down.
//   cli -> cri, streaming, common; server -> cri, streaming, docker, common; docker -> cri, common;
//   cri, streaming -> common; common -> nothing of ours. src/mascri.ts (the executable) joins them all.
// And src/docker is the only place that starts a process on the host: no other layer imports
// node:child_process or execa (tests may: they start servers and helpers of their own).
// dependency-cruiser (.dependency-cruiser.cjs, `npm run deps`) checks the same over the whole graph,
// and what a per-file rule cannot see: import cycles, and product code loading test-only modules.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** An import of `layer` from anywhere below src/ (any depth of ../), refused with why. */
function refuse(layer, why) {
  return { group: [`**/${layer}/**`], message: `${why} (STYLE.md: imports only point down).` };
}

/** Process starts: only src/docker may import these. */
const PROCESS_MODULES = ['node:child_process', 'child_process', 'execa'].map((name) => ({
  name,
  message: 'only src/docker starts processes on the host (docker, nsenter, the pty helper): ask the Docker adapter (STYLE.md: the single door to Docker).',
}));

/**
 * The layering rule for the files of one layer; with `noProcesses`, its code (not its tests) may
 * not start processes either. One config per file set: a later no-restricted-imports replaces an earlier one.
 */
function layer(dir, refused, { noProcesses = false } = {}) {
  const files = [`src/${dir}/**/*.ts`];
  if (!noProcesses) return { files, rules: { 'no-restricted-imports': ['error', { patterns: refused }] } };
  return [
    { files, ignores: ['**/*.test.ts'], rules: { 'no-restricted-imports': ['error', { patterns: refused, paths: PROCESS_MODULES }] } },
    { files: [`src/${dir}/**/*.test.ts`], rules: { 'no-restricted-imports': ['error', { patterns: refused }] } },
  ];
}

const server = (who) => refuse('server', `${who} may not import src/server`);
const docker = (who) => refuse('docker', `${who} may not import src/docker`);
const cli = (who) => refuse('cli', `${who} may not import src/cli`);
const streaming = (who) => refuse('streaming', `${who} may not import src/streaming`);
const cri = (who) => refuse('cri', `${who} may not import src/cri`);

export default tseslint.config(
  // dist/ is build output; src/cri/generated/ is written by `npm run gen:types`, not by hand.
  { ignores: ['dist/', 'node_modules/', 'src/cri/generated/'] },
  {
    files: ['scripts/**/*.mjs', 'bin/mascri', 'eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
  },
  {
    files: ['.dependency-cruiser.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: globals.node },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      // `_`-prefixed names are unused on purpose: a parameter a signature needs, a field left out of a rest copy.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A variable a callback may read before its one assignment stays `let`: as a const it would be
      // in its temporal dead zone then, and the read would throw (remote-command.ts's applySize).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  layer('server', [cli('src/server')], { noProcesses: true }),
  layer('cli', [server('src/cli (the client)'), docker('src/cli (the client)')], { noProcesses: true }),
  layer('docker', [server('src/docker'), cli('src/docker'), streaming('src/docker')]),
  layer('cri', [server('src/cri'), docker('src/cri'), cli('src/cri'), streaming('src/cri')], { noProcesses: true }),
  layer('streaming', [server('src/streaming'), docker('src/streaming'), cli('src/streaming'), cri('src/streaming')], { noProcesses: true }),
  layer('common', [server('src/common'), docker('src/common'), cli('src/common'), streaming('src/common'), cri('src/common')], { noProcesses: true }),
  // src/mascri.ts joins the layers but starts nothing itself.
  { files: ['src/mascri.ts'], rules: { 'no-restricted-imports': ['error', { paths: PROCESS_MODULES }] } },
);
