/** UTF-8 sizes and cuts that never split a code point. Pure. */

/** Bytes `text` takes in UTF-8 (a lone surrogate counts as the 3 bytes of U+FFFD it becomes). */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** UTF-8 bytes of one code point. */
function codePointBytes(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

/**
 * Splits `text` into pieces of at most `maxBytes` UTF-8 bytes each, cut only between code points,
 * so each piece is valid UTF-8 on its own and the pieces joined are `text` again.
 */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new RangeError(`splitUtf8: maxBytes ${maxBytes} cannot hold every code point (at least 4)`);
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const codePoint = text.codePointAt(i)!;
    const units = codePoint > 0xffff ? 2 : 1;
    const size = codePointBytes(codePoint);
    if (bytes + size > maxBytes) {
      pieces.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
    i += units;
  }
  if (start < text.length || pieces.length === 0) pieces.push(text.slice(start));
  return pieces;
}

/** `text` cut to at most `maxBytes` UTF-8 bytes (on a code-point boundary), saying how much was left out. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const total = utf8Length(text);
  if (total <= maxBytes) return text;
  const [head = ''] = splitUtf8(text, Math.max(4, maxBytes - 64));
  return `${head}… (${total - utf8Length(head)} more bytes left out)`;
}

/** True when `text` has no lone surrogate, so it survives UTF-8 encoding unchanged. */
export function isWellFormed(text: string): boolean {
  return !/\p{Surrogate}/u.test(text);
}
