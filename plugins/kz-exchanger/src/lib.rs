//! # kz-exchanger
//!
//! The crypto-platform and shadow-exchanger rules of the reference pack
//! `kz-afm` (the "On Digital Assets" law, AFSA's public register and warnings,
//! and the AFM's exchanger heuristics; see `docs/domain.md`):
//!
//! | Code | When | Action | Default score |
//! |---|---|---|---|
//! | `VASP_BLOCKED` | a party that is a crypto platform is on the pack list `blocked-vasps` | `block` | 100 |
//! | `VASP_UNLICENSED` | a party that is a crypto platform is not on the pack list `afsa-register` | `block` | 90 |
//! | `CRYPTO_REMITTANCE_KEYWORDS` | the remittance text mentions crypto or exchange words | `review` | 20 |
//! | `P2P_EXCHANGER_PATTERN` | a transfer's sender or recipient account shows a two-sided, pass-through flow in the window | `hold` | 60 |
//!
//! Every threshold, score and the keyword list is a pack parameter (see
//! [`KzExchanger::metadata`] for names, defaults and meanings).
//!
//! ## Behaviour decisions
//!
//! **Which parties are crypto platforms.** A party is a crypto platform when
//! the bank gave its VASP id (`vasp`) or its kind is `vasp`. Both the sender
//! and the recipient are checked, so the platform is found whichever side it
//! is on: the recipient of a crypto purchase or of a transfer or top-up to a
//! platform, the sender of a crypto sale. A crypto purchase or sale whose
//! platform the bank did not identify is not judged by the VASP codes (there
//! is nothing to look up); its remittance text still is.
//!
//! **Blocked wins over unlicensed.** A blocked platform gets `VASP_BLOCKED`
//! only, never also `VASP_UNLICENSED`: the blocked list is the more specific
//! statement, both codes block, and one finding per platform keeps the score
//! honest. A platform on both lists (contradictory list data) is blocked.
//! Ids are compared by the host without regard to case and surrounding
//! spaces (`OKX` is `okx`).
//!
//! **A platform without an id is unlicensed.** A party of kind `vasp` without
//! a VASP id cannot be shown to be on the AFSA register, so it gets
//! `VASP_UNLICENSED` with evidence `reason` = `no-vasp-id` (instead of
//! `not-on-register`) and no `vasp` entry.
//!
//! **Keywords match what a reader sees, at the start of a word.** Matching
//! is the SDK's [`Keywords`] (see `qorgan_sdk::text`): the remittance text and
//! the keywords are compared on their Unicode skeletons (NFKC, case folded,
//! zero-width and bidi controls removed, look-alike letters of other scripts
//! mapped to one prototype, a right-to-left override read in display order),
//! so `USDТ` with a Cyrillic `Т`, `U\u{200B}SDT`, `ＵＳＤＴ` and an overridden
//! `TDSU` that displays as `USDT` all match `usdt`. A keyword matches where it
//! starts a word: at the start of the text or after a character that is not a
//! letter (a space, a digit, punctuation), and it may run on into a longer
//! word. So Russian inflections and compounds match (`обмена`, `крипту`,
//! `криптовалюта`, `обменник`), as do `100USDT` and `#btc`, while words that
//! merely contain a keyword do not: `теплообменник` (a heat exchanger) and
//! `взаимообмен` do not match `обмен`. Whole-word matching was rejected
//! because it would miss every inflected Russian form. Evidence `keyword` is
//! the keyword found first in the text (the longest one at that place), as
//! written in the list; `keywords` lists every keyword found, in order of
//! first appearance. An empty keyword list switches the code off.
//!
//! **Crypto words are expected at a licensed platform.** When the
//! transaction has a crypto platform as a party and every such platform is
//! licensed (on `afsa-register`, not blocked), `CRYPTO_REMITTANCE_KEYWORDS` is
//! not raised: "USDT" in a purchase at Binance says nothing. At a blocked or
//! unlicensed platform, and between ordinary accounts, it is.
//!
//! **The P2P pattern.** Only `transfer` transactions are looked at (the
//! card-to-card traffic through which shadow exchangers work). For the
//! sender's and the recipient's account (once if they are the same account;
//! never for a party that is itself a crypto platform, whose settlement
//! account is two-sided by nature and judged by the VASP codes) the rule asks
//! the host about the account's transactions of every kind in the
//! `window-hours` before this transaction, inbound and outbound. It fires when
//! all four hold:
//!
//! - distinct inbound counterparties (payers) are at least `min-payers`;
//! - distinct outbound counterparties (payees) are at least `min-payees`;
//! - the inbound sum is at least `min-turnover`;
//! - the residual |inbound − outbound| / inbound is at most `max-residual`,
//!   compared exactly (no floating point); an account with no inbound money
//!   never fires.
//!
//! The transaction being decided counts: the host answers from the history
//! strictly before it, and this transfer is part of the flow it judges. On
//! the sender's side it adds its amount to the money out (and its recipient
//! to the payees, when new in the window); on the recipient's side, to the
//! money in (and its sender to the payers). So the payout that completes an
//! exchanger's turnover is judged with it. Each side that matches gets its own finding,
//! with evidence `side` (`sender` | `recipient`), `payers`, `payees`,
//! `turnover-in`, `turnover-out`, `residual-ratio` (four decimals) and
//! `window-hours`.

use qorgan_sdk::{
    Action, CodeSpec, ConfigError, Direction, Finding, Findings, Host, Keywords, Metadata, Money,
    ParamSpec, Params, Party, PartyKind, Query, Ratio, Rule, Tx, TxKind,
};

/// The finding codes this rule declares.
pub mod codes {
    /// A counterparty crypto platform on the pack's blocked list.
    pub const VASP_BLOCKED: &str = "VASP_BLOCKED";
    /// A counterparty crypto platform not on the AFSA register.
    pub const VASP_UNLICENSED: &str = "VASP_UNLICENSED";
    /// Crypto or exchange words in the remittance text.
    pub const CRYPTO_REMITTANCE_KEYWORDS: &str = "CRYPTO_REMITTANCE_KEYWORDS";
    /// A two-sided pass-through flow on one account, like a P2P exchanger's card.
    pub const P2P_EXCHANGER_PATTERN: &str = "P2P_EXCHANGER_PATTERN";
}

/// The parameter names this rule declares.
pub mod params {
    /// Integer 0–100: score of `VASP_BLOCKED`.
    pub const VASP_BLOCKED_SCORE: &str = "vasp-blocked-score";
    /// Integer 0–100: score of `VASP_UNLICENSED`.
    pub const VASP_UNLICENSED_SCORE: &str = "vasp-unlicensed-score";
    /// Text: the comma-separated keywords of `CRYPTO_REMITTANCE_KEYWORDS`.
    pub const KEYWORDS: &str = "keywords";
    /// Integer 0–100: score of `CRYPTO_REMITTANCE_KEYWORDS`.
    pub const KEYWORDS_SCORE: &str = "keywords-score";
    /// Integer: the fewest distinct payers into the account in the window.
    pub const MIN_PAYERS: &str = "min-payers";
    /// Integer: the fewest distinct payees out of the account in the window.
    pub const MIN_PAYEES: &str = "min-payees";
    /// Money: the least inbound turnover in the window.
    pub const MIN_TURNOVER: &str = "min-turnover";
    /// Decimal: the largest |in − out| / in.
    pub const MAX_RESIDUAL: &str = "max-residual";
    /// Integer: the window, in hours.
    pub const WINDOW_HOURS: &str = "window-hours";
    /// Integer 0–100: score of `P2P_EXCHANGER_PATTERN`.
    pub const P2P_SCORE: &str = "p2p-score";
}

