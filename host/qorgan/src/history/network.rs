//! Questions about the network of payments: who paid whom, where money
//! came from, whether it came back.
//!
//! Aggregates answer "how much" about one account; layering is about the
//! links between accounts: a chain of mules each passing a payment on
//! within the hour, a hub collecting from twenty feeders over a fortnight,
//! money going round a ring back to where it started. These questions walk
//! from account to account along the events history already keeps (each
//! event names its counterparty), so they cost no memory of their own.
//!
//! Each answer is what the stream before the cursor holds, as for every
//! history question, and each question has a fixed budget of events it may
//! read ([`EVENT_BUDGET`]), spent in a fixed order, so a cut-short answer
//! is the same on a busy host and an idle one and says it was cut short.
//! Accounts are read one at a time, each under its own shard's read lock
//! and copied out before the next is read: no lock is held while another is
//! taken.

use std::collections::HashMap;

use super::events::Event;
use super::keys;
use super::{Cursor, Direction, History, Query, Space};

/// The most events one network question reads.
pub const EVENT_BUDGET: usize = 4_096;
/// The most flows a `counterparties` answer lists.
pub const FLOW_LIMIT: usize = 64;
/// The most hops a path has.
pub const MAX_HOPS: u8 = 8;

/// What an account exchanged with one counterparty in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// The counterparty's handle.
    pub counterparty: u64,
    /// How many transactions.
    pub count: u32,
    /// Their total, in tiyn.
    pub sum: i64,
    /// The earliest one's time.
    pub first: i64,
    /// The latest one's time.
    pub last: i64,
}

/// The answer to [`History::counterparties`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flows {
    /// The largest flows first.
    pub flows: Vec<Flow>,
    /// Distinct counterparties in the window, listed or not.
    pub total: u32,
    /// False when the budget ran out before the window did.
    pub complete: bool,
}

/// One payment on a path of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    /// The payer's handle.
    pub from: u64,
    /// The payee's handle.
    pub to: u64,
    /// The amount, in tiyn.
    pub amount: i64,
    /// When it was made.
    pub time: i64,
}

/// A path of payments, the earliest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path {
    /// The hops.
    pub hops: Vec<Hop>,
    /// False when the budget ran out before the search ended.
    pub complete: bool,
}

/// How to follow money from account to account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trail {
    /// The longest rest in an account between arriving and leaving, seconds.
    pub max_dwell: u32,
    /// The least share passed on, in thousandths.
    pub min_share: u16,
    /// The most hops followed (capped at [`MAX_HOPS`]).
    pub max_hops: u8,
    /// Bit `k` set follows kind `TxKind::ALL[k]`; 0 follows all.
    pub kinds: u8,
    /// Smaller payments are not followed, tiyn.
    pub min_amount: i64,
}

impl Trail {
    fn follows(&self, e: &Event) -> bool {
        (self.kinds == 0 || self.kinds & (1 << (e.kind as u8)) != 0) && e.amount >= self.min_amount
    }

    /// Whether `amount` is at least `min_share` of `of`.
    fn carries(&self, amount: i64, of: i64) -> bool {
        i128::from(amount) * 1000 >= i128::from(of) * i128::from(self.min_share.min(1000))
    }
}

/// Events read so far by one question.
struct Budget(usize);

impl Budget {
    fn spent(&self) -> bool {
        self.0 >= EVENT_BUDGET
    }
}

impl History {
    /// The events of account `handle` before position `before` with times
    /// in `(since, until]`, newest first, read against `budget`; `None`
    /// when the handle is not a kept account. The second value is false
    /// when the budget ran out first.
    fn window_events(
        &self,
        handle: u64,
        before: u64,
        since: i64,
        until: i64,
        budget: &mut Budget,
    ) -> Option<(Vec<Event>, bool)> {
        let shard = self.shard(handle as usize);
        let acct = shard
            .keys
            .get(handle)
            .filter(|k| k.space == Space::Account)?;
        let end = acct.events.before(before);
        let mut out = Vec::new();
        for i in (0..end).rev() {
            if budget.spent() {
                return Some((out, false));
            }
            budget.0 += 1;
            let Some(e) = acct.events.get(i) else {
                continue;
            };
            if e.time <= since {
                if acct.ordered {
                    break;
                }
                continue;
            }
            if e.time <= until {
                out.push(e);
            }
        }
        Some((out, true))
    }

    /// The handle of the account an event names as its counterparty.
    fn counterparty(&self, e: &Event) -> Option<u64> {
        self.account_of_party(e.counterparty)
    }

