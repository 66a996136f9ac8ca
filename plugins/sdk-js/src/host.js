/**
 * What a rule may ask the host: history, the network of who paid whom,
 * reference lists, and a log.
 *
 * `Host` is what `evaluate` receives. Its helpers fill in what the raw
 * contract leaves to the caller: the account defaults to the sender's,
 * windows are given in hours, and an absent amount bound means "no bound"
 * (the contract's query always carries both; the SDK sends the widest).
 * Amounts are `Money`, handles and times (seconds since the epoch) BigInt,
 * as in `Tx`. Inside a component the host is the real one; in tests it is
 * `FakeHost` from `qorgan-rule/testing`.
 */

import { MAX, MIN, Money } from './money.js';
import { MAX_FLOWS } from './network.js';
import { KINDS } from './tx.js';

/** Which of an account's transactions a question counts. */
export const DIRECTIONS = Object.freeze(['inbound', 'outbound', 'both']);
/** The longest window the contract can carry, in seconds. */
export const MAX_WINDOW_SECS = 2 ** 32 - 1;
/** Log levels, from least to most severe. */
export const LEVELS = Object.freeze(['trace', 'debug', 'info', 'warn', 'error']);

/**
 * `windowSecs` if the contract can carry it as a window (1 s up to
 * MAX_WINDOW_SECS), else a RangeError naming it.
 */
export function checkWindow(windowSecs) {
  if (!Number.isInteger(windowSecs) || windowSecs <= 0 || windowSecs > MAX_WINDOW_SECS) {
    throw new RangeError(`a window of ${windowSecs} s is outside 1..${MAX_WINDOW_SECS} s`);
  }
  return windowSecs;
}

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
    checkWindow(windowSecs);
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

  /**
   * How many distinct accounts sent money from `device` (`Tx.device`) in
   * the `windowSecs` before `at`; 0 for a device the host does not know.
   */
  accountsOnDevice(at, device, windowSecs) { // eslint-disable-line no-unused-vars
    throw new Error('Host.accountsOnDevice is not implemented');
  }

  /**
   * How many distinct accounts appeared under `holder` (an IIN/BIN,
   * `Party.holder`) in the `windowSecs` before `at`; 0 for a holder the
   * host does not know.
   */
  accountsOfHolder(at, holder, windowSecs) { // eslint-disable-line no-unused-vars
    throw new Error('Host.accountsOfHolder is not implemented');
  }

  /**
   * The account's reference as the bank sent it (IBAN or card reference),
   * to name it in evidence; null once forgotten.
   */
  reference(account) { // eslint-disable-line no-unused-vars
    throw new Error('Host.reference is not implemented');
  }

  /**
   * The accounts `query.account` dealt with in the query's window, counted
   * as `aggregate` counts, the largest total first, at most `limit` (the
   * host caps it at 64), as Flows.
   */
  counterparties(at, query, limit = MAX_FLOWS) { // eslint-disable-line no-unused-vars
    throw new Error('Host.counterparties is not implemented');
  }

  /**
   * Follows `amount` (Money), leaving `account` at `at`'s time, back
   * through the accounts it passed through quickly, along `trail` (a
   * Trail): an empty Path when it did not pass through `account`, two hops
   * or more for a chain. See the WIT `history.trace-back`.
   */
  traceBack(at, account, amount, trail) { // eslint-disable-line no-unused-vars
    throw new Error('Host.traceBack is not implemented');
  }

  /**
   * A Path of payments from `source` to `target` in the `windowSecs`
   * before `at` along `trail`: with the recipient as `source` and the
   * sender as `target`, whether the transaction closes a cycle. See the
   * WIT `history.find-path`.
   */
  findPath(at, source, target, windowSecs, trail) { // eslint-disable-line no-unused-vars
    throw new Error('Host.findPath is not implemented');
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
   * The Query about `account` (default: the sender's) in the `hours` (or
   * `seconds`) before `tx`; bounds left out mean no bound.
   */
  query(tx, { hours, seconds, account, direction = 'outbound', kinds = [], minAmount, maxAmount } = {}) {
    if ((hours === undefined) === (seconds === undefined)) {
      throw new RangeError('give the window as exactly one of hours or seconds');
    }
    return new Query({
      account: account === undefined ? tx.sender.account : account,
      windowSecs: seconds === undefined ? hours * 3600 : seconds,
      direction,
      kinds,
      minAmount: minAmount ?? MIN,
      maxAmount: maxAmount ?? MAX,
    });
  }

  /**
   * The totals of `account` (default: the sender's) in the `hours` (or
   * `seconds`) before `tx`; bounds left out mean no bound. Takes the
   * options of `query`.
   */
  totals(tx, options = {}) {
    return this.aggregate(tx.cursor, this.query(tx, options));
  }

  /**
   * The counterparties (Flows) of `account` (default: the sender's) in the
   * `hours` (or `seconds`) before `tx`, at most `limit`, the largest total
   * first. Takes the options of `query`, and `limit`.
   */
  flows(tx, { limit = MAX_FLOWS, ...options } = {}) {
    return this.counterparties(tx.cursor, this.query(tx, options), limit);
  }
}