/// The reference lists of the pack this rule reads.
pub mod lists {
    /// Crypto platforms licensed by AFSA (the public register).
    pub const AFSA_REGISTER: &str = "afsa-register";
    /// Crypto platforms whose access is blocked in Kazakhstan (Coinbase,
    /// 2023). A platform AFSA only warned about is off the register, so
    /// unlicensed, not blocked.
    pub const BLOCKED_VASPS: &str = "blocked-vasps";
}

/// The default keyword list: crypto and exchange words in Latin and Cyrillic
/// (Russian, and Kazakh `айырбас`), from the exchanger indicators of
/// docs/domain.md. Prefixes cover inflected and compound forms: `крипт` matches
/// `крипта`, `криптовалюта`; `обмен` matches `обменник`.
pub const DEFAULT_KEYWORDS: &str = "usdt, usdc, tether, тезер, юсдт, усдт, trc20, erc20, btc, \
                                    bitcoin, биткоин, биток, crypto, крипт, p2p, п2п, обмен, \
                                    айырбас";

/// The longest window the host can be asked about, in hours (a window is a
/// `u32` of seconds).
const MAX_WINDOW_HOURS: i64 = (u32::MAX / 3600) as i64;

/// The configured `kz-exchanger` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KzExchanger {
    vasp_blocked_score: u8,
    vasp_unlicensed_score: u8,
    keywords: Keywords,
    keywords_score: u8,
    min_payers: u32,
    min_payees: u32,
    min_turnover: Money,
    max_residual: Ratio,
    window_hours: u32,
    p2p_score: u8,
}

impl Rule for KzExchanger {
    fn metadata() -> Metadata {
        Metadata::new(
            "kz-exchanger",
            env!("CARGO_PKG_VERSION"),
            "Crypto platforms and shadow exchangers: counterparty platforms that are \
             blocked or not on the AFSA register, crypto and exchange words in the \
             remittance text, and the two-sided pass-through flow of a P2P exchanger's \
             account.",
        )
        .param(ParamSpec::integer(
            params::VASP_BLOCKED_SCORE,
            100,
            "Risk score (0-100) of VASP_BLOCKED.",
        ))
        .param(ParamSpec::integer(
            params::VASP_UNLICENSED_SCORE,
            90,
            "Risk score (0-100) of VASP_UNLICENSED.",
        ))
        .param(ParamSpec::text(
            params::KEYWORDS,
            DEFAULT_KEYWORDS,
            "Comma-separated words that make a remittance text suspicious \
             (CRYPTO_REMITTANCE_KEYWORDS). Compared on the Unicode skeleton (case, \
             width, invisible characters and look-alike letters of other scripts folded), \
             each matching at the start of a word and running on into longer words \
             (`обмен` matches `обмена` and `обменник`, not `теплообменник`). Empty \
             switches the code off.",
        ))
        .param(ParamSpec::integer(
            params::KEYWORDS_SCORE,
            20,
            "Risk score (0-100) of CRYPTO_REMITTANCE_KEYWORDS.",
        ))
        .param(ParamSpec::integer(
            params::MIN_PAYERS,
            10,
            "P2P_EXCHANGER_PATTERN: the account received money from at least this many \
             distinct accounts in the window (at least 1).",
        ))
        .param(ParamSpec::integer(
            params::MIN_PAYEES,
            10,
            "P2P_EXCHANGER_PATTERN: the account sent money to at least this many \
             distinct accounts in the window (at least 1).",
        ))
        .param(ParamSpec::money(
            params::MIN_TURNOVER,
            "2000000.00",
            "P2P_EXCHANGER_PATTERN: the account received at least this much (KZT) in the \
             window.",
        ))
        .param(ParamSpec::decimal(
            params::MAX_RESIDUAL,
            "0.1",
            "P2P_EXCHANGER_PATTERN: |money in - money out| / money in over the window is \
             at most this (0.1 = what stays on or is overdrawn from the account is within \
             10% of what came in).",
        ))
        .param(ParamSpec::integer(
            params::WINDOW_HOURS,
            24,
            "P2P_EXCHANGER_PATTERN: the window, in hours before the transaction.",
        ))
        .param(ParamSpec::integer(
            params::P2P_SCORE,
            60,
            "Risk score (0-100) of P2P_EXCHANGER_PATTERN.",
        ))
        .code(CodeSpec::new(
            codes::VASP_BLOCKED,
            Action::Block,
            "A party to the transaction is a crypto platform on the pack's blocked list \
             (its access is blocked in Kazakhstan).",
        ))
        .code(CodeSpec::new(
            codes::VASP_UNLICENSED,
            Action::Block,
            "A party to the transaction is a crypto platform that is not on the AFSA \
             register of licensed providers, or whose VASP id is not given; crypto \
             platforms outside the register are illegal in Kazakhstan.",
        ))
        .code(CodeSpec::new(
            codes::CRYPTO_REMITTANCE_KEYWORDS,
            Action::Review,
            "The remittance text mentions crypto or currency-exchange words (USDT, P2P, \
             обмен, крипта, ...), as payments to shadow exchangers often do.",
        ))
        .code(CodeSpec::new(
            codes::P2P_EXCHANGER_PATTERN,
            Action::Hold,
            "The sender's or recipient's account received money from many distinct \
             payers and sent about as much on to many distinct payees in the window: \
             the two-sided flow of a P2P crypto exchanger's card.",
        ))
        .list(lists::AFSA_REGISTER)
        .list(lists::BLOCKED_VASPS)
    }

    fn configure(params: &Params) -> Result<Self, ConfigError> {
        let min_turnover = params.money(params::MIN_TURNOVER)?;
        if min_turnover.is_negative() {
            return Err(ConfigError::invalid(
                params::MIN_TURNOVER,
                min_turnover,
                "must not be negative",
            ));
        }
        Ok(KzExchanger {
            vasp_blocked_score: params.score(params::VASP_BLOCKED_SCORE)?,
            vasp_unlicensed_score: params.score(params::VASP_UNLICENSED_SCORE)?,
            keywords: parse_keywords(params.text(params::KEYWORDS)?),
            keywords_score: params.score(params::KEYWORDS_SCORE)?,
            min_payers: count(params, params::MIN_PAYERS)?,
            min_payees: count(params, params::MIN_PAYEES)?,
            min_turnover,
            max_residual: params.ratio(params::MAX_RESIDUAL)?,
            window_hours: window_hours(params)?,
            p2p_score: params.score(params::P2P_SCORE)?,
        })
    }

    fn evaluate<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        let platforms = self.check_platforms(tx, host, out);
        if !platforms.all_licensed() {
            self.check_keywords(tx, out);
        }
        self.check_p2p(tx, host, out);
    }
}

qorgan_sdk::export_rule!(KzExchanger);

/// What the VASP check learnt about a transaction's crypto platforms.
#[derive(Debug, Clone, Copy, Default)]
struct Platforms {
    /// How many parties are crypto platforms.
    seen: u8,
    /// How many of them are licensed (on the register, not blocked).
    licensed: u8,
}

impl Platforms {
    /// Whether there is a platform and every one is licensed.
    fn all_licensed(self) -> bool {
        self.seen > 0 && self.licensed == self.seen
    }
}

