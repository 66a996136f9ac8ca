/**
 * js-threshold: the top-up threshold rule of the reference pack, in
 * JavaScript.
 *
 * The same rule as the Rust `kz-threshold` for three of its codes (and as
 * the Python `py-threshold`), with the same parameters, messages and
 * evidence, so that they decide every transaction identically for these
 * codes:
 *
 * - TOPUP_SENDER_IIN_REQUIRED: a card top-up strictly above
 *   `topup-threshold` whose sender IIN is not verified (with
 *   `topup-confirmation`, also an app or SMS confirmation);
 * - IIN_INVALID: the sender's or recipient's IIN/BIN is present but
 *   malformed or fails the checksum;
 * - CASH_BIOMETRIC_REQUIRED: cash of at least `cash-biometric-min` without
 *   biometric verification.
 */

import { Code, Finding, Param, Rule, iin } from 'qorgan-rule';

const NEEDS = {
  'app-confirmation': "the sender's IIN and app confirmation",
  'sms-confirmation': "the sender's IIN and SMS confirmation",
  none: "the sender's IIN",
};
const CASH = { 'cash-withdrawal': 'cash withdrawal', 'cash-deposit': 'cash deposit' };

export default class JsThreshold extends Rule {
  static id = 'js-threshold';
  static version = '1.0.0';
  static description = 'AFM/NBK threshold rules in JavaScript: the sender\'s IIN on large card top-ups, '
    + 'IIN/BIN checksums and biometric verification for cash.';

  static params = [
    Param.money('topup-threshold', '500000.00',
      "Card top-ups strictly above this amount (KZT) need the sender's IIN verified."),
    Param.integer('topup-score', 35, 'Risk score (0-100) of TOPUP_SENDER_IIN_REQUIRED.', { min: 0, max: 100 }),
    Param.boolean('topup-confirmation', false,
      'When true, a flagged top-up also needs an app (mobile app) or SMS confirmation, unless either is done.'),
    Param.integer('iin-invalid-score', 40, 'Risk score (0-100) of IIN_INVALID.', { min: 0, max: 100 }),
    Param.money('cash-biometric-min', '0.00',
      'Cash withdrawals and deposits of at least this amount (KZT) need biometric verification.'),
    Param.integer('cash-biometric-score', 10, 'Risk score (0-100) of CASH_BIOMETRIC_REQUIRED.', { min: 0, max: 100 }),
  ];

  static codes = [
    new Code('TOPUP_SENDER_IIN_REQUIRED', 'verify',
      'A card top-up above the threshold whose sender IIN has not been verified.'),
    new Code('IIN_INVALID', 'review', "The sender's or recipient's IIN/BIN is malformed or fails the checksum."),
    new Code('CASH_BIOMETRIC_REQUIRED', 'verify', 'A cash withdrawal or deposit without biometric verification.'),
  ];

  configure(params) {
    this.threshold = params.get('topup-threshold');
    this.topupScore = Number(params.get('topup-score'));
    this.confirmation = params.get('topup-confirmation');
    this.iinScore = Number(params.get('iin-invalid-score'));
    this.cashMin = params.get('cash-biometric-min');
    this.cashScore = Number(params.get('cash-biometric-score'));
  }

  evaluate(tx) {
    const findings = [];
    this.checkTopup(tx, findings);
    this.checkIin(tx.sender.iin, 'sender', findings);
    this.checkIin(tx.recipient.iin, 'recipient', findings);
    this.checkCash(tx, findings);
    return findings;
  }

  checkTopup(tx, findings) {
    if (tx.kind !== 'card-topup' || tx.amount.le(this.threshold) || tx.isVerified('sender-iin')) return;
    let confirmation = null;
    if (this.confirmation && !(tx.isVerified('app-confirmation') || tx.isVerified('sms-confirmation'))) {
      confirmation = tx.channel === 'mobile-app' ? 'app-confirmation' : 'sms-confirmation';
    }
    const finding = new Finding('TOPUP_SENDER_IIN_REQUIRED', 'verify', this.topupScore,
      `card top-up of ${tx.amount} KZT above ${this.threshold} KZT needs ${NEEDS[confirmation ?? 'none']}`)
      .require('sender-iin')
      .evidence('amount', tx.amount)
      .evidence('threshold', this.threshold);
    if (confirmation !== null) finding.require(confirmation).evidence('confirmation', confirmation);
    findings.push(finding);
  }

  checkIin(number, role, findings) {
    if (number === '') return;
    const reason = iin.problem(number);
    if (reason !== null) {
      findings.push(new Finding('IIN_INVALID', 'review', this.iinScore,
        `the ${role}'s IIN/BIN ${iin.explain(number)}`)
        .evidence('party', role)
        .evidence('reason', reason));
    }
  }

  checkCash(tx, findings) {
    const what = CASH[tx.kind];
    if (what === undefined || tx.amount.lt(this.cashMin) || tx.isVerified('biometric')) return;
    findings.push(new Finding('CASH_BIOMETRIC_REQUIRED', 'verify', this.cashScore,
      `${what} of ${tx.amount} KZT needs biometric verification (required from ${this.cashMin} KZT)`)
      .require('biometric')
      .evidence('amount', tx.amount)
      .evidence('minimum', this.cashMin));
  }
}
