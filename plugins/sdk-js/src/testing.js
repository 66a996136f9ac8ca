/**
 * A native test mode: run a rule under plain `node --test`, against a fake
 * host, without building a component.
 *
 * `Harness` does what the host does at load (checks the metadata, resolves
 * the parameters with their defaults, configures the rule) and at
 * evaluation (refuses undeclared codes). `FakeHost` answers history
 * questions from a function or fixed totals and the network questions from
 * canned answers (`withReference`, `withFlows`, `withTrace`, `withPath`, as
 * the Rust SDK's `MemoryHost`), holds pack lists, and records every
 * question and log line so a test can assert on them. `tx()` builds a
 * transaction with sensible defaults.
 */

import { Host, LEVELS, Totals, checkWindow } from './host.js';
import { Money } from './money.js';
import { Flows, MAX_FLOWS, Path, checkMoney, flowLimit } from './network.js';
import { resolve } from './params.js';
import { checkFindings, checkMetadata } from './rule.js';
import { CHANNELS, CHECKS, Cursor, KINDS, PARTY_KINDS, Party, Tx } from './tx.js';

/** The account handle of tx()'s default sender. */
export const SENDER_ACCOUNT = 1n;
/** The account handle of tx()'s default recipient. */
export const RECIPIENT_ACCOUNT = 2n;
/** The time of tx()'s transactions unless given: 2025-03-01T12:00:00Z. */
export const DEFAULT_TIME = 1740830400n;
/** A valid IIN for tests. */
export const VALID_IIN = '061211600012';

/** A transaction for tests; unknown kinds, channels or checks are refused. */
export function tx(kind = 'card-payment', amount = '1000.00', {
  channel = 'mobile-app', currency = 'KZT', senderIin = VALID_IIN, recipientIin = '',
  senderKind = 'individual', recipientKind = 'individual', recipientVasp = '',
  senderAccount = SENDER_ACCOUNT, recipientAccount = RECIPIENT_ACCOUNT, remittance = '',
  verified = [], time = DEFAULT_TIME, seq = 1n, device = null,
} = {}) {
  for (const [value, allowed, what] of [
    [kind, KINDS, 'kind'], [channel, CHANNELS, 'channel'],
    [senderKind, PARTY_KINDS, 'party kind'], [recipientKind, PARTY_KINDS, 'party kind'],
  ]) {
    if (!allowed.includes(value)) throw new RangeError(`unknown ${what} \`${value}\`; one of ${allowed.join(', ')}`);
  }
  const unknown = verified.filter((c) => !CHECKS.includes(c));
  if (unknown.length > 0) throw new RangeError(`unknown checks ${unknown.join(', ')}; one of ${CHECKS.join(', ')}`);
  return new Tx({
    cursor: new Cursor(seq, time),
    kind,
    channel,
    amount: amount instanceof Money ? amount : Money.parse(amount),
    currency,
    sender: new Party({ account: senderAccount, iin: senderIin, kind: senderKind }),
    recipient: new Party({ account: recipientAccount, iin: recipientIin, kind: recipientKind, vasp: recipientVasp }),
    remittance,
    verified,
    device: device === null ? null : BigInt(device),
  });
}

/** A Map of `entries` with their keys as BigInt handles. */
const byHandle = (entries) => new Map([...entries].map(([k, v]) => [BigInt(k), v]));

/**
 * A host for tests. `totals` is fixed Totals or a function
 * `(cursor, query) => Totals`; `lists` maps a name to keys or accounts;
 * `devices` and `holders` (Maps or [handle, count] pairs) say how many
 * accounts the host saw on a device or holder handle (in any window). The
 * network questions are answered from what the `with*` methods give;
 * anything else has no reference, no flows and no path, from a search that
 * ended.
 */
