/**
 * qorgan-rule: write qorgan rule plugins in JavaScript.
 *
 * What the Rust SDK (plugins/sdk) gives, for JavaScript: typed transaction
 * views (`Tx`: text spans as strings, amounts as exact `Money` over BigInt
 * tiyn, times), money parsing and formatting, the IIN/BIN checksum (`iin`),
 * `Finding` builders, parameters with defaults and bounds (`Param`), history
 * and list helpers with the bounds filled in (`Host`), the network questions
 * (who an account dealt with, paths of money: `Trail`, `Flows`, `Path`), and
 * a native test mode (`qorgan-rule/testing`, for `node --test`). A component is built from
 * a rule with `qorgan build` (jco componentize with every WASI feature
 * disabled); see docs/writing-rules.md for what the sandbox forbids.
 */

export * as iin from './iin.js';
export { ACTIONS, Finding } from './finding.js';
export { DIRECTIONS, Host, LEVELS, Query, Totals } from './host.js';
export { MAX, MIN, Money, MoneyError, ZERO } from './money.js';
export { Flow, Flows, Hop, Path, Trail } from './network.js';
export { ConfigError, Decimal, Param, Params } from './params.js';
export { Code, Rule } from './rule.js';
export { CHANNELS, CHECKS, Cursor, KINDS, PARTY_KINDS, Party, Tx } from './tx.js';
