/**
 * The glue between a `Rule` and the WIT contract, for `jco componentize`.
 *
 * `qorgan build` writes a one-line entry module that imports the rule's
 * default export and exports `rule = exportRule(TheRule)`; jco bundles it
 * with this SDK and componentizes it with every WASI feature disabled. The
 * rule's own module never imports the contract's interfaces, so it runs
 * unchanged under `node --test`.
 *
 * The contract's values arrive as jco gives them: 64-bit numbers as BigInt,
 * enums as kebab-case strings, flags as objects of camelCase booleans,
 * text as spans into one byte buffer. They are turned into the SDK's typed
 * views here (UTF-8 decoded by hand: the engine need not have TextDecoder).
 *
 * Errors surface with their reason instead of as a bare `unreachable`:
 * `configure` turns a ConfigError (or any exception) into the contract's
 * refusal, naming it; an exception in `evaluate` is written to the host's
 * log (its message and stack) before the call fails, so the host's
 * PLUGIN_FAILED comes with the cause.
 */

import {
  accountsOfHolder, accountsOnDevice, aggregate, counterparties, findPath, firstSeen, reference, traceBack,
} from 'qorgan:rule/history@0.2.0';
import { contains, containsAccount } from 'qorgan:rule/lists@0.2.0';
import { log } from 'qorgan:rule/log@0.2.0';

import { Host, LEVELS, Totals, checkWindow } from './host.js';
import { Money } from './money.js';
import { Flow, Flows, Hop, MAX_FLOWS, Path, checkMoney, flowLimit } from './network.js';
import { resolve } from './params.js';
import { checkFindings, checkMetadata } from './rule.js';
import { CHECKS, Cursor, KINDS, Party, Tx, camel } from './tx.js';

/** `Type: message` and the stack, for the host's log. */
export function describe(error) {
  if (error instanceof Error) {
    const stack = typeof error.stack === 'string' && error.stack !== '' ? `\n${error.stack}` : '';
    return `${error.name}: ${error.message}${stack}`;
  }
  return `thrown: ${String(error)}`;
}

