/**
 * Kazakh IIN/BIN checks: twelve digits whose last is a check digit.
 *
 * The check digit is the sum of the first eleven digits weighted 1..11,
 * modulo 11; when that is 10, the weights 3..11, 1, 2 are used instead; when
 * that is 10 again, no check digit exists and the number is invalid.
 */

/** The length of an IIN/BIN. */
export const LEN = 12;
const FIRST = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const SECOND = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

const isDigit = (c) => c >= '0' && c <= '9';

/**
 * `null` for a valid IIN/BIN, else the reason as evidence names it:
 * "wrong-length", "non-digit" or "checksum".
 * @param {string} iin
 * @returns {string|null}
 */
export function problem(iin) {
  const chars = Array.from(iin);
  if (chars.length !== LEN) return 'wrong-length';
  if (!chars.every(isDigit)) return 'non-digit';
  const digits = chars.map((c) => c.charCodeAt(0) - 48);
  const weigh = (weights) => weights.reduce((sum, w, i) => sum + w * digits[i], 0) % 11;
  let check = weigh(FIRST);
  if (check === 10) {
    check = weigh(SECOND);
    if (check === 10) return 'checksum';
  }
  return check === digits[11] ? null : 'checksum';
}

/**
 * `null` for a valid IIN/BIN, else what is wrong in words, as the Rust SDK
 * writes it ("has 11 characters, expected 12 digits").
 * @param {string} iin
 * @returns {string|null}
 */
export function explain(iin) {
  const chars = Array.from(iin);
  switch (problem(iin)) {
    case 'wrong-length':
      return `has ${chars.length} characters, expected ${LEN} digits`;
    case 'non-digit':
      return `character ${chars.findIndex((c) => !isDigit(c)) + 1} is not a digit`;
    case 'checksum':
      return 'fails the check-digit test';
    default:
      return null;
  }
}

/** Whether `iin` is a well-formed IIN/BIN with a matching check digit. */
export function isValid(iin) {
  return problem(iin) === null;
}
