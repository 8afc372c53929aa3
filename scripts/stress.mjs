// The end-to-end suite with CPU burners beside it (issue 14: right answers on a loaded machine).
//   node scripts/stress.mjs [BURNERS]   (default 3: `yes >/dev/null` processes, one more than the cores)
// Runs `node scripts/run-tests.mjs e2e` and stops the burners whatever happens; exits with its code.
import { spawn, spawnSync } from 'node:child_process';

const count = Number(process.argv[2] ?? process.env.STRESS_BURNERS ?? 3);
const burners = Array.from({ length: count }, () => spawn('yes', [], { stdio: ['ignore', 'ignore', 'ignore'] }));
const stop = () => burners.forEach((burner) => burner.kill('SIGKILL'));
process.on('exit', stop);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
console.log(`stress: ${count} CPU burners beside the e2e suite`);
const result = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'e2e'], { stdio: 'inherit' });
stop();
process.exit(result.status ?? 1);