/** Decodes UTF-8 bytes `bytes[start..start+len]` into a string. */
export function utf8(bytes, start, len) {
  let out = '';
  const end = start + len;
  let i = start;
  while (i < end) {
    const b = bytes[i];
    let code;
    if (b < 0x80) {
      code = b;
      i += 1;
    } else if (b < 0xe0) {
      code = ((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f);
      i += 2;
    } else if (b < 0xf0) {
      code = ((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
      i += 3;
    } else {
      code = ((b & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
      i += 4;
    }
    out += String.fromCodePoint(code);
  }
  return out;
}

const CHECK_FIELDS = CHECKS.map((name) => [name, camel(name)]);
const KIND_FIELDS = KINDS.map((name) => [name, camel(name)]);
const none = (value) => value === undefined || value === null;

/** The contract's flags object for a set of names. */
function flags(fields, names) {
  const out = {};
  for (const [name, field] of fields) out[field] = names.includes(name);
  return out;
}

/**
 * A signed 64-bit argument for one of the host's functions, refused with
 * its name when negative: the componentize-js this project pins
 * (StarlingMonkey, 0.22.0) traps with a bare `unreachable` on a negative
 * 64-bit import argument, so the SDK never passes one and says why
 * instead.
 */
function nonNegative(value, what) {
  const v = BigInt(value);
  if (v < 0n) {
    throw new RangeError(`${what} is ${v}: a JavaScript rule cannot pass the host a negative 64-bit value`);
  }
  return v;
}

const cursor = (c) => ({ seq: c.seq, time: nonNegative(c.time, 'the cursor time (before 1970)') });

/**
 * A lower amount bound for the host. Amounts are never negative, so a bound
 * below zero means the same as zero, and is sent as zero (see nonNegative).
 */
const atLeastZero = (m) => (m.tiyn < 0n ? 0n : m.tiyn);

/** The contract's query; its upper bound must not be negative (see `aggregate`). */
const query = (q) => ({
  account: q.account,
  window: q.windowSecs,
  direction: q.direction,
  kinds: flags(KIND_FIELDS, q.kinds),
  minAmount: atLeastZero(q.minAmount),
  maxAmount: q.maxAmount.tiyn,
});

/** The contract's trail. */
const trail = (t) => ({
  maxDwell: t.maxDwellSecs,
  minShare: t.minSharePermille,
  maxHops: t.maxHops,
  kinds: flags(KIND_FIELDS, t.kinds),
  minAmount: atLeastZero(t.minAmount),
});

/** The SDK's Path of one of the contract's. */
const path = (raw) => new Path({
  hops: raw.hops.map((h) => new Hop({ from: h.from, to: h.to, amount: new Money(h.amount), time: h.time })),
  complete: raw.complete,
});

/** The host, through the contract's imports. */
class WitHost extends Host {
  aggregate(at, q) {
    // An upper bound below zero matches nothing (amounts are never
    // negative): it is answered without asking (see nonNegative).
    if (q.maxAmount.tiyn < 0n) return new Totals();
    const t = aggregate(cursor(at), query(q));
    return new Totals({
      count: t.count,
      sum: new Money(t.sum),
      max: new Money(t.max),
      counterparties: t.counterparties,
      first: none(t.first) ? null : t.first,
      last: none(t.last) ? null : t.last,
    });
  }

  firstSeen(at, account) {
    const seen = firstSeen(cursor(at), BigInt(account));
    return none(seen) ? null : seen;
  }

  accountsOnDevice(at, device, windowSecs) {
    return accountsOnDevice(cursor(at), BigInt(device), checkWindow(windowSecs));
  }

  accountsOfHolder(at, holder, windowSecs) {
    return accountsOfHolder(cursor(at), BigInt(holder), checkWindow(windowSecs));
  }

  reference(account) {
    const found = reference(BigInt(account));
    return none(found) ? null : found;
  }

  counterparties(at, q, limit = MAX_FLOWS) {
    // As in `aggregate`: an upper bound below zero matches nothing.
    if (q.maxAmount.tiyn < 0n) return new Flows();
    const raw = counterparties(cursor(at), query(q), flowLimit(limit));
    return new Flows({
      flows: raw.flows.map((f) => new Flow({
        counterparty: f.counterparty, count: f.count, sum: new Money(f.sum), first: f.first, last: f.last,
      })),
      total: raw.total,
      complete: raw.complete,
    });
  }

  traceBack(at, account, amount, t) {
    // A negative amount is never a share of what arrived (amounts are
    // never negative): no pass-through, answered without asking.
    if (checkMoney(amount, 'the amount traced').tiyn < 0n) return new Path();
    return path(traceBack(cursor(at), BigInt(account), amount.tiyn, trail(t)));
  }

  findPath(at, source, target, windowSecs, t) {
    return path(findPath(cursor(at), BigInt(source), BigInt(target), checkWindow(windowSecs), trail(t)));
  }

  contains(listName, key) {
    return contains(listName, key);
  }

  containsAccount(listName, account) {
    return containsAccount(listName, BigInt(account));
  }

  log(level, message) {
    if (!LEVELS.includes(level)) throw new RangeError(`unknown log level \`${level}\`; one of ${LEVELS.join(', ')}`);
    log(level, String(message));
  }
}

function party(raw, text) {
  const span = (s) => (s.len === 0 ? '' : utf8(text, s.start, s.len));
  return new Party({
    account: raw.account,
    iin: span(raw.iin),
    kind: raw.kind,
    vasp: span(raw.vasp),
    country: span(raw.country),
    opened: none(raw.opened) ? null : raw.opened,
    holder: none(raw.holder) ? null : raw.holder,
    income: none(raw.income) ? null : new Money(raw.income),
  });
}

/** The typed view of one of the contract's transactions. */
export function view(raw, text) {
  const span = (s) => (s.len === 0 ? '' : utf8(text, s.start, s.len));
  return new Tx({
    cursor: new Cursor(raw.at.seq, raw.at.time),
    kind: raw.kind,
    channel: raw.channel,
    amount: new Money(raw.amount),
    currency: span(raw.currency),
    sender: party(raw.sender, text),
    recipient: party(raw.recipient, text),
    remittance: span(raw.remittance),
    verified: CHECK_FIELDS.filter(([, field]) => raw.verified[field]).map(([name]) => name),
    device: none(raw.device) ? null : raw.device,
  });
}

/** One of the SDK's findings as the contract's record. */
export function lower(f) {
  return {
    code: f.code,
    action: f.action,
    score: f.score,
    requirements: flags(CHECK_FIELDS, f.requirements),
    message: f.message,
    evidence: f.evidenceItems.map(([name, value]) => ({ name, value })),
  };
}

/** A host that answers "nothing" to every question, for the warm-up. */
class QuietHost extends Host {
  aggregate() { return new Totals(); }
  firstSeen() { return null; }
  accountsOnDevice() { return 0; }
  accountsOfHolder() { return 0; }
  reference() { return null; }
  counterparties() { return new Flows(); }
  traceBack() { return new Path(); }
  findPath() { return new Path(); }
  contains() { return false; }
  containsAccount() { return false; }
  log() {}
}

/**
 * Runs the rule, configured with its defaults, over one made-up transaction
 * of every kind against a host that knows nothing, and discards what it
 * says. This happens when the component is built (jco snapshots the engine
 * after the module's top level ran), so the functions an evaluation uses
 * are already compiled in the snapshot: otherwise each fresh instance
 * compiles them on its first call, which costs more than the per-transaction
 * fuel budget. Nothing of it survives but compiled code: `configure` makes
 * a new rule object. A failure here is ignored; the real call reports it.
 */
function warmUp(RuleClass) {
  const iin = [48, 54, 49, 50, 49, 49, 54, 48, 48, 48, 49, 50]; // "061211600012"
  const text = new Uint8Array([...iin, 75, 90, 84]); // + "KZT"
  const span = (start, len) => ({ start, len });
  const rawParty = (account, kind) => ({
    account, iin: span(0, 12), kind, vasp: span(0, 0), country: span(0, 0),
    opened: undefined, holder: undefined, income: undefined,
  });
  const verified = flags(CHECK_FIELDS, []);
  try {
    const rule = new RuleClass();
    rule.configure(resolve(RuleClass.params, new Map()));
    const host = new QuietHost();
    for (const [i, kind] of KINDS.entries()) {
      for (const amount of [100000n, 100000000000n]) {
        const raw = {
          at: { seq: BigInt(i + 1), time: 1740830400n }, kind, channel: 'mobile-app', amount,
          currency: span(12, 3), sender: rawParty(1n, 'individual'), recipient: rawParty(2n, 'business'),
          remittance: span(0, 0), verified, device: undefined,
        };
        checkFindings(RuleClass, rule.evaluate(view(raw, text), host)).map(lower);
      }
    }
  } catch {
    // Only an optimisation: the same failure will surface in a real call.
  }
}

/** The `rule` interface the component exports, for the rule class `RuleClass`. */
export function exportRule(RuleClass) {
  checkMetadata(RuleClass);
  warmUp(RuleClass);
  const host = new WitHost();
  let configured = null;
  return {
    metadata() {
      return {
        id: RuleClass.id,
        version: RuleClass.version,
        description: RuleClass.description,
        parameters: RuleClass.params.map((p) => ({
          name: p.name,
          type: p.type,
          default: p.default,
          description: p.description,
          minimum: p.minimum ?? undefined,
          maximum: p.maximum ?? undefined,
        })),
        codes: RuleClass.codes.map((c) => ({ code: c.code, action: c.action, description: c.description })),
        lists: [...RuleClass.lists],
      };
    },

    configure(params) {
      try {
        const resolved = resolve(RuleClass.params, new Map(params.map((p) => [p.name, p.value])));
        const rule = new RuleClass();
        rule.configure(resolved);
        configured = rule;
      } catch (e) {
        // The contract's `err`: jco turns a thrown value into it.
        throw e instanceof Error ? `${e.name === 'ConfigError' ? '' : `${e.name}: `}${e.message}` : String(e);
      }
    },

    evaluate(batch) {
      try {
        if (configured === null) throw new Error('evaluate was called before configure');
        const text = batch.text;
        return batch.transactions.map((raw) => ({
          findings: checkFindings(RuleClass, configured.evaluate(view(raw, text), host)).map(lower),
        }));
      } catch (e) {
        log('error', describe(e));
        throw e;
      }
    },
  };
}
