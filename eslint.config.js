// ESLint (flat config): typescript-eslint's recommended rules on src/ and test/, ESLint's on the
// scripts, and the layering rule of STYLE.md: imports only point down.
//   cli -> cri, streaming, common; server -> cri, streaming, docker, common; docker -> cri, common;
//   cri, streaming -> common; common -> nothing of ours. src/mascri.ts (the executable) joins them all.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** An import of `layer` from anywhere below src/ (any depth of ../), refused with why. */
function refuse(layer, why) {
  return { group: [`**/${layer}/**`], message: `${why} (STYLE.md: imports only point down).` };
}

/** The layering rule for the files of one layer. */
function layer(dir, refused) {
  return { files: [`src/${dir}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns: refused }] } };
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
  layer('server', [cli('src/server')]),
  layer('cli', [server('src/cli (the client)'), docker('src/cli (the client)')]),
  layer('docker', [server('src/docker'), cli('src/docker'), streaming('src/docker')]),
  layer('cri', [server('src/cri'), docker('src/cri'), cli('src/cri'), streaming('src/cri')]),
  layer('streaming', [server('src/streaming'), docker('src/streaming'), cli('src/streaming'), cri('src/streaming')]),
  layer('common', [server('src/common'), docker('src/common'), cli('src/common'), streaming('src/common'), cri('src/common')]),
);
