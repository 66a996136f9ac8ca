/**
 * Money in tiyn (hundredths of a tenge), exact: a BigInt, never a float.
 *
 * The host hands every amount over as a whole number of tiyn (a 64-bit
 * integer, which JavaScript can only hold exactly as a BigInt), already
 * converted to tenge with the pack's rates. Text such as "500000.00" (a
 * pack parameter, an evidence value) is parsed and written with
 * `Money.parse` and `String(money)`, exactly as the Rust SDK does, so a
 * finding's message reads the same in every language.
 *
 * JavaScript has no operator overloading: compare with `a.gt(b)`,
 * `a.cmp(b)` and the like. (`valueOf` returns the tiyn as a BigInt, so
 * `a > b` also works between two amounts, but `===` compares objects.)
 */

/** Tiyn in one tenge. */
export const TIYN_PER_TENGE = 100n;
/** The smallest amount the contract can carry (a signed 64-bit tiyn count). */
export const MIN_TIYN = -(2n ** 63n);
/** The largest amount the contract can carry. */
export const MAX_TIYN = 2n ** 63n - 1n;

/** A text that is not an amount of money, with the reason. */
export class MoneyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'MoneyError';
  }
}

const DIGITS = /^[0-9]+$/;

/** An amount in tiyn. `String(m)` gives "12.34". */
export class Money {
  /** @param {bigint} tiyn a whole number of tiyn within 64 bits */
  constructor(tiyn) {
    if (typeof tiyn !== 'bigint') {
      throw new TypeError(`Money holds a BigInt number of tiyn, not ${typeof tiyn} ${String(tiyn)}`);
    }
    if (tiyn < MIN_TIYN || tiyn > MAX_TIYN) {
      throw new RangeError(`${tiyn} tiyn does not fit the contract's 64 bits`);
    }
    this.tiyn = tiyn;
    Object.freeze(this);
  }

  /**
   * Parses "500000", "500000.5" or "-12.34": digits, an optional single
   * leading "-", at most two fraction digits.
   * @param {string} text
   * @returns {Money}
   */
  static parse(text) {
    if (typeof text !== 'string') {
      throw new MoneyError(`invalid amount \`${String(text)}\`: not text`);
    }
    if (text === '') throw new MoneyError('invalid amount ``: it is empty');
    const negative = text.startsWith('-');
    const unsigned = negative ? text.slice(1) : text;
    if (unsigned.includes('-') || unsigned.includes('+')) {
      throw new MoneyError(`invalid amount \`${text}\`: only a single leading \`-\` is allowed as a sign`);
    }
    const dot = unsigned.indexOf('.');
    const whole = dot < 0 ? unsigned : unsigned.slice(0, dot);
    const fraction = dot < 0 ? '' : unsigned.slice(dot + 1);
    if (whole === '' || (dot >= 0 && fraction === '')) {
      throw new MoneyError(`invalid amount \`${text}\`: expected digits before and after the decimal point`);
    }
    if (!DIGITS.test(whole) || (fraction !== '' && !DIGITS.test(fraction))) {
      throw new MoneyError(`invalid amount \`${text}\`: only digits 0-9 are allowed`);
    }
    if (fraction.length > 2) {
      throw new MoneyError(
        `invalid amount \`${text}\`: ${fraction.length} digits after the decimal point, at most 2 (tiyn) are allowed`,
      );
    }
    let tiyn = BigInt(whole) * TIYN_PER_TENGE + BigInt(fraction.padEnd(2, '0'));
    if (negative) tiyn = -tiyn;
    if (tiyn < MIN_TIYN || tiyn > MAX_TIYN) {
      throw new MoneyError(`invalid amount \`${text}\`: too large`);
    }
    return new Money(tiyn);
  }

  /** A whole number of tenge. @param {number|bigint} whole */
  static tenge(whole) {
    return new Money(BigInt(whole) * TIYN_PER_TENGE);
  }

  /** -1, 0 or 1 as this amount is less than, equal to or more than `other`. */
  cmp(other) {
    return this.tiyn < other.tiyn ? -1 : this.tiyn > other.tiyn ? 1 : 0;
  }
  /** Whether this equals `other`. */
  eq(other) { return this.tiyn === other.tiyn; }
  /** Whether this is less than `other`. */
  lt(other) { return this.tiyn < other.tiyn; }
  /** Whether this is at most `other`. */
  le(other) { return this.tiyn <= other.tiyn; }
  /** Whether this is more than `other`. */
  gt(other) { return this.tiyn > other.tiyn; }
  /** Whether this is at least `other`. */
  ge(other) { return this.tiyn >= other.tiyn; }
  /** The sum, refused when it leaves 64 bits. */
  plus(other) { return new Money(this.tiyn + other.tiyn); }
  /** The difference, refused when it leaves 64 bits. */
  minus(other) { return new Money(this.tiyn - other.tiyn); }

  /** "12.34", "-0.05": as the Rust SDK writes amounts. */
  toString() {
    const negative = this.tiyn < 0n;
    const abs = negative ? -this.tiyn : this.tiyn;
    const whole = abs / TIYN_PER_TENGE;
    const frac = abs % TIYN_PER_TENGE;
    return `${negative ? '-' : ''}${whole}.${frac < 10n ? '0' : ''}${frac}`;
  }

  /** The tiyn, so that `a < b` compares amounts. */
  valueOf() { return this.tiyn; }

  /** Written as text in JSON, exactly. */
  toJSON() { return this.toString(); }
}

/** No money. */
export const ZERO = new Money(0n);
/** The smallest amount: a query bound that excludes nothing. */
export const MIN = new Money(MIN_TIYN);
/** The largest amount: a query bound that excludes nothing. */
export const MAX = new Money(MAX_TIYN);