/// The two sides of a transaction, named as in evidence.
fn sides<'a>(tx: &Tx<'a>) -> [(&'static str, Party<'a>); 2] {
    [("sender", tx.sender()), ("recipient", tx.recipient())]
}

/// The party's VASP id, trimmed; `None` when absent or blank.
fn vasp_id<'a>(party: &Party<'a>) -> Option<&'a str> {
    party.vasp().map(str::trim).filter(|id| !id.is_empty())
}

/// Whether the party is a crypto platform: the bank gave its VASP id, or
/// said its kind is `vasp`.
fn is_platform(party: &Party<'_>) -> bool {
    vasp_id(party).is_some() || party.kind() == PartyKind::Vasp
}

impl KzExchanger {
    /// `VASP_BLOCKED` and `VASP_UNLICENSED`, for each party that is a crypto
    /// platform.
    fn check_platforms<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) -> Platforms {
        let mut platforms = Platforms::default();
        for (role, party) in sides(tx) {
            if !is_platform(&party) {
                continue;
            }
            platforms.seen += 1;
            let Some(id) = vasp_id(&party) else {
                out.add(
                    Finding::new(codes::VASP_UNLICENSED, Action::Block)
                        .score(self.vasp_unlicensed_score)
                        .message(format!(
                            "{kind}: the {role} is a crypto platform without a VASP id, so it \
                             cannot be shown to be on the AFSA register",
                            kind = tx.kind()
                        ))
                        .evidence("party", role)
                        .evidence("reason", "no-vasp-id")
                        .evidence("list", lists::AFSA_REGISTER),
                );
                continue;
            };
            if host.list_contains(lists::BLOCKED_VASPS, id) {
                out.add(
                    Finding::new(codes::VASP_BLOCKED, Action::Block)
                        .score(self.vasp_blocked_score)
                        .message(format!(
                            "{kind}: the {role} {id} is a crypto platform blocked in Kazakhstan",
                            kind = tx.kind()
                        ))
                        .evidence("party", role)
                        .evidence("vasp", id)
                        .evidence("list", lists::BLOCKED_VASPS),
                );
            } else if host.list_contains(lists::AFSA_REGISTER, id) {
                platforms.licensed += 1;
            } else {
                out.add(
                    Finding::new(codes::VASP_UNLICENSED, Action::Block)
                        .score(self.vasp_unlicensed_score)
                        .message(format!(
                            "{kind}: the {role} {id} is a crypto platform not on the AFSA \
                             register of licensed providers",
                            kind = tx.kind()
                        ))
                        .evidence("party", role)
                        .evidence("vasp", id)
                        .evidence("reason", "not-on-register")
                        .evidence("list", lists::AFSA_REGISTER),
                );
            }
        }
        platforms
    }

    /// `CRYPTO_REMITTANCE_KEYWORDS`.
    fn check_keywords(&self, tx: &Tx<'_>, out: &mut Findings) {
        let found = self.keywords.find_in(tx.remittance());
        let Some(first) = found.first().copied() else {
            return;
        };
        let keywords = found.join(", ");
        out.add(
            Finding::new(codes::CRYPTO_REMITTANCE_KEYWORDS, Action::Review)
                .score(self.keywords_score)
                .message(format!(
                    "{kind} whose remittance text mentions {keywords}: crypto or exchange \
                     wording, as in payments to shadow exchangers",
                    kind = tx.kind()
                ))
                .evidence("keyword", first)
                .evidence("keywords", keywords),
        );
    }

    /// `P2P_EXCHANGER_PATTERN`, for the sender's and the recipient's account.
    fn check_p2p<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        if tx.kind() != TxKind::Transfer {
            return;
        }
        let sender_account = tx.sender().account();
        for (role, party) in sides(tx) {
            if is_platform(&party) {
                continue;
            }
            if role == "recipient" && party.account() == sender_account {
                continue; // the sender's own account: one history, looked at once
            }
            if let Some(flow) = self.two_sided_flow(tx, host, role, party) {
                out.add(flow.finding(role, self));
            }
        }
    }

    /// The account's flow in the window, if it matches the pattern. Asks for
    /// the outbound side only when the inbound side already matches.
    fn two_sided_flow<H: Host>(
        &self,
        tx: &Tx<'_>,
        host: &H,
        role: &str,
        party: Party<'_>,
    ) -> Option<Flow> {
        let window = self.window_hours.saturating_mul(3600);
        let account = party.account();
        // This transfer: money in for its recipient, out for its sender.
        let (this_in, this_out, other) = if role == "recipient" {
            (tx.amount(), Money::ZERO, tx.sender().account())
        } else {
            (Money::ZERO, tx.amount(), tx.recipient().account())
        };
        let side = |direction, this: Money| {
            let totals = host.aggregate(tx.at(), &Query::new(account, direction, window));
            let mut parties = totals.counterparties;
            if this > Money::ZERO && !knows(host, tx, account, direction, window, other) {
                parties = parties.saturating_add(1);
            }
            (totals.sum.saturating_add(this), parties)
        };
        let (money_in, payers) = side(Direction::Inbound, this_in);
        if payers < self.min_payers || money_in < self.min_turnover || money_in <= Money::ZERO {
            return None;
        }
        let (money_out, payees) = side(Direction::Outbound, this_out);
        if payees < self.min_payees {
            return None;
        }
        let whole = i128::from(money_in.tiyn());
        let residual = (whole - i128::from(money_out.tiyn())).abs();
        if !self.max_residual.admits(residual, whole) {
            return None;
        }
        Some(Flow {
            payers,
            payees,
            money_in,
            money_out,
            residual_ratio: Ratio::text(residual, whole),
        })
    }
}

/// Whether `account` dealt with `other` in `direction` in the window: then
/// this transfer adds no new counterparty. An account with more
/// counterparties than one answer lists is taken to know it (its count is
/// far above any threshold anyway).
fn knows<H: Host>(
    host: &H,
    tx: &Tx<'_>,
    account: qorgan_sdk::Account,
    direction: Direction,
    window: u32,
    other: qorgan_sdk::Account,
) -> bool {
    let flows = host.counterparties(tx.at(), &Query::new(account, direction, window), 64);
    let listed = u32::try_from(flows.flows.len()).unwrap_or(u32::MAX);
    !flows.complete || flows.total > listed || flows.flows.iter().any(|f| f.counterparty == other)
}

/// A two-sided flow that matched `P2P_EXCHANGER_PATTERN`.
struct Flow {
    payers: u32,
    payees: u32,
    money_in: Money,
    money_out: Money,
    residual_ratio: String,
}

impl Flow {
    fn finding(&self, role: &'static str, rule: &KzExchanger) -> Finding {
        let hours = rule.window_hours;
        Finding::new(codes::P2P_EXCHANGER_PATTERN, Action::Hold)
            .score(rule.p2p_score)
            .message(format!(
                "transfer: in the last {hours} h the {role}'s account received {} KZT from {} \
                 payers and sent {} KZT to {} payees (residual {}): the two-sided flow of a P2P \
                 crypto exchanger",
                self.money_in, self.payers, self.money_out, self.payees, self.residual_ratio
            ))
            .evidence("side", role)
            .evidence("payers", self.payers)
            .evidence("payees", self.payees)
            .evidence("turnover-in", self.money_in)
            .evidence("turnover-out", self.money_out)
            .evidence("residual-ratio", &self.residual_ratio)
            .evidence("window-hours", hours)
    }
}

