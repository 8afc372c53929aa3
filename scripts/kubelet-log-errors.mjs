// Counts the CRI errors in a kubelet log (lines with "rpc error", "Unimplemented" or "failed to"),
// grouped by kind: the kubelet's message and, for an RPC, the gRPC code and the CRI method.
//   node scripts/kubelet-log-errors.mjs [LOG]   (default: /var/lib/mascri-kubelet/logs/suite-kubelet.log)
// Prints one line per kind, most frequent first, then the total. Exits 0: this is a report.
import { existsSync, readFileSync } from 'node:fs';

const path = process.argv[2] ?? '/var/lib/mascri-kubelet/logs/suite-kubelet.log';
if (!existsSync(path)) {
  console.log(`kubelet log: ${path} does not exist (no kubelet ran)`);
  process.exit(0);
}
const kinds = new Map();
let total = 0;
for (const line of readFileSync(path, 'utf8').split('\n')) {
  if (!/rpc error|Unimplemented|failed to/i.test(line)) continue;
  total++;
  kinds.set(kindOf(line), (kinds.get(kindOf(line)) ?? 0) + 1);
}
console.log(`kubelet log: ${total} CRI error lines in ${path}`);
for (const [kind, count] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`${String(count).padStart(6)}  ${kind}`);

/** The klog message, the gRPC code and what failed, without IDs, names and numbers. */
export function kindOf(line) {
  const quoted = /\] "((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
  // Lines without a quoted message (grpc-go's own logging): the text after the source location, without numbers.
  const message = quoted ?? (/\] (.*)$/.exec(line)?.[1] ?? line).replace(/#\d+/g, '#N').replace(/\d+/g, 'N').slice(0, 100);
  const code = /code = (\w+)/.exec(line)?.[1];
  const failed = /failed to \\?"?(\w+)/i.exec(line)?.[1];
  return [message, code && `code=${code}`, failed && !message.toLowerCase().includes(`failed to ${failed.toLowerCase()}`) && `failed to ${failed}`].filter(Boolean).join(' | ');
}
