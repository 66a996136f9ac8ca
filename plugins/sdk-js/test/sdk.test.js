// The JavaScript SDK's own tests: `node --test test/`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ConfigError, Decimal, Finding, Money, MoneyError, Param, Rule, Code, Totals, iin,
} from '../src/index.js';
import { resolve } from '../src/params.js';
import { FakeHost, Harness, tx } from '../src/testing.js';

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
