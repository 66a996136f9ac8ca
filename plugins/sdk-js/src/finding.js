/**
 * Findings: what a rule reports about a transaction.
 *
 * A finding names a code the rule declared, the action it asks for, a risk
 * score from 0 to 100, the checks the bank must do first (for "verify"), a
 * message for the analyst and evidence (name, value pairs). Mistakes the
 * host would refuse (an unknown action or check, a score out of range) are
 * refused here, when the finding is built, naming what is wrong.
 */

import { CHECKS } from './tx.js';

/** Actions from weakest to strongest. */
export const ACTIONS = Object.freeze(['allow', 'verify', 'review', 'hold', 'block']);

/** One finding. `require` and `evidence` return the finding, to chain calls. */
export class Finding {
  /**
   * @param {string} code a code the rule declares
   * @param {string} action one of ACTIONS
   * @param {number} score a whole number 0-100
   * @param {string} message for the analyst
   */
  constructor(code, action, score, message) {
    if (!ACTIONS.includes(action)) {
      throw new RangeError(`finding \`${code}\`: unknown action \`${action}\`; one of ${ACTIONS.join(', ')}`);
    }
    if (!Number.isInteger(score) || score < 0 || score > 100) {
      throw new RangeError(`finding \`${code}\`: score ${String(score)} is not a whole number 0-100`);
    }
    this.code = code;
    this.action = action;
    this.score = score;
    this.message = String(message);
    /** The checks required, in the order added. */
    this.requirements = [];
    /** The evidence, as [name, value] pairs of strings. */
    this.evidenceItems = [];
  }

  /** Adds checks the bank must do before the payment goes through. */
  require(...checks) {
    for (const check of checks) {
      if (!CHECKS.includes(check)) {
        throw new RangeError(`finding \`${this.code}\`: unknown check \`${check}\`; one of ${CHECKS.join(', ')}`);
      }
      if (!this.requirements.includes(check)) this.requirements.push(check);
    }
    return this;
  }

  /** Adds one piece of evidence; the value is written with `String`. */
  evidence(name, value) {
    this.evidenceItems.push([String(name), String(value)]);
    return this;
  }

  /** The first evidence value named `name`, or null. */
  evidenceValue(name) {
    const found = this.evidenceItems.find(([n]) => n === name);
    return found === undefined ? null : found[1];
  }
}