    /// The handle of the account whose party id is `party`.
    fn account_of_party(&self, party: u64) -> Option<u64> {
        let shard = self.shard(keys::shard_of_party(party));
        shard
            .keys
            .handle_of_party(party)
            .filter(|&h| shard.keys.get(h).is_some_and(|k| k.space == Space::Account))
    }

    /// The account's reference (IBAN or card reference) while it is kept;
    /// `None` for a device's or holder's handle.
    pub fn reference(&self, handle: u64) -> Option<String> {
        let shard = self.shard(handle as usize);
        shard
            .keys
            .get(handle)
            .filter(|k| k.space == Space::Account)
            .map(|k| k.name().to_owned())
    }

    /// The accounts `q.account` dealt with in `q`'s window as of `at`, the
    /// largest total first, at most `limit` (capped at [`FLOW_LIMIT`]).
    pub fn counterparties(&self, at: Cursor, q: &Query, limit: u32) -> Flows {
        let since = at.time.saturating_sub(i64::from(q.window)).max(at.horizon);
        let mut budget = Budget(0);
        let Some((events, complete)) =
            self.window_events(q.account, at.seq, since, at.time, &mut budget)
        else {
            return Flows {
                complete: true,
                ..Flows::default()
            };
        };
        // Per counterparty: the flow, and the position of its first event.
        let mut by_party: HashMap<u64, (Flow, u64)> = HashMap::new();
        for e in events.iter().filter(|e| q.counts(e)) {
            let entry = by_party.entry(e.counterparty).or_insert((
                Flow {
                    counterparty: e.counterparty,
                    count: 0,
                    sum: 0,
                    first: e.time,
                    last: e.time,
                },
                e.seq,
            ));
            entry.0.count += 1;
            entry.0.sum = entry.0.sum.saturating_add(e.amount);
            entry.0.first = entry.0.first.min(e.time);
            entry.0.last = entry.0.last.max(e.time);
            entry.1 = entry.1.min(e.seq);
        }
        let total = u32::try_from(by_party.len()).unwrap_or(u32::MAX);
        let mut flows: Vec<(Flow, u64)> = by_party.into_values().collect();
        flows.sort_unstable_by(|(a, a_seq), (b, b_seq)| {
            b.sum
                .cmp(&a.sum)
                .then(a.first.cmp(&b.first))
                .then(a_seq.cmp(b_seq))
        });
        let limit = usize::try_from(limit).unwrap_or(usize::MAX).min(FLOW_LIMIT);
        let flows = flows
            .into_iter()
            .filter_map(|(flow, _)| {
                let handle = self.account_of_party(flow.counterparty)?;
                Some(Flow {
                    counterparty: handle,
                    ..flow
                })
            })
            .take(limit)
            .collect();
        Flows {
            flows,
            total,
            complete,
        }
    }

    /// Follows `amount`, leaving `account` at `at`, back through the
    /// accounts it passed through; see the WIT `trace-back`.
    pub fn trace_back(&self, at: Cursor, account: u64, amount: i64, trail: &Trail) -> Path {
        let mut budget = Budget(0);
        let mut hops: Vec<Hop> = Vec::new();
        let (mut acct, mut amount, mut before, mut until) = (account, amount, at.seq, at.time);
        let mut complete = true;
        while hops.len() < usize::from(trail.max_hops.min(MAX_HOPS)) {
            let since = until
                .saturating_sub(i64::from(trail.max_dwell))
                .max(at.horizon);
            let Some((events, whole)) = self.window_events(acct, before, since, until, &mut budget)
            else {
                break;
            };
            complete &= whole;
            let inflow: Vec<&Event> = events
                .iter()
                .filter(|e| e.inbound && trail.follows(e))
                .collect();
            let total: i64 = inflow.iter().map(|e| e.amount).fold(0, i64::saturating_add);
            if total == 0 || amount > total || !trail.carries(amount, total) {
                break;
            }
            // The largest payment in; of equal ones, the latest.
            let Some(largest) = inflow
                .iter()
                .copied()
                .max_by(|a, b| a.amount.cmp(&b.amount).then(a.seq.cmp(&b.seq)))
            else {
                break;
            };
            let Some(payer) = self.counterparty(largest) else {
                break;
            };
            // A path visits an account once.
            if payer == account || hops.iter().any(|h| h.from == payer) {
                break;
            }
            hops.push(Hop {
                from: payer,
                to: acct,
                amount: largest.amount,
                time: largest.time,
            });
            (acct, amount, before, until) = (payer, largest.amount, largest.seq, largest.time);
            if !whole {
                break;
            }
        }
        hops.reverse();
        Path { hops, complete }
    }

