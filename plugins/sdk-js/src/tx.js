/**
 * Typed views of the transactions a rule is asked about.
 *
 * The contract hands a batch over as records of numbers plus one shared
 * `text` buffer; text fields (an IIN, a VASP name, the remittance text) are
 * spans into it. `Tx` turns them back into strings, amounts into exact
 * `Money`, 64-bit handles and times (seconds since the epoch) into BigInt
 * (with a `Date` view), and enums
 * and flags into the kebab-case names the WIT contract uses ("card-topup",
 * "sender-iin"), so a rule reads like the contract.
 */

/** Transaction kinds, in the contract's order. */
export const KINDS = Object.freeze([
  'card-topup', 'transfer', 'cash-withdrawal', 'cash-deposit', 'card-payment',
  'crypto-purchase', 'crypto-sale', 'other',
]);
/** Channels, in the contract's order. */
export const CHANNELS = Object.freeze(['mobile-app', 'internet-banking', 'branch', 'atm', 'pos', 'api', 'other']);
/** Kinds of party, in the contract's order. */
export const PARTY_KINDS = Object.freeze(['individual', 'business', 'vasp', 'unknown']);
/** Identity and confirmation checks, in the contract's order. */
export const CHECKS = Object.freeze(['sender-iin', 'recipient-iin', 'app-confirmation', 'sms-confirmation', 'biometric']);

/** "sender-iin" -> "senderIin": the field name jco gives a flag or record field. */
export function camel(name) {
  return name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
}

/**
 * Where a transaction stands in the host's history: pass it back to history
 * questions. Only a cursor the host handed over in the current call may be
 * asked at.
 */
export class Cursor {
  /** @param {bigint} seq @param {bigint} time seconds since the epoch */
  constructor(seq, time) {
    this.seq = BigInt(seq);
    this.time = BigInt(time);
    Object.freeze(this);
  }
}

/** A sender or recipient. Empty text means absent. */
export class Party {
  constructor({
    account, iin = '', kind = 'individual', vasp = '', country = '',
    opened = null, holder = null, income = null,
  }) {
    /** The account handle (BigInt). */
    this.account = BigInt(account);
    /** The IIN/BIN as text, "" when absent. */
    this.iin = iin;
    /** "individual", "business", "vasp" or "unknown". */
    this.kind = kind;
    /** The VASP's name, "" when absent. */
    this.vasp = vasp;
    /** The ISO country code, "" when absent. */
    this.country = country;
    /** When the account was opened (seconds, BigInt), or null. */
    this.opened = opened;
    /** A handle for the holder (the same person's accounts share it), or null. */
    this.holder = holder;
    /** The declared monthly income (Money), or null. */
    this.income = income;
    Object.freeze(this);
  }

  /** `opened` as a Date, or null. */
  get openedAt() {
    return this.opened === null ? null : new Date(Number(this.opened) * 1000);
  }
}

/** One transaction, typed. */
export class Tx {
  constructor({
    cursor, kind, channel, amount, currency, sender, recipient,
    remittance = '', verified = [], device = null,
  }) {
    /** Where it stands in history (for history questions). */
    this.cursor = cursor;
    /** One of KINDS. */
    this.kind = kind;
    /** One of CHANNELS. */
    this.channel = channel;
    /** The amount in tenge (Money). */
    this.amount = amount;
    /** The original currency's code. */
    this.currency = currency;
    /** The sender (Party). */
    this.sender = sender;
    /** The recipient (Party). */
    this.recipient = recipient;
    /** The remittance text, "" when absent. */
    this.remittance = remittance;
    /** The checks the bank has already done, as a frozen Set of CHECKS names. */
    this.verified = Object.freeze(new Set(verified));
    /** The device handle (BigInt), or null. */
    this.device = device;
    Object.freeze(this);
  }

  /** When it happened, in seconds since the epoch (BigInt). */
  get time() {
    return this.cursor.time;
  }

  /** When it happened, as a Date. */
  get at() {
    return new Date(Number(this.cursor.time) * 1000);
  }

  /** Whether the bank has already done `check` (e.g. "sender-iin"). */
  isVerified(check) {
    if (!CHECKS.includes(check)) {
      throw new RangeError(`unknown check \`${check}\`; the contract's checks are ${CHECKS.join(', ')}`);
    }
    return this.verified.has(check);
  }
}
