// The JavaScript SDK's own tests: `node --test test/`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ConfigError, Decimal, Finding, Flow, Flows, Hop, Money, MoneyError, Param, Path, Query, Rule, Code, Totals, Trail,
  ZERO, iin,
} from '../src/index.js';
import { resolve } from '../src/params.js';
import { DEFAULT_TIME, FakeHost, Harness, RECIPIENT_ACCOUNT, SENDER_ACCOUNT, tx } from '../src/testing.js';

test('money parses and formats exactly, as the Rust SDK does', () => {
  assert.equal(String(Money.parse('500000')), '500000.00');
  assert.equal(String(Money.parse('-12.3')), '-12.30');
  assert.equal(String(Money.parse('0.05')), '0.05');
  assert.equal(Money.parse('92233720368547758.07').tiyn, 2n ** 63n - 1n);
  for (const [text, reason] of [
    ['', 'empty'], ['1.234', 'at most 2'], ['1e5', 'only digits'], ['+1', 'single leading'],
    ['1.', 'before and after'], ['92233720368547758.08', 'too large'],
  ]) {
    assert.throws(() => Money.parse(text), (e) => e instanceof MoneyError && e.message.includes(reason), text);
  }
  const [a, b] = [Money.parse('10.00'), Money.parse('9.99')];
  assert.ok(a.gt(b) && b.lt(a) && a.ge(a) && a.eq(Money.tenge(10)) && a > b);
  assert.equal(String(a.minus(b)), '0.01');
});

test('IIN/BIN checksums and their reasons', () => {
  assert.equal(iin.problem('061211600012'), null);
  assert.equal(iin.problem('061211600013'), 'checksum');
  assert.equal(iin.problem('12345'), 'wrong-length');
  assert.equal(iin.problem('06121160001x'), 'non-digit');
  assert.equal(iin.explain('06121160001x'), 'character 12 is not a digit');
  assert.equal(iin.explain('12345'), 'has 5 characters, expected 12 digits');
  assert.ok(iin.isValid('061211600012'));
});

test('parameters are typed, defaulted and bounded, naming the parameter', () => {
  const params = [
    Param.money('limit', '100.00', 'a limit'),
    Param.integer('score', 30, 'a score', { min: 0, max: 100 }),
    Param.decimal('band', '0.1', 'a band', { min: '0', max: '1' }),
    Param.boolean('strict', false, 'strict'),
  ];
  const values = resolve(params, { score: '40' });
  assert.equal(String(values.get('limit')), '100.00');
  assert.equal(values.get('score'), 40n);
  assert.equal(String(values.get('band')), '0.1');
  assert.equal(values.get('strict'), false);
  assert.throws(() => resolve(params, { score: '101' }), /`score`: `101` is above the greatest allowed value, 100/);
  assert.throws(() => resolve(params, { band: '1.5' }), /`band`: `1.5` is above/);
  assert.throws(() => resolve(params, { limit: '-1.00' }), /`limit`: `-1.00` is below/);
  assert.throws(() => resolve(params, { nope: '1' }), (e) => e instanceof ConfigError && /no parameter `nope`/.test(e.message));
  assert.throws(() => Param.integer('x', 'ten', 'bad default'), /is not a whole number/);
  assert.equal(Decimal.parse('1.50').cmp(Decimal.parse('1.5')), 0);
});

test('findings refuse what the host would refuse', () => {
  assert.throws(() => new Finding('X', 'maybe', 1, ''), /unknown action/);
  assert.throws(() => new Finding('X', 'review', 101, ''), /score 101/);
  assert.throws(() => new Finding('X', 'verify', 1, '').require('retina'), /unknown check/);
  const f = new Finding('X', 'verify', 1, 'm').require('biometric', 'biometric').evidence('n', 5n);
  assert.deepEqual(f.requirements, ['biometric']);
  assert.equal(f.evidenceValue('n'), '5');
});

class Many extends Rule {
  static id = 'many';
  static version = '1.0.0';
  static codes = [new Code('MANY', 'review', 'many')];
  evaluate(t, host) {
    const totals = host.totals(t, { hours: 2, kinds: ['transfer'], minAmount: Money.tenge(5) });
    host.log('info', `count ${totals.count}`);
    return totals.count > 1 ? [new Finding('MANY', 'review', 20, 'many')] : [];
  }
}

test('history helpers fill in the account, window and open bounds', () => {
  const host = new FakeHost({ totals: new Totals({ count: 2 }) });
  const h = new Harness(Many, {}, host);
  assert.deepEqual(h.codes(tx('transfer')), ['MANY']);
  const [[cursor, q]] = host.queries;
  assert.equal(cursor.time, 1740830400n);
  assert.deepEqual([q.account, q.windowSecs, q.direction, q.kinds], [1n, 7200, 'outbound', ['transfer']]);
  assert.equal(String(q.minAmount), '5.00');
  assert.equal(q.maxAmount.tiyn, 2n ** 63n - 1n);
  assert.deepEqual(host.logs, [['info', 'count 2']]);
});

