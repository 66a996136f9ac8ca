/**
 * The network questions' types: who an account dealt with, and paths of
 * money from account to account.
 *
 * Ask them through `Host.counterparties`, `Host.traceBack` and
 * `Host.findPath`. Every answer has a bounded size and says whether the
 * host's event budget cut it short (`complete`); the WIT `history`
 * interface states the bounds. `Trail` says how to follow money, with the
 * Rust SDK's defaults:
 *
 *     // Money that rests at most an hour and keeps at least 90% of itself.
 *     const quick = new Trail(3600).keepingPermille(900).hops(4).only('transfer');
 */

import { Money, ZERO } from './money.js';
import { KINDS } from './tx.js';

/** The longest dwell the contract can carry, in seconds. */
export const MAX_DWELL_SECS = 2 ** 32 - 1;
/** The whole, in thousandths: the largest share a trail can ask for. */
export const PERMILLE = 1000;
/** The default least share passed on, in thousandths (80%). */
export const DEFAULT_SHARE_PERMILLE = 800;
/** The default most hops followed. */
export const DEFAULT_HOPS = 4;
/** The most hops the host follows, whatever a trail asks. */
export const MAX_HOPS = 8;
/** The most flows the host lists in one answer, whatever the limit asked. */
export const MAX_FLOWS = 64;

/** What an account exchanged with one counterparty in a window. */
export class Flow {
  constructor({ counterparty, count, sum, first, last }) {
    /** The other account (BigInt). */
    this.counterparty = BigInt(counterparty);
    /** How many transactions. */
    this.count = count;
    /** Their total (Money). */
    this.sum = sum;
    /** The earliest one's time (seconds, BigInt). */
    this.first = BigInt(first);
    /** The latest one's time (seconds, BigInt). */
    this.last = BigInt(last);
    Object.freeze(this);
  }
}

/**
 * The answer to `Host.counterparties`. `new Flows()` is "none, and the
 * whole window was read".
 */
export class Flows {
  constructor({ flows = [], total = 0, complete = true } = {}) {
    /** One Flow per counterparty, the largest sum first. */
    this.flows = Object.freeze([...flows]);
    /** How many distinct counterparties the window holds, listed or not. */
    this.total = total;
    /** False when the host's event budget ran out before the window did. */
    this.complete = complete;
    Object.freeze(this);
  }
}

/** One payment on a path of money. */
export class Hop {
  constructor({ from, to, amount, time }) {
    /** The payer (BigInt). */
    this.from = BigInt(from);
    /** The payee (BigInt). */
    this.to = BigInt(to);
    /** The amount (Money). */
    this.amount = amount;
    /** When it was made (seconds, BigInt). */
    this.time = BigInt(time);
    Object.freeze(this);
  }
}

/**
 * A path of payments, the earliest first. `new Path()` is "none, and the
 * search ended".
 */
export class Path {
  constructor({ hops = [], complete = true } = {}) {
    /** The Hops; empty when none was found. */
    this.hops = Object.freeze([...hops]);
    /**
     * False when the host's event budget ran out before the search ended:
     * an empty path then means "not found in the budget", not "none".
     */
    this.complete = complete;
    Object.freeze(this);
  }

  /** Whether the path has any hop. */
  get found() {
    return this.hops.length > 0;
  }
}

/**
 * The number of flows a `counterparties` answer may list for `limit`: a
 * whole number, at most MAX_FLOWS (the host's cap); a RangeError names any
 * other.
 */
export function flowLimit(limit) {
  const n = typeof limit === 'bigint' ? Number(limit) : limit;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`a limit of ${limit} flows is not a whole number`);
  return Math.min(n, MAX_FLOWS);
}

/** `amount` if it is Money, else a TypeError naming `what`. */
export function checkMoney(amount, what) {
  if (!(amount instanceof Money)) throw new TypeError(`${what} is Money, not ${typeof amount} ${String(amount)}`);
  return amount;
}

function checkInteger(value, lo, hi, what) {
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw new RangeError(`${what} ${value} is outside ${lo}..${hi}`);
  }
  return value;
}

/**
 * How to follow money from account to account, for `Host.traceBack` and
 * `Host.findPath`.
 *
 * `new Trail(maxDwellSecs)` is money resting at most that long in an
 * account, passed on whole (80% or more), for up to 4 hops, of every kind
 * and amount; the builder methods return changed copies.
 */
export class Trail {
  constructor(maxDwellSecs, {
    minSharePermille = DEFAULT_SHARE_PERMILLE, maxHops = DEFAULT_HOPS, kinds = [], minAmount = ZERO,
  } = {}) {
    /** The longest time money may rest in an account, in seconds. */
    this.maxDwellSecs = checkInteger(maxDwellSecs, 0, MAX_DWELL_SECS, 'a dwell (seconds) of');
    /** The least share of what arrived that must leave, in thousandths. */
    this.minSharePermille = checkInteger(minSharePermille, 0, PERMILLE, 'a share (‰) of');
    /** The most hops followed (the host caps it at 8). */
    this.maxHops = checkInteger(maxHops, 0, 255, 'a number of hops of');
    const unknown = kinds.filter((k) => !KINDS.includes(k));
    if (unknown.length > 0) {
      throw new RangeError(`unknown kinds ${unknown.join(', ')}; the contract's are ${KINDS.join(', ')}`);
    }
    /** The kinds of payment followed; empty for all. */
    this.kinds = Object.freeze([...kinds]);
    if (!(minAmount instanceof Money)) {
      throw new TypeError(`a trail's least amount is Money, not ${String(minAmount)}`);
    }
    /** Payments smaller than this (Money) are not followed. */
    this.minAmount = minAmount;
    Object.freeze(this);
  }

  #with(changes) {
    return new Trail(this.maxDwellSecs, {
      minSharePermille: this.minSharePermille, maxHops: this.maxHops, kinds: this.kinds,
      minAmount: this.minAmount, ...changes,
    });
  }

  /** The least share passed on, in thousandths (capped at 1000). */
  keepingPermille(permille) {
    return this.#with({ minSharePermille: Math.min(permille, PERMILLE) });
  }

  /** The most hops followed (the host caps it at 8). */
  hops(maxHops) {
    return this.#with({ maxHops });
  }

  /** Follows only payments of these kinds (`only('transfer')` or `only(['transfer', 'card-payment'])`). */
  only(...kinds) {
    return this.#with({ kinds: kinds.flat() });
  }

  /** Ignores payments smaller than `amount` (Money). */
  atLeast(amount) {
    return this.#with({ minAmount: amount });
  }
}
