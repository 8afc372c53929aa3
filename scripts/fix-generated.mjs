// proto-loader-gen-types writes extensionless relative imports; NodeNext ESM needs ".js".
//   node scripts/fix-generated.mjs [DIR]   (DIR: src/cri/generated; scripts/check-generated.mjs passes a temporary one)
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts')) {
      const text = readFileSync(path, 'utf8').replace(/from '(\.{1,2}\/[^']+?)(?<!\.js)'/g, "from '$1.js'");
      writeFileSync(path, text);
    }
  }
}
walk(process.argv[2] ?? 'src/cri/generated');