test('undeclared codes and bad metadata are refused', () => {
  class Liar extends Many {
    evaluate() { return [new Finding('OTHER', 'review', 1, '')]; }
  }
  assert.throws(() => new Harness(Liar).evaluate(tx()), /`OTHER` is not declared/);
  class Bad extends Many { static id = 'Bad Id'; }
  assert.throws(() => new Harness(Bad), /id `Bad Id`/);
  class Reserved extends Many { static codes = [new Code('PLUGIN_FAILED', 'review', '')]; }
  assert.throws(() => new Harness(Reserved), /reserved for the host/);
});

test('test transactions refuse unknown names', () => {
  assert.throws(() => tx('teleport'), /unknown kind/);
  assert.throws(() => tx('transfer', '1.00', { verified: ['retina'] }), /unknown checks/);
  assert.equal(tx('transfer', '1.00', { verified: ['biometric'] }).isVerified('biometric'), true);
});

test('parameters declare their bounds as value text', () => {
  const count = Param.integer('n', 3, 'd', { min: 2, max: 10 });
  assert.deepEqual([count.minimum, count.maximum], ['2', '10']);
  assert.equal(Param.integer('n', 3, 'd').minimum, null);
  assert.equal(Param.integer('n', 3, 'd', { min: 2 }).maximum, null);
  const money = Param.money('m', '1.00', 'd');
  assert.deepEqual([money.minimum, money.maximum], ['0.00', null]);
  const bounded = Param.money('m', '1.00', 'd', { min: '0.5', max: '1000' });
  assert.deepEqual([bounded.minimum, bounded.maximum], ['0.50', '1000.00']);
  assert.equal(Param.money('m', '1.00', 'd', { min: '-5' }).minimum, '0.00');
  const band = Param.decimal('b', '0.1', 'd', { min: '0', max: '1.50' });
  assert.deepEqual([band.minimum, band.maximum], ['0', '1.50']);
  assert.deepEqual([Param.boolean('f', true, 'd').minimum, Param.text('t', 'x', 'd').maximum], [null, null]);
});

test('a trail has the Rust SDK\'s defaults and caps its share', () => {
  const trail = new Trail(3600);
  assert.deepEqual(
    [trail.maxDwellSecs, trail.minSharePermille, trail.maxHops, trail.kinds, trail.minAmount],
    [3600, 800, 4, [], ZERO],
  );
  const quick = trail.keepingPermille(5000).hops(2).only('transfer', 'card-payment').atLeast(Money.tenge(100));
  assert.deepEqual(
    [quick.minSharePermille, quick.maxHops, quick.kinds, String(quick.minAmount)],
    [1000, 2, ['transfer', 'card-payment'], '100.00'],
  );
  assert.deepEqual(trail.only(['cash-deposit']).kinds, ['cash-deposit']);
  assert.equal(trail.maxHops, 4); // the builders return copies
  assert.throws(() => trail.only('teleport'), /unknown kinds teleport/);
  assert.throws(() => new Trail(60, { minSharePermille: 1001 }), RangeError);
  assert.throws(() => new Trail(-1), /dwell/);
  assert.throws(() => trail.atLeast(5n), TypeError);
});

class Network extends Rule {
  static id = 'sdk-network';
  static version = '0.2.0';
  static codes = [
    new Code('SHARED_DEVICE', 'review', 'many accounts on the device'),
    new Code('MANY_CARDS', 'review', 'many accounts of the holder'),
    new Code('HUB', 'review', 'many payers'),
    new Code('PASS_THROUGH', 'hold', 'money passed through'),
    new Code('CYCLE', 'hold', 'money came back'),
  ];

  configure() {
    this.trail = new Trail(6 * 3600).only('transfer');
  }

  evaluate(t, host) {
    const findings = [];
    if (t.device !== null && host.accountsOnDevice(t.cursor, t.device, 86400) >= 3) {
      findings.push(new Finding('SHARED_DEVICE', 'review', 20, 'device'));
    }
    if (host.accountsOfHolder(t.cursor, 77n, 86400) >= 5) {
      findings.push(new Finding('MANY_CARDS', 'review', 20, 'cards'));
    }
    const flows = host.flows(t, { hours: 24, account: t.recipient.account, direction: 'inbound', limit: 2 });
    if (flows.total >= 3) {
      const [top] = flows.flows;
      findings.push(new Finding('HUB', 'review', 30, `${flows.total} payers`)
        .evidence('top', host.reference(top.counterparty) ?? String(top.counterparty))
        .evidence('sum', top.sum)
        .evidence('complete', String(flows.complete)));
    }
    const trace = host.traceBack(t.cursor, t.sender.account, t.amount, this.trail);
    if (trace.hops.length >= 2) {
      findings.push(new Finding('PASS_THROUGH', 'hold', 50, 'chain')
        .evidence('origin', trace.hops[0].from)
        .evidence('amount', trace.hops[0].amount));
    }
    const cycle = host.findPath(t.cursor, t.recipient.account, t.sender.account, 7 * 86400, this.trail);
    if (cycle.found || !cycle.complete) {
      findings.push(new Finding('CYCLE', 'hold', 50, 'cycle').evidence('hops', cycle.hops.length));
    }
    return findings;
  }
}

