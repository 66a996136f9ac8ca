/**
 * A native test mode: run a rule under plain `node --test`, against a fake
 * host, without building a component.
 *
 * `Harness` does what the host does at load (checks the metadata, resolves
 * the parameters with their defaults, configures the rule) and at
 * evaluation (refuses undeclared codes). `FakeHost` answers history
 * questions from a function or fixed totals, holds pack lists, and records
 * every question and log line so a test can assert on them. `tx()` builds a
 * transaction with sensible defaults.
 */

import { Host, LEVELS, Totals } from './host.js';
import { Money } from './money.js';
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

/**
 * A host for tests. `totals` is fixed Totals or a function
 * `(cursor, query) => Totals`; `lists` maps a name to keys or accounts.
 */
export class FakeHost extends Host {
  constructor({ totals = new Totals(), lists = {}, firstSeen = new Map(), linked = new Map() } = {}) {
    super();
    this.fixedTotals = totals;
    this.lists = new Map(Object.entries(lists).map(([name, keys]) => [name, new Set(keys)]));
    this.seen = new Map(firstSeen);
    this.linked = new Map(linked);
    /** Every history question asked, as [cursor, query]. */
    this.queries = [];
    /** Every log line, as [level, message]. */
    this.logs = [];
  }

  aggregate(at, query) {
    this.queries.push([at, query]);
    return typeof this.fixedTotals === 'function' ? this.fixedTotals(at, query) : this.fixedTotals;
  }

  firstSeen(at, account) {
    return this.seen.has(account) ? this.seen.get(account) : null;
  }

  linkedAccounts(at, key) {
    return this.linked.get(key) ?? 0;
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
