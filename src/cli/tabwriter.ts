/**
 * crictl's tables: Go's text/tabwriter as crictl sets it up (minwidth 20, padding 3, spaces).
 * Every cell but a line's last is padded to its column's width; the last is written as it is.
 */
const MIN_WIDTH = 20;
const PADDING = 3;

/** Renders rows (the header first) as crictl's tabwriter does. */
export function renderTabwriter(rows: string[][], minWidth = MIN_WIDTH, padding = PADDING): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Math.max([...cell].length + padding, minWidth));
    });
  }
  return rows
    .map((row) => row.map((cell, i) => (i < row.length - 1 ? cell + ' '.repeat(widths[i]! - [...cell].length) : cell)).join(''))
    .join('\n');
}

/** Prints a table with crictl's layout; nothing at all when there are no rows. */
export function printTabwriter(head: string[] | undefined, rows: string[][]): void {
  const all = head ? [head, ...rows] : rows;
  if (all.length === 0) return;
  process.stdout.write(renderTabwriter(all) + '\n');
}
