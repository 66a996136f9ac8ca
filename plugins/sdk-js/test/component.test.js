// The glue (src/component.js) against contract 0.2.0: its `qorgan:rule/*`
// imports are resolved, for this test only, to modules that hand every call
// to `globalThis.contract`, which records it and answers as jco would.
import assert from 'node:assert/strict';
import { register } from 'node:module';
import { test } from 'node:test';

import { Code, Finding, Money, Param, Rule, Trail } from '../src/index.js';

const EXPORTS = {
  history: [
    'aggregate', 'firstSeen', 'accountsOnDevice', 'accountsOfHolder', 'reference', 'counterparties',
    'traceBack', 'findPath',
  ],
  lists: ['contains', 'containsAccount'],
  log: ['log'],
};
const fake = (names) => names.map((n) => `export const ${n} = (...a) => globalThis.contract('${n}', a);`).join('\n');
const hooks = `
const EXPORTS = ${JSON.stringify(Object.fromEntries(Object.entries(EXPORTS).map(([k, v]) => [k, fake(v)])))};
export async function resolve(specifier, context, next) {
  const m = /^qorgan:rule\\/([a-z]+)@0\\.2\\.0$/.exec(specifier);
  if (m && EXPORTS[m[1]] !== undefined) {
    return { url: 'data:text/javascript,' + encodeURIComponent(EXPORTS[m[1]]), shortCircuit: true };
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
const { exportRule } = await import('../src/component.js');

/** Every negative BigInt in `value`, deeply: the SDK must never pass one. */
function negatives(value) {
  if (typeof value === 'bigint') return value < 0n ? [value] : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(negatives);
}

const calls = [];
const ANSWERS = {
  accountsOnDevice: () => 3,
  accountsOfHolder: () => 5,
  reference: () => 'KZ86125KZT5004100100',
  counterparties: () => ({
    flows: [{ counterparty: 10n, count: 2, sum: 10000n, first: 5n, last: 6n }], total: 3, complete: false,
  }),
  traceBack: () => ({
    hops: [{ from: 30n, to: 31n, amount: 99000n, time: 7n }, { from: 31n, to: 1n, amount: 98000n, time: 8n }],
    complete: true,
  }),
  findPath: () => ({ hops: [], complete: false }),
  aggregate: () => ({ count: 0, sum: 0n, max: 0n, counterparties: 0, first: undefined, last: undefined }),
  log: () => undefined,
};
globalThis.contract = (name, args) => {
  assert.deepEqual(negatives(args), [], `${name} was passed a negative 64-bit value`);
  calls.push([name, ...args]);
  return ANSWERS[name](...args);
};

class Network extends Rule {
  static id = 'sdk-network';
  static version = '0.2.0';
  static params = [
    Param.integer('n', 3, 'a count', { min: 1, max: 9 }),
    Param.money('m', '1.00', 'an amount'),
    Param.text('t', 'x', 'a text'),
  ];

  static codes = [new Code('SEEN', 'review', 'what the host said')];

  evaluate(t, host) {
    const trail = new Trail(21600).only('transfer').atLeast(Money.parse('-1.00'));
    const flows = host.flows(t, { hours: 24, account: t.recipient.account, direction: 'inbound', limit: 100 });
    const trace = host.traceBack(t.cursor, t.sender.account, t.amount, trail);
    const cycle = host.findPath(t.cursor, t.recipient.account, t.sender.account, 604800, trail);
    // Neither is asked: nothing is below zero.
    host.traceBack(t.cursor, t.sender.account, Money.parse('-0.01'), trail);
    host.flows(t, { hours: 1, maxAmount: Money.parse('-0.01') });
    return [new Finding('SEEN', 'review', 1, 'seen')
      .evidence('device', host.accountsOnDevice(t.cursor, t.device, 86400))
      .evidence('holder', host.accountsOfHolder(t.cursor, 77n, 86400))
      .evidence('top', host.reference(flows.flows[0].counterparty))
      .evidence('sum', flows.flows[0].sum)
      .evidence('first', flows.flows[0].first)
      .evidence('flows', `${flows.total} ${flows.complete}`)
      .evidence('origin', trace.hops[0].from)
      .evidence('amount', trace.hops[0].amount)
      .evidence('cycle', `${cycle.found} ${cycle.complete}`)];
  }
}

test('the glue declares parameter bounds, asks the 0.2 questions and never passes a negative', () => {
  const rule = exportRule(Network);
  assert.deepEqual(rule.metadata().parameters.map((p) => [p.name, p.minimum, p.maximum]), [
    ['n', '1', '9'], ['m', '0.00', undefined], ['t', undefined, undefined],
  ]);
  rule.configure([]);
  const span = { start: 0, len: 0 };
  const party = (account) => ({
    account, iin: span, kind: 'individual', vasp: span, country: span,
    opened: undefined, holder: undefined, income: undefined,
  });
  const [verdict] = rule.evaluate({
    transactions: [{
      at: { seq: 4n, time: 1740830400n }, kind: 'transfer', channel: 'mobile-app', amount: 97500n,
      currency: span, sender: party(1n), recipient: party(2n), remittance: span, verified: {}, device: 9n,
    }],
    text: new Uint8Array(),
  });
  assert.deepEqual(Object.fromEntries(verdict.findings[0].evidence.map((e) => [e.name, e.value])), {
    device: '3', holder: '5', top: 'KZ86125KZT5004100100', sum: '100.00', first: '5', flows: '3 false',
    origin: '30', amount: '990.00', cycle: 'false false',
  });
  const at = { seq: 4n, time: 1740830400n };
  const kinds = {
    cardTopup: false, transfer: true, cashWithdrawal: false, cashDeposit: false, cardPayment: false,
    cryptoPurchase: false, cryptoSale: false, other: false,
  };
  const trail = { maxDwell: 21600, minShare: 800, maxHops: 4, kinds, minAmount: 0n };
  const none = Object.fromEntries(Object.keys(kinds).map((k) => [k, false]));
  assert.deepEqual(calls, [
    ['counterparties', at, {
      account: 2n, window: 86400, direction: 'inbound', kinds: none, minAmount: 0n, maxAmount: 2n ** 63n - 1n,
    }, 64],
    ['traceBack', at, 1n, 97500n, trail],
    ['findPath', at, 2n, 1n, 604800, trail],
    ['accountsOnDevice', at, 9n, 86400],
    ['accountsOfHolder', at, 77n, 86400],
    ['reference', 10n],
  ]);
});
