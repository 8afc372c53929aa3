import type { TerminalSize } from '../../streaming/channels.js';

/** Puts the local terminal in raw mode (when stdin is one); answers the function that restores it. */
export function enterRawMode(): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => undefined;
  stdin.setRawMode(true);
  return () => {
    if (stdin.isTTY) stdin.setRawMode(false);
  };
}

/** Sends the local terminal's size now and on every change (SIGWINCH); answers the unsubscribe. */
export function localTerminalSizes(send: (size: TerminalSize) => void): () => void {
  const out = process.stdout;
  if (!out.isTTY) return () => undefined;
  const emit = () => send({ width: out.columns, height: out.rows });
  emit();
  out.on('resize', emit);
  return () => out.off('resize', emit);
}