    /// A path of payments from `source` to `target` in the `window` seconds
    /// before `at`; see the WIT `find-path`.
    pub fn find_path(
        &self,
        at: Cursor,
        source: u64,
        target: u64,
        window: u32,
        trail: &Trail,
    ) -> Path {
        let since = at.time.saturating_sub(i64::from(window)).max(at.horizon);
        let mut search = Search {
            history: self,
            at,
            target,
            trail,
            budget: Budget(0),
            path: Vec::new(),
            visited: vec![source],
        };
        let found = search.from(source, None, since);
        Path {
            hops: if found { search.path } else { Vec::new() },
            complete: found || !search.budget.spent(),
        }
    }
}

/// A depth-first search for a path of payments.
struct Search<'a> {
    history: &'a History,
    at: Cursor,
    target: u64,
    trail: &'a Trail,
    budget: Budget,
    path: Vec<Hop>,
    /// The accounts on the current path.
    visited: Vec<u64>,
}

impl Search<'_> {
    /// Tries the onward payments of `acct` after `prev` (the payment that
    /// brought the money there; none at the source, whose payments since
    /// `since` are all tried). True when `path` reaches the target.
    fn from(&mut self, acct: u64, prev: Option<Event>, since: i64) -> bool {
        let (after_seq, lo, hi) = match prev {
            Some(e) => (
                e.seq,
                e.time,
                e.time.saturating_add(i64::from(self.trail.max_dwell)),
            ),
            None => (0, since, self.at.time),
        };
        let Some((mut events, _)) = self.history.window_events(
            acct,
            self.at.seq,
            lo.saturating_sub(1).max(since),
            hi.min(self.at.time),
            &mut self.budget,
        ) else {
            return false;
        };
        // Onward payments in stream order.
        events.reverse();
        for e in events {
            if e.inbound || e.seq <= after_seq || !self.trail.follows(&e) {
                continue;
            }
            if let Some(p) = prev
                && !self.trail.carries(e.amount, p.amount)
            {
                continue;
            }
            let Some(next) = self.history.counterparty(&e) else {
                continue;
            };
            if self.visited.contains(&next) && next != self.target {
                continue;
            }
            self.path.push(Hop {
                from: acct,
                to: next,
                amount: e.amount,
                time: e.time,
            });
            if next == self.target {
                return true;
            }
            if self.path.len() < usize::from(self.trail.max_hops.min(MAX_HOPS)) {
                self.visited.push(next);
                if self.from(next, Some(e), since) {
                    return true;
                }
                self.visited.pop();
            }
            self.path.pop();
            if self.budget.spent() {
                return false;
            }
        }
        false
    }
}

