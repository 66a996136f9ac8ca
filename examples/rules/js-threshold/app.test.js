// js-threshold's native tests: `node --test` with the SDK installed (npm install).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Harness, tx } from 'qorgan-rule/testing';
import JsThreshold from './app.js';

test('a large top-up without the sender IIN needs it', () => {
  const [f, ...rest] = new Harness(JsThreshold).evaluate(tx('card-topup', '600000.00'));
  assert.equal(rest.length, 0);
  assert.deepEqual([f.code, f.action, f.score, f.requirements], ['TOPUP_SENDER_IIN_REQUIRED', 'verify', 35, ['sender-iin']]);
  assert.equal(f.message, "card top-up of 600000.00 KZT above 500000.00 KZT needs the sender's IIN");
  assert.deepEqual(f.evidenceItems, [['amount', '600000.00'], ['threshold', '500000.00']]);
});

test('the threshold itself and verified senders pass', () => {
  const h = new Harness(JsThreshold);
  assert.deepEqual(h.codes(tx('card-topup', '500000.00')), []);
  assert.deepEqual(h.codes(tx('card-topup', '600000.00', { verified: ['sender-iin'] })), []);
  assert.deepEqual(h.codes(tx('transfer', '600000.00')), []);
});

test('confirmation follows the channel unless one is done', () => {
  const h = new Harness(JsThreshold, { 'topup-confirmation': 'true' });
  const [app] = h.evaluate(tx('card-topup', '600000.00'));
  assert.deepEqual(app.requirements, ['sender-iin', 'app-confirmation']);
  assert.match(app.message, /needs the sender's IIN and app confirmation$/);
  const [sms] = h.evaluate(tx('card-topup', '600000.00', { channel: 'branch' }));
  assert.equal(sms.evidenceValue('confirmation'), 'sms-confirmation');
  assert.match(sms.message, /needs the sender's IIN and SMS confirmation$/);
  const [done] = h.evaluate(tx('card-topup', '600000.00', { verified: ['sms-confirmation'] }));
  assert.deepEqual(done.requirements, ['sender-iin']);
});

test('bad IINs are reported per party without the number', () => {
  const h = new Harness(JsThreshold);
  const findings = h.evaluate(tx('card-payment', '1000.00', { senderIin: '061211600013', recipientIin: '12345' }));
  assert.deepEqual(findings.map((f) => [f.code, f.evidenceItems]), [
    ['IIN_INVALID', [['party', 'sender'], ['reason', 'checksum']]],
    ['IIN_INVALID', [['party', 'recipient'], ['reason', 'wrong-length']]],
  ]);
  assert.equal(findings[0].message, "the sender's IIN/BIN fails the check-digit test");
  assert.deepEqual(h.codes(tx('card-payment', '1000.00', { senderIin: '' })), []);
});

test('cash needs biometrics from the minimum', () => {
  const h = new Harness(JsThreshold, { 'cash-biometric-min': '1000.00' });
  const [f] = h.evaluate(tx('cash-deposit', '1000.00'));
  assert.equal(f.message, 'cash deposit of 1000.00 KZT needs biometric verification (required from 1000.00 KZT)');
  assert.deepEqual(h.codes(tx('cash-withdrawal', '999.99')), []);
  assert.deepEqual(h.codes(tx('cash-withdrawal', '5000.00', { verified: ['biometric'] })), []);
  assert.deepEqual(h.codes(tx('cash-withdrawal', '5000.00')), ['CASH_BIOMETRIC_REQUIRED']);
});

test('a score out of bounds refuses the configuration, naming the parameter', () => {
  assert.throws(() => new Harness(JsThreshold, { 'topup-score': '101' }),
    /parameter `topup-score`: `101` is above the greatest allowed value, 100/);
});
