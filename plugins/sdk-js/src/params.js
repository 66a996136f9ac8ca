/**
 * Parameters a rule declares, with defaults and bounds, and their values.
 *
 * A rule lists its parameters as `Param`s; the host gives every declared
 * parameter to `configure` (the pack's value or the default). The SDK parses
 * each value into its type (`Money`, a BigInt for integers, a `Decimal` for
 * decimals, a boolean or a string), checks its bounds, and refuses the pack
 * with a `ConfigError` naming the parameter when a value does not fit: the
 * rule's own `configure` only sees good values.
 */

import { Money, MoneyError } from './money.js';

/** The contract's parameter types. */
export const TYPES = Object.freeze(['money', 'integer', 'decimal', 'boolean', 'text']);

/** A parameter value the rule cannot work with; its message reaches the pack's author. */
export class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConfigError';
  }
}

const INTEGER = /^-?[0-9]+$/;
const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;

/**
 * An exact decimal number: `digits` (a BigInt) scaled by 10^-`scale`.
 * Compare with `cmp`; `String(d)` gives the text it was written as,
 * normalised ("1.50" stays "1.50").
 */
export class Decimal {
  constructor(digits, scale) {
    this.digits = digits;
    this.scale = scale;
    Object.freeze(this);
  }

  /** Parses "12", "-0.25"; no exponent, no sign but a leading "-". */
  static parse(text) {
    if (!DECIMAL.test(text)) return null;
    const dot = text.indexOf('.');
    const scale = dot < 0 ? 0 : text.length - dot - 1;
    return new Decimal(BigInt(text.replace('.', '')), scale);
  }

  /** -1, 0 or 1 as this is less than, equal to or more than `other`. */
  cmp(other) {
    const scale = Math.max(this.scale, other.scale);
    const a = this.digits * 10n ** BigInt(scale - this.scale);
    const b = other.digits * 10n ** BigInt(scale - other.scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  toString() {
    if (this.scale === 0) return String(this.digits);
    const negative = this.digits < 0n;
    const abs = (negative ? -this.digits : this.digits).toString().padStart(this.scale + 1, '0');
    const cut = abs.length - this.scale;
    return `${negative ? '-' : ''}${abs.slice(0, cut)}.${abs.slice(cut)}`;
  }
}

function compare(type, a, b) {
  if (type === 'money' || type === 'decimal') return a.cmp(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A declared parameter. Build with the static methods. */
export class Param {
  constructor(name, type, defaultText, description, min = null, max = null) {
    if (!TYPES.includes(type)) throw new RangeError(`parameter \`${name}\`: unknown type \`${type}\``);
    this.name = name;
    this.type = type;
    this.default = defaultText;
    this.description = description;
    this.min = min;
    this.max = max;
    // The default must itself be a good value.
    this.parse(defaultText);
    Object.freeze(this);
  }

  /** Tenge with at most two fraction digits, never negative unless `min` says so. */
  static money(name, defaultText, description, { min = null, max = null } = {}) {
    return new Param(name, 'money', defaultText, description,
      min === null ? Money.parse('0') : Money.parse(min), max === null ? null : Money.parse(max));
  }

  /** A whole number (a BigInt), optionally within `min`..`max` (inclusive). */
  static integer(name, defaultValue, description, { min = null, max = null } = {}) {
    return new Param(name, 'integer', String(defaultValue), description,
      min === null ? null : BigInt(min), max === null ? null : BigInt(max));
  }

  /** An exact decimal number (a `Decimal`). */
  static decimal(name, defaultText, description, { min = null, max = null } = {}) {
    return new Param(name, 'decimal', defaultText, description,
      min === null ? null : Decimal.parse(min), max === null ? null : Decimal.parse(max));
  }

  /** true or false. */
  static boolean(name, defaultValue, description) {
    return new Param(name, 'boolean', defaultValue ? 'true' : 'false', description);
  }

  /** Free text. */
  static text(name, defaultText, description) {
    return new Param(name, 'text', defaultText, description);
  }

  /**
   * The least value as text of the parameter's type ("0.00", "1", "0.5"),
   * as the component declares it to the host, which then refuses a pack
   * value below it too; null for no bound. A money parameter's least value
   * is never below "0.00" (the host refuses negative money anyway).
   */
  get minimum() {
    if (this.min === null) return null;
    if (this.type === 'money' && this.min.tiyn < 0n) return String(Money.parse('0'));
    return String(this.min);
  }

  /** The greatest value as text, as `minimum`; null for no bound. */
  get maximum() {
    return this.max === null ? null : String(this.max);
  }

  /** The typed value of `value`, or a ConfigError naming the parameter and what is wrong. */
  parse(value) {
    const bad = (problem) => new ConfigError(`parameter \`${this.name}\`: \`${value}\` ${problem}`);
    let parsed;
    switch (this.type) {
      case 'money':
        try {
          parsed = Money.parse(value);
        } catch (e) {
          if (e instanceof MoneyError) throw new ConfigError(`parameter \`${this.name}\`: ${e.message}`);
          throw e;
        }
        break;
      case 'integer':
        if (!INTEGER.test(value)) throw bad('is not a whole number');
        parsed = BigInt(value);
        break;
      case 'decimal':
        parsed = Decimal.parse(value);
        if (parsed === null) throw bad('is not a decimal number');
        break;
      case 'boolean':
        if (value !== 'true' && value !== 'false') throw bad('is not `true` or `false`');
        parsed = value === 'true';
        break;
      default:
        parsed = value;
    }
    if (this.min !== null && compare(this.type, parsed, this.min) < 0) {
      throw bad(`is below the least allowed value, ${this.min}`);
    }
    if (this.max !== null && compare(this.type, parsed, this.max) > 0) {
      throw bad(`is above the greatest allowed value, ${this.max}`);
    }
    return parsed;
  }
}

/** The resolved values of a rule's parameters, by name. */
export class Params {
  constructor(values) {
    this.values = values;
    Object.freeze(this);
  }

  /** The value of `name`; a name the rule does not declare is an error. */
  get(name) {
    if (!this.values.has(name)) throw new RangeError(`the rule declares no parameter \`${name}\``);
    return this.values.get(name);
  }
}

/**
 * Parses `given` (a Map or object of name to text) against `declared`:
 * unknown names are refused and defaults fill the rest.
 */
export function resolve(declared, given) {
  const entries = given instanceof Map ? [...given] : Object.entries(given ?? {});
  const names = declared.map((p) => p.name);
  for (const [name] of entries) {
    if (!names.includes(name)) {
      throw new ConfigError(`no parameter \`${name}\`; the rule declares: ${names.join(', ')}`);
    }
  }
  const byName = new Map(entries);
  return new Params(new Map(declared.map((p) => [p.name, p.parse(byName.has(p.name) ? byName.get(p.name) : p.default)])));
}