export class FakeHost extends Host {
  constructor({
    totals = new Totals(), lists = {}, firstSeen = new Map(), devices = new Map(), holders = new Map(),
  } = {}) {
    super();
    this.fixedTotals = totals;
    this.lists = new Map(Object.entries(lists).map(([name, keys]) => [name, new Set(keys)]));
    this.seen = new Map(firstSeen);
    this.devices = byHandle(devices);
    this.holders = byHandle(holders);
    this.references = new Map();
    this.cannedFlows = new Map();
    this.traces = new Map();
    this.paths = new Map();
    /** Every aggregate question asked, as [cursor, query]. */
    this.queries = [];
    /**
     * Every network question asked, as an array of its name and arguments:
     * ['counterparties', cursor, query, limit], ['trace-back', cursor,
     * account, amount, trail], ['find-path', cursor, source, target,
     * windowSecs, trail].
     */
    this.questions = [];
    /** Every log line, as [level, message]. */
    this.logs = [];
  }

  /** Names `account` by `reference` (its IBAN or card reference); returns this host. */
  withReference(account, reference) {
    this.references.set(BigInt(account), reference);
    return this;
  }

  /**
   * Answers `counterparties` about `account` (in any window and direction)
   * with `flows` (Flows), cut to the limit asked; other accounts have none.
   * Returns this host.
   */
  withFlows(account, flows) {
    this.cannedFlows.set(BigInt(account), flows);
    return this;
  }

  /**
   * Answers `traceBack` from `account` (for any amount) with `path` (a
   * Path); other accounts' money passed through nobody. Returns this host.
   */
  withTrace(account, path) {
    this.traces.set(BigInt(account), path);
    return this;
  }

  /**
   * Answers `findPath` from `source` to `target` with `path` (a Path);
   * other pairs have none. Returns this host.
   */
  withPath(source, target, path) {
    this.paths.set(`${BigInt(source)}>${BigInt(target)}`, path);
    return this;
  }

  aggregate(at, query) {
    this.queries.push([at, query]);
    return typeof this.fixedTotals === 'function' ? this.fixedTotals(at, query) : this.fixedTotals;
  }

  firstSeen(at, account) {
    return this.seen.has(account) ? this.seen.get(account) : null;
  }

  accountsOnDevice(at, device, windowSecs) {
    checkWindow(windowSecs);
    return this.devices.get(BigInt(device)) ?? 0;
  }

  accountsOfHolder(at, holder, windowSecs) {
    checkWindow(windowSecs);
    return this.holders.get(BigInt(holder)) ?? 0;
  }

  reference(account) {
    return this.references.get(BigInt(account)) ?? null;
  }

  counterparties(at, query, limit = MAX_FLOWS) {
    this.questions.push(['counterparties', at, query, limit]);
    const found = this.cannedFlows.get(query.account) ?? new Flows();
    return new Flows({ flows: found.flows.slice(0, flowLimit(limit)), total: found.total, complete: found.complete });
  }

  traceBack(at, account, amount, trail) {
    checkMoney(amount, 'the amount traced');
    this.questions.push(['trace-back', at, BigInt(account), amount, trail]);
    return this.traces.get(BigInt(account)) ?? new Path();
  }

  findPath(at, source, target, windowSecs, trail) {
    checkWindow(windowSecs);
    this.questions.push(['find-path', at, BigInt(source), BigInt(target), windowSecs, trail]);
    return this.paths.get(`${BigInt(source)}>${BigInt(target)}`) ?? new Path();
  }

  contains(listName, key) {
    return this.lists.get(listName)?.has(key) ?? false;
  }

  containsAccount(listName, account) {
    return this.lists.get(listName)?.has(account) ?? false;
  }

  log(level, message) {
    if (!LEVELS.includes(level)) throw new RangeError(`unknown log level \`${level}\`; one of ${LEVELS.join(', ')}`);
    this.logs.push([level, message]);
  }
}

/** A rule configured as the host would configure it, with a fake host. */
export class Harness {
  constructor(RuleClass, params = {}, host = new FakeHost()) {
    checkMetadata(RuleClass);
    this.RuleClass = RuleClass;
    this.rule = new RuleClass();
    this.rule.configure(resolve(RuleClass.params, params));
    this.host = host;
  }

  /** The rule's findings about `transaction`, checked as the host does. */
  evaluate(transaction) {
    return checkFindings(this.RuleClass, this.rule.evaluate(transaction, this.host));
  }

  /** The codes of the rule's findings about `transaction`. */
  codes(transaction) {
    return this.evaluate(transaction).map((f) => f.code);
  }
}
