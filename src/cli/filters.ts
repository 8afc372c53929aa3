import { UsageError } from './output.js';

/** `--label k=v` flags -> a label selector; each must have a key and an "=". */
export function parseLabelSelector(labels: string[]): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const label of labels) {
    const eq = label.indexOf('=');
    if (eq <= 0) throw new UsageError(`incorrectly specified label "${label}": use key=value`);
    selector[label.slice(0, eq)] = label.slice(eq + 1);
  }
  return selector;
}
