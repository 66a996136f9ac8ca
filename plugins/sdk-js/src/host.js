/**
 * What a rule may ask the host: history, reference lists, and a log.
 *
 * `Host` is what `evaluate` receives. Its helpers fill in what the raw
 * contract leaves to the caller: the account defaults to the sender's,
 * windows are given in hours, and an absent amount bound means "no bound"
 * (the contract's query always carries both; the SDK sends the widest).
 * Inside a component the host is the real one; in tests it is
 * `FakeHost` from `qorgan-rule/testing`.
 */

import { MAX, MIN, Money } from './money.js';
import { KINDS } from './tx.js';

/** Which of an account's transactions a question counts. */
export const DIRECTIONS = Object.freeze(['inbound', 'outbound', 'both']);
/** The longest window the contract can carry, in seconds. */
export const MAX_WINDOW_SECS = 2 ** 32 - 1;
/** Log levels, from least to most severe. */
export const LEVELS = Object.freeze(['trace', 'debug', 'info', 'warn', 'error']);

/** A question about one account's activity in a window before a cursor. */
export class Query {
  constructor({ account, windowSecs, direction = 'outbound', kinds = [], minAmount = MIN, maxAmount = MAX }) {
    if (!DIRECTIONS.includes(direction)) {
      throw new RangeError(`unknown direction \`${direction}\`; one of ${DIRECTIONS.join(', ')}`);
    }
    const unknown = kinds.filter((k) => !KINDS.includes(k));
    if (unknown.length > 0) {
      throw new RangeError(`unknown kinds ${unknown.join(', ')}; the contract's are ${KINDS.join(', ')}`);
    }
    if (!Number.isInteger(windowSecs) || windowSecs <= 0 || windowSecs > MAX_WINDOW_SECS) {
      throw new RangeError(`a window of ${windowSecs} s is outside 1..${MAX_WINDOW_SECS} s`);
    }
    this.account = BigInt(account);
    this.windowSecs = windowSecs;
    this.direction = direction;
    this.kinds = Object.freeze([...kinds]);
    this.minAmount = minAmount;
    this.maxAmount = maxAmount;
    Object.freeze(this);
  }
}

/** The answer to a Query. */
export class Totals {
  constructor({
    count = 0, sum = new Money(0n), max = new Money(0n), counterparties = 0, first = null, last = null,
  } = {}) {
    /** How many transactions matched. */
    this.count = count;
    /** Their total (Money). */
    this.sum = sum;
    /** The largest (Money). */
    this.max = max;
    /** How many distinct counterparties. */
    this.counterparties = counterparties;
    /** The first one's time (seconds, BigInt), or null. */
    this.first = first;
    /** The last one's time (seconds, BigInt), or null. */
    this.last = last;
    Object.freeze(this);
  }
}

/** The host's services. Subclasses implement the raw questions; rules use the helpers. */
export class Host {
  /** Totals of `query` in the window ending at `at`. */
  aggregate(at, query) { // eslint-disable-line no-unused-vars
    throw new Error('Host.aggregate is not implemented');
  }

  /** When `account` first appeared in history before `at` (BigInt seconds), or null. */
  firstSeen(at, account) { // eslint-disable-line no-unused-vars
    throw new Error('Host.firstSeen is not implemented');
  }

  /** How many accounts used the device or holder handle `key` in the window. */
  linkedAccounts(at, key, windowSecs) { // eslint-disable-line no-unused-vars
    throw new Error('Host.linkedAccounts is not implemented');
  }

  /** Whether the pack list `listName` holds `key`. */
  contains(listName, key) { // eslint-disable-line no-unused-vars
    throw new Error('Host.contains is not implemented');
  }

  /** Whether the pack list `listName` holds `account`. */
  containsAccount(listName, account) { // eslint-disable-line no-unused-vars
    throw new Error('Host.containsAccount is not implemented');
  }

  /** Writes a line to the host's log, attributed to the rule. */
  log(level, message) { // eslint-disable-line no-unused-vars
    throw new Error('Host.log is not implemented');
  }

  /**
   * The totals of `account` (default: the sender's) in the `hours` (or
   * `seconds`) before `tx`; bounds left out mean no bound.
   */
  totals(tx, { hours, seconds, account, direction = 'outbound', kinds = [], minAmount, maxAmount } = {}) {
    if ((hours === undefined) === (seconds === undefined)) {
      throw new RangeError('give the window as exactly one of hours or seconds');
    }
    return this.aggregate(tx.cursor, new Query({
      account: account === undefined ? tx.sender.account : account,
      windowSecs: seconds === undefined ? hours * 3600 : seconds,
      direction,
      kinds,
      minAmount: minAmount ?? MIN,
      maxAmount: maxAmount ?? MAX,
    }));
  }
}