/// The keywords of the `keywords` parameter, as the rule matches them (see
/// [`Keywords::parse`]).
#[must_use]
pub fn parse_keywords(text: &str) -> Keywords {
    Keywords::parse(text)
}

/// An integer parameter that counts accounts: at least 1.
fn count(params: &Params, name: &str) -> Result<u32, ConfigError> {
    let value = params.integer(name)?;
    u32::try_from(value)
        .ok()
        .filter(|count| *count >= 1)
        .ok_or_else(|| ConfigError::invalid(name, value, "must be a whole number of at least 1"))
}

/// `window-hours`: 1 up to what a `u32` of seconds holds.
fn window_hours(params: &Params) -> Result<u32, ConfigError> {
    let name = params::WINDOW_HOURS;
    let value = params.integer(name)?;
    if !(1..=MAX_WINDOW_HOURS).contains(&value) {
        return Err(ConfigError::invalid(
            name,
            value,
            format!("must be between 1 and {MAX_WINDOW_HOURS} hours"),
        ));
    }
    u32::try_from(value).map_err(|_| ConfigError::invalid(name, value, "is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use qorgan_sdk::Totals;
    use qorgan_sdk::testing::{
        DEFAULT_RECIPIENT_ACCOUNT, DEFAULT_SENDER_ACCOUNT, Harness, MemoryHost, SetupError,
        TxBuilder,
    };

    type TestResult = Result<(), SetupError>;

    /// The pack's lists, as in `examples/packs/kz-afm/lists`.
    fn pack_lists() -> MemoryHost {
        let mut host = MemoryHost::new();
        for licensed in ["bybit", "whitebit", "binance"] {
            host = host.with_list_entry(lists::AFSA_REGISTER, licensed);
        }
        host.with_list_entry(lists::BLOCKED_VASPS, "coinbase")
    }

    /// The default configuration with the pack's lists.
    fn rule() -> Result<Harness<KzExchanger>, SetupError> {
        Ok(Harness::new()?.with_host(pack_lists()))
    }

    fn codes_of(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(Finding::code).collect()
    }

    fn only(findings: &[Finding], code: &str) -> Finding {
        match findings {
            [finding] if finding.code() == code => finding.clone(),
            _ => panic!("expected one {code}, got {:?}", codes_of(findings)),
        }
    }

    fn evidence(finding: &Finding) -> Vec<(&str, &str)> {
        finding
            .evidence_items()
            .iter()
            .map(|e| (e.name(), e.value()))
            .collect()
    }

    fn tenge(amount: &str) -> Money {
        match Money::parse(amount) {
            Ok(money) => money,
            Err(error) => panic!("{error}"),
        }
    }

    // --- metadata and configuration -------------------------------------

    #[test]
    fn metadata_declares_id_version_params_codes_and_lists() {
        let metadata = KzExchanger::metadata();
        assert_eq!(metadata.validate(), Ok(()));
        assert_eq!(metadata.id(), "kz-exchanger");
        assert_eq!(metadata.version(), env!("CARGO_PKG_VERSION"));
        let codes: Vec<(&str, Action)> = metadata
            .codes()
            .iter()
            .map(|c| (c.code(), c.action()))
            .collect();
        assert_eq!(
            codes,
            [
                ("VASP_BLOCKED", Action::Block),
                ("VASP_UNLICENSED", Action::Block),
                ("CRYPTO_REMITTANCE_KEYWORDS", Action::Review),
                ("P2P_EXCHANGER_PATTERN", Action::Hold),
            ]
        );
        let defaults: Vec<(&str, &str)> = metadata
            .params()
            .iter()
            .map(|p| (p.name(), p.default_value()))
            .collect();
        assert_eq!(
            defaults,
            [
                ("vasp-blocked-score", "100"),
                ("vasp-unlicensed-score", "90"),
                ("keywords", DEFAULT_KEYWORDS),
                ("keywords-score", "20"),
                ("min-payers", "10"),
                ("min-payees", "10"),
                ("min-turnover", "2000000.00"),
                ("max-residual", "0.1"),
                ("window-hours", "24"),
                ("p2p-score", "60"),
            ]
        );
        assert!(
            metadata
                .params()
                .iter()
                .all(|p| !p.description().trim().is_empty())
        );
        assert_eq!(metadata.lists(), ["afsa-register", "blocked-vasps"]);
    }

    #[test]
    fn defaults_configure_the_documented_values() -> TestResult {
        let harness = Harness::<KzExchanger>::new()?;
        assert_eq!(
            harness.rule(),
            &KzExchanger {
                vasp_blocked_score: 100,
                vasp_unlicensed_score: 90,
                keywords: parse_keywords(DEFAULT_KEYWORDS),
                keywords_score: 20,
                min_payers: 10,
                min_payees: 10,
                min_turnover: Money::from_tiyn(200_000_000),
                max_residual: Ratio::new(1, 1),
                window_hours: 24,
                p2p_score: 60,
            }
        );
        let keywords = parse_keywords(DEFAULT_KEYWORDS);
        for expected in ["usdt", "btc", "crypto", "крипт", "p2p", "обмен", "тезер"] {
            assert!(keywords.words().any(|k| k == expected), "{expected}");
        }
        Ok(())
    }

    #[test]
    fn bad_values_are_refused_naming_the_parameter() {
        let cases = [
            ("min-turnover", "-0.01"),
            ("min-payers", "0"),
            ("min-payers", "-3"),
            ("min-payees", "0"),
            ("min-payees", "4294967296"),
            ("window-hours", "0"),
            ("window-hours", "1193047"),
            ("max-residual", "-0.1"),
            ("max-residual", "0.0000000000000000001"),
            ("max-residual", "9223372036854775808"),
            ("vasp-blocked-score", "101"),
            ("vasp-unlicensed-score", "-1"),
            ("keywords-score", "200"),
            ("p2p-score", "101"),
        ];
        for (name, value) in cases {
            let error = Harness::<KzExchanger>::with_params(&[(name, value)]).err();
            let message = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.contains(&format!("parameter `{name}`")),
                "{name} = {value}: {message}"
            );
        }
    }

    #[test]
    fn extreme_but_sensible_values_are_accepted() -> TestResult {
        let harness = Harness::<KzExchanger>::with_params(&[
            ("min-payers", "1"),
            ("min-payees", "4294967295"),
            ("window-hours", "1193046"),
            ("max-residual", "0"),
            ("min-turnover", "0.00"),
            ("keywords", ""),
        ])?;
        assert_eq!(harness.rule().window_hours, 1_193_046);
        assert_eq!(harness.rule().max_residual, Ratio::new(0, 0));
        assert!(harness.rule().keywords.is_empty());
        Ok(())
    }

    // --- VASP_BLOCKED ---------------------------------------------------------

    #[test]
    fn a_purchase_at_a_blocked_platform_is_blocked_and_not_also_unlicensed() -> TestResult {
        let tx = TxBuilder::crypto_purchase("180000.00")
            .recipient_kind(PartyKind::Vasp)
            .recipient_vasp("coinbase")
            .build();
        let finding = only(&rule()?.evaluate(&tx), "VASP_BLOCKED");
        assert_eq!(finding.action(), Action::Block);
        assert_eq!(finding.risk_score(), 100);
        assert_eq!(
            evidence(&finding),
            [
                ("party", "recipient"),
                ("vasp", "coinbase"),
                ("list", "blocked-vasps")
            ]
        );
        assert_eq!(
            finding.message_text(),
            "crypto-purchase: the recipient coinbase is a crypto platform blocked in Kazakhstan"
        );
        Ok(())
    }

    #[test]
    fn platforms_afsa_warned_about_are_unlicensed_not_blocked() -> TestResult {
        let harness = rule()?;
        for vasp in ["okx", "htx", "bitget", "mexc"] {
            let tx = TxBuilder::crypto_purchase("1000.00")
                .recipient_kind(PartyKind::Vasp)
                .recipient_vasp(vasp)
                .build();
            let finding = only(&harness.evaluate(&tx), "VASP_UNLICENSED");
            assert_eq!(finding.evidence_value("vasp"), Some(vasp));
            assert_eq!(finding.evidence_value("reason"), Some("not-on-register"));
        }
        Ok(())
    }

    #[test]
    fn the_platform_of_a_crypto_sale_is_the_sender() -> TestResult {
        let tx = TxBuilder::crypto_sale("500000.00")
            .sender_kind(PartyKind::Vasp)
            .sender_vasp("coinbase")
            .build();
        let finding = only(&rule()?.evaluate(&tx), "VASP_BLOCKED");
        assert_eq!(finding.evidence_value("party"), Some("sender"));
        assert_eq!(finding.evidence_value("vasp"), Some("coinbase"));
        Ok(())
    }

    #[test]
    fn list_entries_compare_without_regard_to_case() -> TestResult {
        let harness = Harness::<KzExchanger>::new()?.with_host(
            MemoryHost::new()
                .with_list_entry(lists::BLOCKED_VASPS, " OKX ")
                .with_list_entry(lists::AFSA_REGISTER, "ByBit"),
        );
        let blocked = TxBuilder::card_topup("1000.00")
            .recipient_vasp("okx")
            .build();
        assert_eq!(codes_of(&harness.evaluate(&blocked)), ["VASP_BLOCKED"]);
        let licensed = TxBuilder::card_topup("1000.00")
            .recipient_vasp("bybit")
            .build();
        assert!(harness.evaluate(&licensed).is_empty());
        Ok(())
    }

    #[test]
    fn a_platform_on_both_lists_is_blocked() -> TestResult {
        let harness = Harness::<KzExchanger>::new()?
            .with_host(pack_lists().with_list_entry(lists::AFSA_REGISTER, "coinbase"));
        let tx = TxBuilder::crypto_purchase("1000.00")
            .recipient_vasp("coinbase")
            .build();
        assert_eq!(codes_of(&harness.evaluate(&tx)), ["VASP_BLOCKED"]);
        Ok(())
    }

    #[test]
    fn vasp_blocked_score_comes_from_the_pack() -> TestResult {
        let harness = Harness::<KzExchanger>::with_params(&[("vasp-blocked-score", "70")])?
            .with_host(pack_lists());
        let tx = TxBuilder::transfer("1000.00")
            .recipient_vasp("coinbase")
            .build();
        assert_eq!(
            only(&harness.evaluate(&tx), "VASP_BLOCKED").risk_score(),
            70
        );
        Ok(())
    }

    // --- VASP_UNLICENSED ------------------------------------------------------

    #[test]
    fn a_platform_on_neither_list_is_unlicensed() -> TestResult {
        let tx = TxBuilder::crypto_purchase("250000.00")
            .recipient_kind(PartyKind::Vasp)
            .recipient_vasp("kazcoin-exchange")
            .build();
        let finding = only(&rule()?.evaluate(&tx), "VASP_UNLICENSED");
        assert_eq!(finding.action(), Action::Block);
        assert_eq!(finding.risk_score(), 90);
        assert_eq!(
            evidence(&finding),
            [
                ("party", "recipient"),
                ("vasp", "kazcoin-exchange"),
                ("reason", "not-on-register"),
                ("list", "afsa-register"),
            ]
        );
        assert_eq!(
            finding.message_text(),
            "crypto-purchase: the recipient kazcoin-exchange is a crypto platform not on \
             the AFSA register of licensed providers"
        );
        Ok(())
    }

    #[test]
    fn with_empty_lists_every_platform_is_unlicensed() -> TestResult {
        let harness = Harness::<KzExchanger>::new()?;
        let tx = TxBuilder::crypto_purchase("1.00")
            .recipient_vasp("binance")
            .build();
        assert_eq!(codes_of(&harness.evaluate(&tx)), ["VASP_UNLICENSED"]);
        Ok(())
    }

    #[test]
    fn a_vasp_party_without_an_id_is_unlicensed() -> TestResult {
        let tx = TxBuilder::crypto_sale("90000.00")
            .sender_kind(PartyKind::Vasp)
            .build();
        let finding = only(&rule()?.evaluate(&tx), "VASP_UNLICENSED");
        assert_eq!(
            evidence(&finding),
            [
                ("party", "sender"),
                ("reason", "no-vasp-id"),
                ("list", "afsa-register")
            ]
        );
        assert_eq!(finding.evidence_value("vasp"), None);
        assert_eq!(
            finding.message_text(),
            "crypto-sale: the sender is a crypto platform without a VASP id, so it cannot \
             be shown to be on the AFSA register"
        );
        Ok(())
    }

    #[test]
    fn a_blank_vasp_id_counts_as_no_id() -> TestResult {
        let tx = TxBuilder::crypto_purchase("1.00")
            .recipient_kind(PartyKind::Vasp)
            .recipient_vasp("   ")
            .build();
        let finding = only(&rule()?.evaluate(&tx), "VASP_UNLICENSED");
        assert_eq!(finding.evidence_value("reason"), Some("no-vasp-id"));
        Ok(())
    }

    #[test]
    fn a_blank_vasp_id_on_an_individual_is_no_platform() -> TestResult {
        let tx = TxBuilder::transfer("1.00").recipient_vasp(" ").build();
        assert!(rule()?.evaluate(&tx).is_empty());
        Ok(())
    }

    #[test]
    fn a_vasp_id_on_a_party_of_another_kind_still_makes_it_a_platform() -> TestResult {
        let tx = TxBuilder::transfer("300000.00")
            .recipient_kind(PartyKind::Business)
            .recipient_vasp("cryptobox-kz")
            .build();
        assert_eq!(codes_of(&rule()?.evaluate(&tx)), ["VASP_UNLICENSED"]);
        Ok(())
    }

    #[test]
    fn vasp_unlicensed_score_comes_from_the_pack() -> TestResult {
        let harness = Harness::<KzExchanger>::with_params(&[("vasp-unlicensed-score", "0")])?
            .with_host(pack_lists());
        let tx = TxBuilder::crypto_purchase("1.00")
            .recipient_vasp("kazcoin")
            .build();
        assert_eq!(
            only(&harness.evaluate(&tx), "VASP_UNLICENSED").risk_score(),
            0
        );
        Ok(())
    }

    #[test]
    fn platforms_on_both_sides_get_one_finding_each() -> TestResult {
        let tx = TxBuilder::transfer("1000000.00")
            .sender_kind(PartyKind::Vasp)
            .sender_vasp("coinbase")
            .recipient_kind(PartyKind::Vasp)
            .recipient_vasp("kazcoin")
            .build();
        let findings = rule()?.evaluate(&tx);
        assert_eq!(codes_of(&findings), ["VASP_BLOCKED", "VASP_UNLICENSED"]);
        let parties: Vec<Option<&str>> =
            findings.iter().map(|f| f.evidence_value("party")).collect();
        assert_eq!(parties, [Some("sender"), Some("recipient")]);
        Ok(())
    }

    // --- licensed platforms and ordinary parties --------------------------

    #[test]
    fn licensed_platforms_raise_nothing() -> TestResult {
        let harness = rule()?;
        for vasp in ["bybit", "binance", "whitebit"] {
            let purchase = TxBuilder::crypto_purchase("180000.00")
                .recipient_kind(PartyKind::Vasp)
                .recipient_vasp(vasp)
                .build();
            assert!(harness.evaluate(&purchase).is_empty(), "{vasp}");
            let sale = TxBuilder::crypto_sale("180000.00")
                .sender_kind(PartyKind::Vasp)
                .sender_vasp(vasp)
                .build();
            assert!(harness.evaluate(&sale).is_empty(), "{vasp}");
        }
        Ok(())
    }

    #[test]
    fn ordinary_parties_are_not_looked_up() -> TestResult {
        // A purchase whose platform the bank did not identify is not judged
        // by the VASP codes; with no remittance text nothing is found.
        let harness = Harness::<KzExchanger>::new()?;
        for kind in [
            PartyKind::Individual,
            PartyKind::Business,
            PartyKind::Unknown,
        ] {
            let tx = TxBuilder::crypto_purchase("1000.00")
                .recipient_kind(kind)
                .build();
            assert!(harness.evaluate(&tx).is_empty(), "{kind}");
        }
        Ok(())
    }

    // --- CRYPTO_REMITTANCE_KEYWORDS -------------------------------------------

    fn keywords_of(harness: &Harness<KzExchanger>, remittance: &str) -> Option<Finding> {
        let tx = TxBuilder::transfer("50000.00")
            .remittance(remittance)
            .build();
        match harness.evaluate(&tx).as_slice() {
            [] => None,
            [finding] if finding.code() == "CRYPTO_REMITTANCE_KEYWORDS" => Some(finding.clone()),
            other => panic!("{remittance}: unexpected findings {:?}", codes_of(other)),
        }
    }

    fn keyword_found(harness: &Harness<KzExchanger>, remittance: &str) -> Option<String> {
        keywords_of(harness, remittance)
            .and_then(|f| f.evidence_value("keyword").map(str::to_owned))
    }

    #[test]
    fn crypto_words_in_the_remittance_are_flagged_for_review() -> TestResult {
        let finding = keywords_of(&rule()?, "USDT обмен");
        let Some(finding) = finding else {
            panic!("expected CRYPTO_REMITTANCE_KEYWORDS");
        };
        assert_eq!(finding.action(), Action::Review);
        assert_eq!(finding.risk_score(), 20);
        assert_eq!(
            evidence(&finding),
            [("keyword", "usdt"), ("keywords", "usdt, обмен")]
        );
        assert_eq!(
            finding.message_text(),
            "transfer whose remittance text mentions usdt, обмен: crypto or exchange \
             wording, as in payments to shadow exchangers"
        );
        Ok(())
    }

    #[test]
    fn keywords_match_in_any_case_latin_and_cyrillic() -> TestResult {
        let harness = rule()?;
        let cases = [
            ("ОБМЕН", "обмен"),
            ("Обмен валюты", "обмен"),
            ("КРИПТА", "крипт"),
            ("за крипту", "крипт"),
            ("Buy BTC", "btc"),
            ("UsDt", "usdt"),
            ("P2P перевод", "p2p"),
            ("п2п", "п2п"),
            ("Tether TRC20", "tether"),
            ("тезер", "тезер"),
            ("CRYPTO payment", "crypto"),
            ("cryptocurrency", "crypto"),
            ("Криптовалюта", "крипт"),
            ("обменник Алматы", "обмен"),
            ("валюта АЙЫРБАСТАУ", "айырбас"),
            ("100USDT", "usdt"),
            ("#btc", "btc"),
            ("оплата (usdt)", "usdt"),
            ("за товар; обмен", "обмен"),
        ];
        for (remittance, keyword) in cases {
            assert_eq!(
                keyword_found(&harness, remittance).as_deref(),
                Some(keyword),
                "{remittance}"
            );
        }
        Ok(())
    }

    #[test]
    fn disguised_keywords_match_on_their_skeleton() -> TestResult {
        let harness = rule()?;
        let cases = [
            ("USD\u{0422} перевод", "usdt"),              // Cyrillic Т
            ("USD\u{03A4}", "usdt"),                      // Greek Τ
            ("U\u{200B}SDT", "usdt"),                     // zero-width space
            ("\u{FF35}\u{FF33}\u{FF24}\u{FF34}", "usdt"), // full-width
            ("\u{202E}TDSU\u{202C}", "usdt"),             // right-to-left override
            ("\u{0412}\u{0422}\u{0421}", "btc"),          // Cyrillic ВТС
            ("\u{0440}2\u{0440}", "p2p"),                 // Cyrillic р2р
            ("об\u{00AD}мен", "обмен"),                   // soft hyphen
        ];
        for (remittance, keyword) in cases {
            assert_eq!(
                keyword_found(&harness, remittance).as_deref(),
                Some(keyword),
                "{remittance:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn ordinary_payment_texts_do_not_match() -> TestResult {
        let harness = rule()?;
        for remittance in [
            "оплата за квартиру",
            "за услуги",
            "аренда",
            "зарплата",
            "жалақы",
            "қарыз қайтару",
            "ВОТ ТАК, ТЕХОСМОТР",
            "СОРТ РОСТ ХОР",
        ] {
            assert_eq!(keyword_found(&harness, remittance), None, "{remittance}");
        }
        Ok(())
    }

    #[test]
    fn words_that_only_contain_a_keyword_do_not_match() -> TestResult {
        let harness = rule()?;
        for remittance in [
            "теплообменник",
            "взаимообмен",
            "товарообмен по договору",
            "subtc",
            "encryptor",
            "за обед",
            "пополнение карты",
            "заработная плата за февраль",
            "",
        ] {
            assert_eq!(keyword_found(&harness, remittance), None, "{remittance}");
        }
        Ok(())
    }

    #[test]
    fn a_later_match_at_a_word_start_is_found_after_one_inside_a_word() -> TestResult {
        assert_eq!(
            keyword_found(&rule()?, "теплообменник и обмен").as_deref(),
            Some("обмен")
        );
        Ok(())
    }

    #[test]
    fn the_first_keyword_in_the_text_is_named_first() -> TestResult {
        let finding = keywords_of(&rule()?, "обмен BTC на USDT");
        assert_eq!(
            finding.as_ref().map(evidence),
            Some(vec![("keyword", "обмен"), ("keywords", "обмен, btc, usdt")])
        );
        Ok(())
    }

    #[test]
    fn at_the_same_place_the_longest_keyword_is_named() -> TestResult {
        let harness = Harness::<KzExchanger>::with_params(&[("keywords", "обмен, обменник")])?;
        let finding = keywords_of(&harness, "обменник");
        assert_eq!(
            finding.as_ref().map(evidence),
            Some(vec![
                ("keyword", "обменник"),
                ("keywords", "обменник, обмен")
            ])
        );
        Ok(())
    }

    #[test]
    fn the_keyword_list_comes_from_the_pack() -> TestResult {
        let harness = Harness::<KzExchanger>::with_params(&[
            ("keywords", " Доллар , , ETH,eth "),
            ("keywords-score", "35"),
        ])?;
        assert_eq!(
            harness.rule().keywords.words().collect::<Vec<_>>(),
            ["доллар", "eth"]
        );
        let finding = keywords_of(&harness, "ДОЛЛАРЫ");
        assert_eq!(finding.as_ref().map(Finding::risk_score), Some(35));
        assert_eq!(keyword_found(&harness, "USDT"), None);
        assert_eq!(
            keyword_found(&harness, "Eth wallet").as_deref(),
            Some("eth")
        );
        Ok(())
    }

    #[test]
    fn an_empty_keyword_list_switches_the_code_off() -> TestResult {
        let harness = Harness::<KzExchanger>::with_params(&[("keywords", " , ")])?;
        assert_eq!(keyword_found(&harness, "USDT обмен"), None);
        Ok(())
    }

    #[test]
    fn crypto_words_at_a_licensed_platform_are_expected() -> TestResult {
        let tx = TxBuilder::crypto_purchase("180000.00")
            .recipient_kind(PartyKind::Vasp)
            .recipient_vasp("binance")
            .remittance("USDT")
            .build();
        assert!(rule()?.evaluate(&tx).is_empty());
        Ok(())
    }

    #[test]
    fn crypto_words_at_a_blocked_or_unlicensed_platform_are_flagged_too() -> TestResult {
        let harness = rule()?;
        let design = TxBuilder::crypto_purchase("180000.00")
            .recipient_kind(PartyKind::Vasp)
            .recipient_vasp("coinbase")
            .remittance("USDT обмен")
            .build();
        assert_eq!(
            codes_of(&harness.evaluate(&design)),
            ["VASP_BLOCKED", "CRYPTO_REMITTANCE_KEYWORDS"]
        );
        let unlicensed = TxBuilder::crypto_purchase("1.00")
            .recipient_vasp("kazcoin")
            .remittance("btc")
            .build();
        assert_eq!(
            codes_of(&harness.evaluate(&unlicensed)),
            ["VASP_UNLICENSED", "CRYPTO_REMITTANCE_KEYWORDS"]
        );
        // A licensed platform on one side does not excuse an unlicensed one
        // on the other.
        let mixed = TxBuilder::transfer("1.00")
            .sender_vasp("bybit")
            .recipient_vasp("kazcoin")
            .remittance("usdt")
            .build();
        assert_eq!(
            codes_of(&harness.evaluate(&mixed)),
            ["VASP_UNLICENSED", "CRYPTO_REMITTANCE_KEYWORDS"]
        );
        Ok(())
    }

    // --- P2P_EXCHANGER_PATTERN --------------------------------------------------

    /// A host whose `account` had `payers` distinct payers bringing `money_in`
    /// and `payees` distinct payees taking `money_out` in any window.
    fn flow(account: u64, payers: u32, money_in: &str, payees: u32, money_out: &str) -> MemoryHost {
        pack_lists()
            .with_totals_in(
                account,
                Direction::Inbound,
                Totals {
                    count: payers,
                    sum: tenge(money_in),
                    counterparties: payers,
                    ..Totals::default()
                },
            )
            .with_totals_in(
                account,
                Direction::Outbound,
                Totals {
                    count: payees,
                    sum: tenge(money_out),
                    counterparties: payees,
                    ..Totals::default()
                },
            )
    }

    fn p2p(host: MemoryHost, tx: &TxBuilder) -> Result<Vec<Finding>, SetupError> {
        Ok(Harness::<KzExchanger>::new()?
            .with_host(host)
            .evaluate(&tx.clone().build()))
    }

    fn transfer() -> TxBuilder {
        TxBuilder::transfer("150000.00")
    }

    #[test]
    fn a_two_sided_flow_on_the_senders_account_is_held_counting_this_payout() -> TestResult {
        // 10 payees and 2190000.00 out before; this 150000.00 to a new payee
        // makes 11 and 2340000.00.
        let host = flow(DEFAULT_SENDER_ACCOUNT, 12, "2400000.00", 10, "2190000.00");
        let findings = p2p(host, &transfer())?;
        let finding = only(&findings, "P2P_EXCHANGER_PATTERN");
        assert_eq!(finding.action(), Action::Hold);
        assert_eq!(finding.risk_score(), 60);
        assert_eq!(
            evidence(&finding),
            [
                ("side", "sender"),
                ("payers", "12"),
                ("payees", "11"),
                ("turnover-in", "2400000.00"),
                ("turnover-out", "2340000.00"),
                ("residual-ratio", "0.0250"),
                ("window-hours", "24"),
            ]
        );
        assert_eq!(
            finding.message_text(),
            "transfer: in the last 24 h the sender's account received 2400000.00 KZT from 12 \
             payers and sent 2340000.00 KZT to 11 payees (residual 0.0250): the two-sided \
             flow of a P2P crypto exchanger"
        );
        Ok(())
    }

    #[test]
    fn a_two_sided_flow_on_the_recipients_account_is_held_counting_this_payment() -> TestResult {
        // 9 payers and 1850000.00 in before; this 150000.00 from a new payer
        // makes 10 and 2000000.00.
        let host = flow(DEFAULT_RECIPIENT_ACCOUNT, 9, "1850000.00", 10, "2000000.00");
        let finding = only(&p2p(host, &transfer())?, "P2P_EXCHANGER_PATTERN");
        assert_eq!(finding.evidence_value("side"), Some("recipient"));
        assert_eq!(finding.evidence_value("residual-ratio"), Some("0.0000"));
        Ok(())
    }

    #[test]
    fn both_accounts_matching_give_one_finding_each() -> TestResult {
        let host = flow(DEFAULT_SENDER_ACCOUNT, 10, "2000000.00", 10, "1900000.00")
            .with_totals_in(
                DEFAULT_RECIPIENT_ACCOUNT,
                Direction::Inbound,
                Totals {
                    sum: tenge("3000000.00"),
                    counterparties: 20,
                    ..Totals::default()
                },
            )
            .with_totals_in(
                DEFAULT_RECIPIENT_ACCOUNT,
                Direction::Outbound,
                Totals {
                    sum: tenge("3000000.00"),
                    counterparties: 15,
                    ..Totals::default()
                },
            );
        let findings = p2p(host, &transfer())?;
        let sides: Vec<Option<&str>> = findings.iter().map(|f| f.evidence_value("side")).collect();
        assert_eq!(sides, [Some("sender"), Some("recipient")]);
        Ok(())
    }

    #[test]
    fn exactly_at_every_default_threshold_the_pattern_holds() -> TestResult {
        // 10 payers, 10 payees, 2000000.00 in, residual exactly 0.1 either
        // way once this 150000.00 payout to a tenth payee is counted.
        for out in ["1650000.00", "2050000.00"] {
            let host = flow(DEFAULT_SENDER_ACCOUNT, 10, "2000000.00", 9, out);
            let finding = only(&p2p(host, &transfer())?, "P2P_EXCHANGER_PATTERN");
            assert_eq!(finding.evidence_value("residual-ratio"), Some("0.1000"));
        }
        Ok(())
    }

    #[test]
    fn just_short_of_any_threshold_the_pattern_does_not_hold() -> TestResult {
        let cases = [
            // This 150000.00 payout to a new payee counts on the out side.
            ("9 payers", flow(1, 9, "2000000.00", 9, "1850000.00")),
            ("9 payees", flow(1, 10, "2000000.00", 8, "1850000.00")),
            (
                "one tiyn too little in",
                flow(1, 10, "1999999.99", 9, "1849999.99"),
            ),
            (
                "residual one tiyn above 0.1, out low",
                flow(1, 10, "2000000.00", 9, "1649999.99"),
            ),
            (
                "residual one tiyn above 0.1, out high",
                flow(1, 10, "2000000.00", 9, "2050000.01"),
            ),
        ];
        for (label, host) in cases {
            assert!(p2p(host, &transfer())?.is_empty(), "{label}");
        }
        Ok(())
    }

    #[test]
    fn one_sided_flows_are_not_exchangers() -> TestResult {
        let cases = [
            // Payroll: one employer pays in, many employees are paid.
            ("payroll", flow(1, 1, "5000000.00", 40, "5000000.00")),
            // A merchant or collection account: many payers, no payouts.
            ("merchant", flow(1, 60, "5000000.00", 0, "0.00")),
            // Many payers, many payees, but most of the money stays.
            ("savings", flow(1, 15, "5000000.00", 12, "1000000.00")),
            // Nothing at all.
            ("quiet", MemoryHost::new()),
        ];
        for (label, host) in cases {
            assert!(p2p(host, &transfer())?.is_empty(), "{label}");
        }
        Ok(())
    }

    #[test]
    fn the_pattern_asks_about_the_window_and_each_direction() -> TestResult {
        let harness = Harness::<KzExchanger>::with_params(&[("window-hours", "6")])?
            .with_host(flow(1, 10, "2000000.00", 10, "2000000.00"));
        let findings = harness.evaluate(&transfer().seq(42).build());
        assert_eq!(
            only(&findings, "P2P_EXCHANGER_PATTERN").evidence_value("window-hours"),
            Some("6")
        );
        let asked: Vec<(u64, u64, Direction, u32)> = harness
            .host()
            .queries()
            .iter()
            .map(|(at, q)| (at.seq, q.account(), q.direction(), q.window_secs()))
            .collect();
        assert_eq!(
            asked,
            [
                (42, 1, Direction::Inbound, 21_600),
                (42, 1, Direction::Outbound, 21_600),
                // The recipient's inbound side does not match: no outbound question.
                (42, 2, Direction::Inbound, 21_600),
            ]
        );
        let query = harness.host().queries().first().map(|(_, q)| *q);
        assert_eq!(query.map(|q| q.kinds()), Some(qorgan_sdk::Kinds::NONE));
        Ok(())
    }

    /// A host whose every account had 10 payers and 10 payees, 2000000.00
    /// each way, in the last 24 h, but only 4 of each in shorter windows.
    fn busy_day() -> MemoryHost {
        pack_lists().with_aggregate(|_, query| {
            let parties = if query.window_secs() >= 86_400 { 10 } else { 4 };
            Totals {
                count: parties,
                sum: Money::from_tiyn(200_000_000),
                counterparties: parties,
                ..Totals::default()
            }
        })
    }

    #[test]
    fn the_window_decides_what_counts() -> TestResult {
        let day = Harness::<KzExchanger>::new()?.with_host(busy_day());
        let findings = day.evaluate(&transfer().build());
        assert_eq!(findings.len(), 2, "{:?}", codes_of(&findings));
        let hour =
            Harness::<KzExchanger>::with_params(&[("window-hours", "1")])?.with_host(busy_day());
        assert!(hour.evaluate(&transfer().build()).is_empty());
        Ok(())
    }

    #[test]
    fn thresholds_and_score_come_from_the_pack() -> TestResult {
        let harness = Harness::<KzExchanger>::with_params(&[
            ("min-payers", "3"),
            ("min-payees", "3"),
            ("min-turnover", "300000.00"),
            ("max-residual", "0.05"),
            ("p2p-score", "75"),
        ])?;
        let small = harness
            .with_host(flow(1, 3, "300000.00", 2, "135000.00"))
            .evaluate(&transfer().build());
        let finding = only(&small, "P2P_EXCHANGER_PATTERN");
        assert_eq!(finding.risk_score(), 75);
        assert_eq!(finding.evidence_value("residual-ratio"), Some("0.0500"));
        let harness = Harness::<KzExchanger>::with_params(&[
            ("min-payers", "3"),
            ("min-payees", "3"),
            ("min-turnover", "300000.00"),
            ("max-residual", "0.05"),
        ])?;
        let over = harness
            .with_host(flow(1, 3, "300000.00", 2, "134999.99"))
            .evaluate(&transfer().build());
        assert!(over.is_empty());
        Ok(())
    }

    #[test]
    fn no_inbound_money_never_matches_even_with_zero_thresholds() -> TestResult {
        let harness = Harness::<KzExchanger>::with_params(&[
            ("min-payers", "1"),
            ("min-payees", "1"),
            ("min-turnover", "0.00"),
            ("max-residual", "1000"),
        ])?
        .with_host(flow(1, 1, "0.00", 1, "100.00"));
        assert!(harness.evaluate(&transfer().build()).is_empty());
        Ok(())
    }

    #[test]
    fn only_transfers_are_looked_at() -> TestResult {
        let harness =
            Harness::<KzExchanger>::new()?.with_host(flow(1, 50, "9000000.00", 50, "9000000.00"));
        for builder in [
            TxBuilder::card_topup("1000.00"),
            TxBuilder::card_payment("1000.00"),
            TxBuilder::cash_withdrawal("1000.00"),
            TxBuilder::cash_deposit("1000.00"),
            TxBuilder::crypto_purchase("1000.00"),
            TxBuilder::crypto_sale("1000.00"),
            TxBuilder::new(TxKind::Other, "1000.00"),
        ] {
            assert!(harness.evaluate(&builder.build()).is_empty());
        }
        assert!(harness.host().queries().is_empty());
        Ok(())
    }

    #[test]
    fn a_platforms_own_account_is_not_judged_by_its_flow() -> TestResult {
        let host = flow(
            DEFAULT_RECIPIENT_ACCOUNT,
            50,
            "9000000.00",
            50,
            "9000000.00",
        );
        let harness = Harness::<KzExchanger>::new()?.with_host(host);
        let tx = transfer().recipient_vasp("binance").build();
        assert!(harness.evaluate(&tx).is_empty());
        assert!(
            harness
                .host()
                .queries()
                .iter()
                .all(|(_, q)| q.account() != DEFAULT_RECIPIENT_ACCOUNT)
        );
        Ok(())
    }

    #[test]
    fn a_transfer_to_the_same_account_is_looked_at_once() -> TestResult {
        let host = flow(7, 10, "2000000.00", 10, "2000000.00");
        let tx = transfer().sender_account(7).recipient_account(7);
        let findings = p2p(host, &tx)?;
        assert_eq!(
            only(&findings, "P2P_EXCHANGER_PATTERN").evidence_value("side"),
            Some("sender")
        );
        Ok(())
    }

    #[test]
    fn an_exchanger_paying_with_crypto_words_gets_both_findings() -> TestResult {
        let host = flow(DEFAULT_SENDER_ACCOUNT, 10, "2000000.00", 10, "1950000.00");
        let findings = p2p(host, &transfer().remittance("за USDT"))?;
        assert_eq!(
            codes_of(&findings),
            ["CRYPTO_REMITTANCE_KEYWORDS", "P2P_EXCHANGER_PATTERN"]
        );
        Ok(())
    }
}