impl Query {
    /// Whether an event of the queried account counts for this query.
    fn counts(&self, e: &Event) -> bool {
        let direction_ok = match self.direction {
            Direction::Inbound => e.inbound,
            Direction::Outbound => !e.inbound,
            Direction::Both => true,
        };
        let kind_ok = self.kinds == 0 || self.kinds & (1 << (e.kind as u8)) != 0;
        direction_ok && kind_ok && e.amount >= self.min_amount && e.amount <= self.max_amount
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{record, tx};
    use super::*;

    fn trail() -> Trail {
        Trail {
            max_dwell: 3600,
            min_share: 800,
            max_hops: 4,
            kinds: 0,
            min_amount: 0,
        }
    }

    fn names(h: &History, path: &Path) -> Vec<String> {
        let mut out: Vec<String> = path
            .hops
            .first()
            .and_then(|hop| h.reference(hop.from))
            .into_iter()
            .collect();
        out.extend(path.hops.iter().filter_map(|hop| h.reference(hop.to)));
        out
    }

    #[test]
    fn trace_back_follows_a_chain_of_quick_pass_throughs_and_stops_at_a_slow_one() {
        let h = History::default();
        let stamps = record(
            &h,
            &[
                tx("1", "O", "M1", "1000.00", "2025-03-01T09:00:00Z"),
                tx("2", "V", "M2", "960.00", "2025-03-01T10:00:00Z"),
                tx("3", "M1", "M2", "980.00", "2025-03-01T11:10:00Z"),
                tx("4", "M2", "M3", "950.00", "2025-03-01T11:40:00Z"),
                tx("5", "M3", "OUT", "940.00", "2025-03-01T12:00:00Z"),
            ],
        );
        let (at, m3) = (stamps[4].at, stamps[4].sender);
        let path = h.trace_back(at, m3, 94_000, &trail());
        // M1 got O's money more than an hour before passing it on; M2 got
        // V's 960 too, so 950 is well within what M2 received in the hour.
        assert_eq!(names(&h, &path), ["M1", "M2", "M3"]);
        assert!(path.complete);
        assert_eq!(
            path.hops.iter().map(|h| h.amount).collect::<Vec<_>>(),
            [98_000, 95_000]
        );
        // Sending more than came in is not passing money through.
        assert!(h.trace_back(at, m3, 96_000, &trail()).hops.is_empty());
        // Nor is sending a small part of it.
        assert!(h.trace_back(at, m3, 10_000, &trail()).hops.is_empty());
    }

    #[test]
    fn find_path_sees_money_return_to_its_start_only_along_time_and_share() {
        let h = History::default();
        let stamps = record(
            &h,
            &[
                tx("1", "A", "B", "1000.00", "2025-03-01T09:00:00Z"),
                tx("2", "B", "C", "990.00", "2025-03-01T09:30:00Z"),
                tx("3", "C", "D", "100.00", "2025-03-01T09:40:00Z"),
                tx("4", "C", "A", "980.00", "2025-03-01T10:00:00Z"),
            ],
        );
        let last = stamps[3];
        // At the closing payment C→A: did money go from A to C before?
        let path = h.find_path(last.at, last.recipient, last.sender, 86_400, &trail());
        assert_eq!(names(&h, &path), ["A", "B", "C"]);
        // A payment before the money arrived is not on its path.
        let early = h.find_path(
            stamps[1].at,
            stamps[1].recipient,
            stamps[0].sender,
            86_400,
            &trail(),
        );
        assert!(early.hops.is_empty() && early.complete);
        // The window ends the search.
        let short = h.find_path(last.at, last.recipient, last.sender, 1800, &trail());
        assert!(short.hops.is_empty());
    }

    #[test]
    fn counterparties_lists_the_largest_flows_first_with_their_times() {
        let h = History::default();
        let stamps = record(
            &h,
            &[
                tx("1", "F1", "HUB", "100.00", "2025-03-01T09:00:00Z"),
                tx("2", "F2", "HUB", "300.00", "2025-03-02T09:00:00Z"),
                tx("3", "F1", "HUB", "250.00", "2025-03-03T09:00:00Z"),
                tx("4", "HUB", "OUT", "600.00", "2025-03-04T09:00:00Z"),
            ],
        );
        let hub = stamps[0].recipient;
        let q = Query {
            account: hub,
            window: 7 * 86_400,
            direction: Direction::Inbound,
            kinds: 0,
            min_amount: 0,
            max_amount: i64::MAX,
        };
        let flows = h.counterparties(stamps[3].at, &q, 10);
        assert_eq!(flows.total, 2);
        assert!(flows.complete);
        let listed: Vec<(Option<String>, u32, i64)> = flows
            .flows
            .iter()
            .map(|f| (h.reference(f.counterparty), f.count, f.sum))
            .collect();
        assert_eq!(
            listed,
            [
                (Some("F1".into()), 2, 35_000),
                (Some("F2".into()), 1, 30_000)
            ]
        );
        assert_eq!(h.counterparties(stamps[3].at, &q, 1).flows.len(), 1);
    }

    #[test]
    fn a_question_that_runs_out_of_budget_says_so() {
        let h = History::default();
        let txs: Vec<_> = (0..EVENT_BUDGET + 10)
            .map(|i| {
                tx(
                    &i.to_string(),
                    &format!("P{i}"),
                    "BUSY",
                    "1.00",
                    "2025-03-01T09:00:00Z",
                )
            })
            .collect();
        let stamps = record(&h, &txs);
        let last = stamps[stamps.len() - 1];
        let q = Query {
            account: last.recipient,
            window: 86_400,
            direction: Direction::Inbound,
            kinds: 0,
            min_amount: 0,
            max_amount: i64::MAX,
        };
        let flows = h.counterparties(last.at, &q, 64);
        assert!(!flows.complete);
        assert_eq!(flows.total as usize, EVENT_BUDGET);
        assert_eq!(flows.flows.len(), FLOW_LIMIT);
    }
}
