/**
 * A rule: what it declares about itself and how it evaluates.
 *
 * Extend `Rule`, declare with static fields and write `evaluate`:
 *
 *     export default class TopupThreshold extends Rule {
 *       static id = 'js-threshold';
 *       static version = '1.0.0';
 *       static description = '...';
 *       static params = [Param.money('topup-threshold', '500000.00', '...')];
 *       static codes = [new Code('TOPUP_SENDER_IIN_REQUIRED', 'verify', '...')];
 *       configure(params) { this.threshold = params.get('topup-threshold'); }
 *       evaluate(tx, host) { return []; }
 *     }
 *
 * `checkMetadata` refuses what the host would refuse at load (ids, codes,
 * duplicate names), so a native test catches it first.
 */

import { ACTIONS, Finding } from './finding.js';
import { ConfigError } from './params.js';

const KEBAB = /^[a-z0-9-]+$/;
const CODE = /^[A-Z0-9_]+$/;
/** The code the host reserves for failed plugins. */
export const RESERVED_CODE = 'PLUGIN_FAILED';

/** A finding code the rule declares, with its default action. */
export class Code {
  constructor(code, action, description) {
    this.code = code;
    this.action = action;
    this.description = description;
    Object.freeze(this);
  }
}

/** The base of every rule. An instance is made per configuration. */
export class Rule {
  static id = '';
  static version = '';
  static description = '';
  static params = [];
  static codes = [];
  static lists = [];

  /** Receives the parameters' typed values (`Params`); throw ConfigError to refuse them. */
  configure(params) {} // eslint-disable-line no-unused-vars

  /** The findings about `tx` (an empty array: nothing to say). */
  evaluate(tx, host) { // eslint-disable-line no-unused-vars
    throw new Error(`rule \`${this.constructor.id}\` does not implement evaluate`);
  }
}

/** Refuses metadata the host would refuse, naming the problem. */
export function checkMetadata(rule) {
  const bad = (problem) => new ConfigError(`rule \`${rule.id}\`: metadata: ${problem}`);
  if (!KEBAB.test(rule.id ?? '')) throw bad(`id \`${rule.id}\` must be lower-case letters, digits and dashes`);
  if (!(rule.version ?? '').trim()) throw bad('version is empty');
  const params = new Set();
  for (const p of rule.params) {
    if (!KEBAB.test(p.name)) throw bad(`parameter \`${p.name}\` must be lower-case letters, digits and dashes`);
    if (params.has(p.name)) throw bad(`parameter \`${p.name}\` is declared twice`);
    params.add(p.name);
  }
  const codes = new Set();
  for (const c of rule.codes) {
    if (!CODE.test(c.code)) throw bad(`finding code \`${c.code}\` must be upper-case letters, digits and underscores`);
    if (c.code === RESERVED_CODE) throw bad(`finding code \`${c.code}\` is reserved for the host`);
    if (codes.has(c.code)) throw bad(`finding code \`${c.code}\` is declared twice`);
    if (!ACTIONS.includes(c.action)) throw bad(`finding code \`${c.code}\`: unknown action \`${c.action}\``);
    codes.add(c.code);
  }
}

/**
 * Refuses findings with codes the rule did not declare, as the host does
 * (there the whole call fails).
 */
export function checkFindings(rule, findings) {
  if (!Array.isArray(findings)) throw new TypeError(`rule \`${rule.id}\`: evaluate returned ${String(findings)}, not an array`);
  const declared = new Set(rule.codes.map((c) => c.code));
  for (const f of findings) {
    if (!(f instanceof Finding)) throw new TypeError(`evaluate returned ${String(f)}, not a Finding`);
    if (!declared.has(f.code)) throw new RangeError(`finding code \`${f.code}\` is not declared by rule \`${rule.id}\``);
  }
  return findings;
}