test('an empty fake host knows nobody and says its searches ended', () => {
  const host = new FakeHost();
  assert.deepEqual(new Harness(Network, {}, host).codes(tx('transfer', '1.00', { device: 9n })), []);
  const at = tx().cursor;
  assert.equal(host.reference(SENDER_ACCOUNT), null);
  assert.deepEqual(host.counterparties(at, new Query({ account: 1n, windowSecs: 60 })), new Flows());
  assert.equal(new Flows().complete, true);
  assert.deepEqual(host.traceBack(at, 1n, Money.tenge(1), new Trail(60)), new Path());
  assert.deepEqual(host.findPath(at, 1n, 2n, 60, new Trail(60)), new Path({ hops: [], complete: true }));
  assert.throws(() => host.accountsOnDevice(at, 9n, 0), /window of 0 s/);
  assert.throws(() => host.traceBack(at, 1n, 100n, new Trail(60)), TypeError);
  assert.throws(() => host.counterparties(at, new Query({ account: 1n, windowSecs: 60 }), -1), RangeError);
});

test('the fake host answers network questions from canned answers', () => {
  const payers = new Flows({
    flows: [0, 1, 2, 3, 4].map((i) => new Flow({
      counterparty: 10 + i, count: 1, sum: Money.tenge(100 - i), first: DEFAULT_TIME - 60n, last: DEFAULT_TIME - 60n,
    })),
    total: 5,
    complete: false,
  });
  const chain = new Path({
    hops: [
      new Hop({ from: 30n, to: 31n, amount: Money.tenge(990), time: DEFAULT_TIME - 600n }),
      new Hop({ from: 31n, to: SENDER_ACCOUNT, amount: Money.tenge(980), time: DEFAULT_TIME - 300n }),
    ],
  });
  const loop = new Path({
    hops: [
      new Hop({ from: RECIPIENT_ACCOUNT, to: SENDER_ACCOUNT, amount: Money.tenge(970), time: DEFAULT_TIME - 100n }),
    ],
  });
  const host = new FakeHost({ devices: [[9, 3]], holders: new Map([[77n, 5]]) })
    .withReference(10, 'KZ86125KZT5004100100')
    .withFlows(RECIPIENT_ACCOUNT, payers)
    .withTrace(SENDER_ACCOUNT, chain)
    .withPath(RECIPIENT_ACCOUNT, SENDER_ACCOUNT, loop);
  const found = new Map(new Harness(Network, {}, host).evaluate(tx('transfer', '975.00', { device: 9 }))
    .map((f) => [f.code, f]));
  assert.deepEqual([...found.keys()].sort(), ['CYCLE', 'HUB', 'MANY_CARDS', 'PASS_THROUGH', 'SHARED_DEVICE']);
  assert.deepEqual(found.get('HUB').evidenceItems, [
    ['top', 'KZ86125KZT5004100100'], ['sum', '100.00'], ['complete', 'false'],
  ]);
  assert.deepEqual(found.get('PASS_THROUGH').evidenceItems, [['origin', '30'], ['amount', '990.00']]);
  assert.equal(found.get('CYCLE').evidenceValue('hops'), '1');
  const [counterparties, trace, cycle] = host.questions;
  const [name, , query, limit] = counterparties;
  assert.deepEqual([name, query.account, query.direction, query.windowSecs, limit],
    ['counterparties', RECIPIENT_ACCOUNT, 'inbound', 86400, 2]);
  assert.deepEqual(trace,
    ['trace-back', tx().cursor, SENDER_ACCOUNT, Money.tenge(975), new Trail(21600).only('transfer')]);
  assert.deepEqual(cycle.slice(0, 5), ['find-path', tx().cursor, RECIPIENT_ACCOUNT, SENDER_ACCOUNT, 7 * 86400]);
  // The limit asked cuts the canned flows, as the host's does.
  const asked = new Query({ account: RECIPIENT_ACCOUNT, windowSecs: 60 });
  assert.equal(host.counterparties(tx().cursor, asked, 100).flows.length, 5);
  assert.deepEqual(host.counterparties(tx().cursor, asked, 2).flows.map((f) => f.counterparty), [10n, 11n]);
});
