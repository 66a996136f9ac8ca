//! What the engine remembers about accounts, for rules that look back.
//!
//! Every transaction the engine decides is first *recorded*: it gets a
//! position in the stream (a [`Cursor`]) and an event on the sender's and the
//! recipient's account. A rule's history question is asked at a cursor and is
//! answered from events strictly before that position. Recording is
//! serialised and cheap; evaluation is not: any number of threads may decide
//! recorded transactions at once, and each still sees exactly the history
//! before it in stream order. That is what makes a decision on four threads
//! the same as on one.
//!
//! Memory is bounded by time. Each position has a *horizon*: the
//! retention period back from the newest time recorded up to and including
//! it (the *watermark*, which the journal keeps from jumping:
//! [`crate::journal::admit`]). A question asked at a cursor sees no event
//! at or before the cursor's horizon, whether or not that event is still
//! in memory; and memory drops an event only once every transaction that
//! could still ask about it was decided ([`Recorded`] tracks that). So an
//! answer depends on the stream alone, never on how far recording has run
//! ahead of deciding: on one thread or four, in batches of one or of 256,
//! live or at replay. Accounts with nothing left inside the retention
//! period are forgotten. There is no cap on an account's events by default: a busy
//! key (a merchant, an ATM, a payroll account) keeps its whole window, as
//! a rule is not told when a window was cut short.
//! [`HistoryLimits::max_events_per_account`] can set one for an embedder
//! that prefers a bound to exact answers. Accounts are
//! known to rules by handles; a handle is never reused, so a forgotten
//! account's handle simply answers with empty history.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

mod events;
mod footprint;
mod keys;
mod network;

use self::events::Event;
pub use self::footprint::{Footprint, FootprintError};
use self::keys::{Keys, party};
pub use self::network::{EVENT_BUDGET, FLOW_LIMIT, Flow, Flows, Hop, MAX_HOPS, Path, Trail};
use crate::transaction::{Transaction, TxKind};

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;
/// How many appends a shard takes between sweeps for idle accounts.
const SWEEP_EVERY: u32 = 4096;

thread_local! {
    /// The counterparties an aggregate gathers, kept between calls so that
    /// answering a question allocates nothing.
    static PARTIES: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Where a transaction stands in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// Position in the stream; later transactions have higher positions.
    pub seq: u64,
    /// The transaction's own time, seconds since the epoch.
    pub time: i64,
    /// The retention horizon at this position: questions asked here see
    /// no event dated at or before it. `i64::MIN` sees all that is kept.
    pub horizon: i64,
}

impl Cursor {
    /// The cursor of position `seq` at `time`, with no horizon of its own
    /// (it sees all that is kept).
    pub fn new(seq: u64, time: i64) -> Cursor {
        Cursor {
            seq,
            time,
            horizon: i64::MIN,
        }
    }
}

/// A transaction's place in history: its cursor and the handles of the
/// accounts (and device) it involves, as rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Where the transaction stands in the stream.
    pub at: Cursor,
    /// The sender's account handle.
    pub sender: u64,
    /// The recipient's account handle.
    pub recipient: u64,
    /// The device's handle, if the transaction names a device.
    pub device: Option<u64>,
    /// The handle of the sender's IIN/BIN, if given.
    pub sender_holder: Option<u64>,
    /// The handle of the recipient's IIN/BIN, if given.
    pub recipient_holder: Option<u64>,
}

/// Which direction of money a query counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Money the account received.
    Inbound,
    /// Money the account sent.
    Outbound,
    /// Both.
    Both,
}

/// A question about one account's recent activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// The account's handle.
    pub account: u64,
    /// The window's length in seconds, ending at the cursor's time.
    pub window: u32,
    /// Which direction to count.
    pub direction: Direction,
    /// Bit `k` set counts transactions of kind `TxKind::ALL[k]`; 0 counts all.
    pub kinds: u8,
    /// Smallest amount counted, in tiyn.
    pub min_amount: i64,
    /// Largest amount counted, in tiyn.
    pub max_amount: i64,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Aggregate {
    /// How many transactions matched.
    pub count: u32,
    /// Their total, in tiyn.
    pub sum: i64,
    /// The largest single amount, in tiyn.
    pub max: i64,
    /// Distinct counterparty accounts among them.
    pub counterparties: u32,
    /// Time of the earliest match.
    pub first: Option<i64>,
    /// Time of the latest match.
    pub last: Option<i64>,
}

/// Bounds on what history keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimits {
    /// How long events are kept, in seconds, behind the newest transaction.
    pub retention_secs: i64,
    /// The most events kept per account; older ones are dropped first.
    /// Unbounded (`usize::MAX`) by default: a cap cuts a busy key's windows
    /// short without the rules knowing.
    pub max_events_per_account: usize,
}

impl Default for HistoryLimits {
    fn default() -> Self {
        HistoryLimits {
            retention_secs: 30 * 24 * 3600,
            max_events_per_account: usize::MAX,
        }
    }
}

/// What a handle stands for. Each space has its own names, so an account
/// called `device:1` is not the device `1`, and interning a device or a
/// holder needs no prefixed copy of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Space {
    Account = 0,
    Device = 1,
    Holder = 2,
}

/// A batch recorded but maybe not decided yet.
#[derive(Debug, Clone, Copy)]
struct Open {
    ticket: u64,
    /// The horizon of the batch's last position.
    horizon: i64,
    decided: bool,
}

/// The recorded batches not yet known to be decided, in position order.
#[derive(Debug, Default)]
struct InFlight {
    next_ticket: u64,
    open: VecDeque<Open>,
}

/// What decides when memory may drop an event: the batches in flight and
/// the horizon they leave behind.
#[derive(Debug)]
struct Settling {
    in_flight: Mutex<InFlight>,
    /// Events dated at or before this horizon may be dropped: it is the
    /// horizon of the last position before which everything was decided,
    /// and horizons grow with positions, so no question still to be
    /// answered sees such an event.
    droppable: AtomicI64,
}

impl Settling {
    fn lock(&self) -> MutexGuard<'_, InFlight> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Batch `ticket` was decided: the batches decided without a gap
    /// before any still in flight no longer hold memory back.
    fn settle(&self, ticket: u64) {
        let mut in_flight = self.lock();
        if let Some(open) = in_flight.open.iter_mut().find(|o| o.ticket == ticket) {
            open.decided = true;
        }
        while let Some(front) = in_flight.open.front().copied() {
            if !front.decided {
                break;
            }
            in_flight.open.pop_front();
            self.droppable.fetch_max(front.horizon, Ordering::Relaxed);
        }
    }
}

/// Transactions just recorded ([`History::record_pending`]): their stamps,
/// and a hold on memory. While it lives, no event that a question at one
/// of its cursors may see is dropped; drop it once they are decided.
#[derive(Debug)]
#[must_use = "memory is held for the recorded batch until this is dropped"]
pub struct Recorded {
    stamps: Vec<Stamp>,
    ticket: Option<u64>,
    settling: Arc<Settling>,
}

impl Recorded {
    /// The stamps, one per transaction, in order.
    pub fn stamps(&self) -> &[Stamp] {
        &self.stamps
    }

    /// The stamps, releasing the hold on memory (the batch is decided).
    pub fn into_stamps(mut self) -> Vec<Stamp> {
        std::mem::take(&mut self.stamps)
    }
}

impl Drop for Recorded {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.settling.settle(ticket);
        }
    }
}

/// The hasher of history's maps and shards: foldhash with a fixed seed, so
/// handles are the same from run to run. Keys are the bank's account ids,
/// device ids and IINs; SipHash showed at the top of recording's profile.
type FixedState = foldhash::fast::FixedState;

#[derive(Debug, Default)]
struct Shard {
    keys: Keys,
    appends_since_sweep: u32,
}

/// The engine's memory of accounts. Shared by every worker; see the module
/// documentation for its semantics.
#[derive(Debug)]
pub struct History {
    shards: Box<[RwLock<Shard>]>,
    /// The recorded batches still being decided, and so what memory may
    /// drop; its lock serialises recording, so positions are handed out in
    /// the order events become visible.
    settling: Arc<Settling>,
    next_seq: AtomicU64,
    newest_time: AtomicI64,
    retention_secs: AtomicI64,
    limits: HistoryLimits,
    hasher: FixedState,
}

impl Default for History {
    fn default() -> Self {
        History::new(HistoryLimits::default())
    }
}

impl History {
    /// An empty history with the given bounds.
    pub fn new(limits: HistoryLimits) -> History {
        History {
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
            settling: Arc::new(Settling {
                in_flight: Mutex::new(InFlight::default()),
                droppable: AtomicI64::new(i64::MIN),
            }),
            next_seq: AtomicU64::new(1),
            newest_time: AtomicI64::new(i64::MIN),
            retention_secs: AtomicI64::new(limits.retention_secs),
            limits,
            hasher: FixedState::default(),
        }
    }

    /// The bounds this history keeps to.
    pub fn limits(&self) -> HistoryLimits {
        HistoryLimits {
            retention_secs: self.retention_secs.load(Ordering::Relaxed),
            ..self.limits
        }
    }

    /// The newest time recorded, if anything was: retention is measured
    /// back from it.
    pub fn watermark(&self) -> Option<i64> {
        let newest = self.newest_time.load(Ordering::Relaxed);
        (newest != i64::MIN).then_some(newest)
    }

    /// Changes how long events are kept (the active pack decides).
    pub fn set_retention(&self, secs: i64) {
        self.retention_secs.store(secs.max(1), Ordering::Relaxed);
    }

    /// The hash of a key in its space.
    fn hash_of(&self, space: Space, key: &str) -> u64 {
        self.hasher.hash_one((space as u8, key))
    }

    /// The shard of a key hashed to `hash`: the top bits of the hash mixed
    /// once more, as the shard's table uses the hash's own top bits (to
    /// tell keys apart) and low bits (to place them).
    fn shard_of(hash: u64) -> usize {
        (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (u64::BITS - SHARD_BITS)) as usize
    }

    fn shard(&self, index: usize) -> std::sync::RwLockReadGuard<'_, Shard> {
        let lock = self
            .shards
            .get(index & (SHARDS - 1))
            .unwrap_or(&self.shards[0]);
        lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn shard_mut(&self, index: usize) -> std::sync::RwLockWriteGuard<'_, Shard> {
        let lock = self
            .shards
            .get(index & (SHARDS - 1))
            .unwrap_or(&self.shards[0]);
        lock.write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The handle of `key` in `space`, creating it if needed; 0 (which
    /// names nothing) only if its shard is full, which memory would not
    /// allow long before.
    fn intern(&self, space: Space, key: &str) -> u64 {
        let hash = self.hash_of(space, key);
        let index = Self::shard_of(hash);
        if let Some(handle) = self.shard(index).keys.find(index, hash, space, key) {
            return handle;
        }
        let mut shard = self.shard_mut(index);
        if let Some(handle) = shard.keys.find(index, hash, space, key) {
            return handle;
        }
        shard
            .keys
            .insert(index, hash, space, key, |space, key| {
                self.hash_of(space, key)
            })
            .unwrap_or(0)
    }

    /// The handles of a transaction's device and holders, created if needed.
    fn link_handles(&self, fp: &Footprint<'_>) -> (Option<u64>, Option<u64>, Option<u64>) {
        let device = fp.device.map(|id| self.intern(Space::Device, id));
        let holder = |iin: Option<&str>| iin.map(|iin| self.intern(Space::Holder, iin));
        (
            device,
            holder(fp.sender_holder),
            holder(fp.recipient_holder),
        )
    }

    /// The account a handle stands for, while it is kept; a device's handle
    /// is named `device:ID` and a holder's `iin:IIN`.
    pub fn name_of(&self, handle: u64) -> Option<Arc<str>> {
        let shard = self.shard(handle as usize);
        let key = shard.keys.get(handle)?;
        Some(match key.space {
            Space::Account => Arc::from(key.name()),
            Space::Device => Arc::from(format!("device:{}", key.name())),
            Space::Holder => Arc::from(format!("iin:{}", key.name())),
        })
    }

    /// Records transactions in order, each with its amount in tiyn, so later
    /// questions see them, and returns their stamps. Transactions recorded by
    /// one call are consecutive in the stream. Use it for transactions
    /// nobody will decide (a restore, a preload); for a batch about to be
    /// decided, [`History::record_pending`].
    pub fn record<'a>(&self, txs: impl IntoIterator<Item = (&'a Transaction, i64)>) -> Vec<Stamp> {
        self.record_pending(txs).into_stamps()
    }

    /// Records footprints in order, as [`History::record`] records the
    /// transactions they were taken from (a restore from a journal that
    /// keeps footprints).
    pub fn record_footprints<'a>(
        &self,
        footprints: impl IntoIterator<Item = Footprint<'a>>,
    ) -> Vec<Stamp> {
        self.record_pending_footprints(footprints).into_stamps()
    }

    /// Records transactions like [`History::record`], for deciding: until
    /// the returned [`Recorded`] is dropped, memory keeps every event a
    /// question at its cursors may see.
    pub fn record_pending<'a>(
        &self,
        txs: impl IntoIterator<Item = (&'a Transaction, i64)>,
    ) -> Recorded {
        self.record_pending_footprints(
            txs.into_iter()
                .map(|(tx, amount)| Footprint::of(tx, amount)),
        )
    }

    /// Records footprints like [`History::record_footprints`], holding
    /// memory like [`History::record_pending`]: for entries that another
    /// writer of a shared journal is deciding, whose cursors a question may
    /// still be asked at until they are known to be decided.
    pub fn record_pending_footprints<'a>(
        &self,
        footprints: impl IntoIterator<Item = Footprint<'a>>,
    ) -> Recorded {
        let mut in_flight = self.settling.lock();
        let stamps: Vec<Stamp> = footprints
            .into_iter()
            .map(|fp| self.record_one(&fp))
            .collect();
        self.held(&mut in_flight, stamps)
    }

    /// A [`Recorded`] holding memory for `stamps` until it is dropped: a
    /// ticket at the end of the batches in flight, with the horizon of the
    /// last stamp.
    fn held(&self, in_flight: &mut InFlight, stamps: Vec<Stamp>) -> Recorded {
        let ticket = stamps.last().map(|last| {
            let ticket = in_flight.next_ticket;
            in_flight.next_ticket += 1;
            in_flight.open.push_back(Open {
                ticket,
                horizon: last.at.horizon,
                decided: false,
            });
            ticket
        });
        Recorded {
            stamps,
            ticket,
            settling: Arc::clone(&self.settling),
        }
    }

    /// A hold-free [`Recorded`] for transactions already recorded at
    /// `stamps`, by a call whose own [`Recorded`] still holds memory for
    /// them: to decide, at their own positions, transactions recorded while
    /// catching up with a shared journal.
    pub fn already_recorded(&self, stamps: Vec<Stamp>) -> Recorded {
        Recorded {
            stamps,
            ticket: None,
            settling: Arc::clone(&self.settling),
        }
    }

    /// A second hold on memory for the transactions just recorded at
    /// `stamps` (the latest recorded): kept by a replica of a shared
    /// journal until every replica is known to have decided them, so that
    /// another one could still decide them at their positions.
    pub fn hold(&self, stamps: Vec<Stamp>) -> Recorded {
        let mut in_flight = self.settling.lock();
        self.held(&mut in_flight, stamps)
    }

    /// The horizon of a position whose watermark is `newest`.
    fn horizon(&self, newest: i64) -> i64 {
        newest.saturating_sub(self.retention_secs.load(Ordering::Relaxed))
    }

    fn record_one(&self, fp: &Footprint<'_>) -> Stamp {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let (time, amount, kind) = (fp.time, fp.amount, fp.kind);
        let newest = self
            .newest_time
            .fetch_max(time, Ordering::Relaxed)
            .max(time);
        let horizon = self.horizon(newest);
        let sender = self.intern(Space::Account, fp.sender);
        let recipient = self.intern(Space::Account, fp.recipient);
        let (device, sender_holder, recipient_holder) = self.link_handles(fp);
        let mut due = [None; 5];
        due[0] = self.push(sender, seq, time, amount, recipient, kind, false);
        if recipient != sender {
            due[1] = self.push(recipient, seq, time, amount, sender, kind, true);
        }
        // Links: the device the sender used, and the accounts each holder
        // appeared with. They are events on the key, whose counterparty is
        // the linked account.
        let links = [
            (device, sender),
            (sender_holder, sender),
            (recipient_holder, recipient),
        ];
        for ((key, account), due) in links.into_iter().zip(due.iter_mut().skip(2)) {
            if let Some(key) = key {
                *due = self.push(key, seq, time, amount, account, kind, false);
            }
        }
        // Idle keys are swept only once every key of the transaction has
        // its event: a key just created has none before then.
        for index in due.into_iter().flatten() {
            self.sweep(index);
        }
        Stamp {
            at: Cursor { seq, time, horizon },
            sender,
            recipient,
            device,
            sender_holder,
            recipient_holder,
        }
    }

    /// Adds an event to `account`'s, dropping what retention no longer
    /// keeps; returns the account's shard when it is due a sweep.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &self,
        account: u64,
        seq: u64,
        time: i64,
        amount: i64,
        counterparty: u64,
        kind: TxKind,
        inbound: bool,
    ) -> Option<usize> {
        let horizon = self.settling.droppable.load(Ordering::Relaxed);
        let mut shard = self.shard_mut(account as usize);
        if let Some(key) = shard.keys.get_mut(account) {
            key.touch(time);
            key.events.push_back(Event {
                seq,
                time,
                amount,
                counterparty: party(counterparty),
                kind,
                inbound,
            });
            while key.events.len() > self.limits.max_events_per_account
                || key.events.front().is_some_and(|e| e.time < horizon)
            {
                key.events.pop_front();
            }
        }
        shard.appends_since_sweep += 1;
        (shard.appends_since_sweep >= SWEEP_EVERY).then_some(account as usize & (SHARDS - 1))
    }

    /// Forgets the keys of shard `index` with nothing left inside the
    /// retention period.
    fn sweep(&self, index: usize) {
        let horizon = self.settling.droppable.load(Ordering::Relaxed);
        let mut shard = self.shard_mut(index);
        shard.appends_since_sweep = 0;
        shard
            .keys
            .sweep(horizon, |space, key| self.hash_of(space, key));
    }

    /// Stamps transactions without recording them: each is placed after
    /// everything recorded so far, and nothing it does is remembered.
    pub fn stamp_only<'a>(&self, txs: impl IntoIterator<Item = &'a Transaction>) -> Vec<Stamp> {
        let seq = self.next_seq.load(Ordering::Relaxed);
        txs.into_iter()
            .map(|tx| {
                let fp = Footprint::of(tx, 0);
                let (device, sender_holder, recipient_holder) = self.link_handles(&fp);
                let newest = self.newest_time.load(Ordering::Relaxed).max(tx.timestamp);
                Stamp {
                    at: Cursor {
                        seq,
                        time: tx.timestamp,
                        horizon: self.horizon(newest),
                    },
                    sender: self.intern(Space::Account, fp.sender),
                    recipient: self.intern(Space::Account, fp.recipient),
                    device,
                    sender_holder,
                    recipient_holder,
                }
            })
            .collect()
    }

    /// Answers `q` as of `at`: events strictly before `at.seq`, with times in
    /// `(at.time - window, at.time]` and after `at.horizon`.
    pub fn aggregate(&self, at: Cursor, q: &Query) -> Aggregate {
        let shard = self.shard(q.account as usize);
        // A device's or a holder's events are links, with no amounts: only
        // `linked_accounts` asks about them.
        match shard.keys.get(q.account) {
            Some(key) if key.space == Space::Account => {
                PARTIES.with_borrow_mut(|parties| Self::fold(key, at, q, parties))
            }
            _ => Aggregate::default(),
        }
    }

    /// Totals of the events of `acct` that `q` counts as of `at`, using
    /// `parties` (emptied first) to count distinct counterparties.
    fn fold(acct: &keys::Slot, at: Cursor, q: &Query, parties: &mut Vec<u64>) -> Aggregate {
        let since = at.time.saturating_sub(i64::from(q.window)).max(at.horizon);
        let mut out = Aggregate::default();
        parties.clear();
        // Walk back from the cursor; with ordered times the walk stops at
        // the window's start, so the cost is the window's events, not the
        // account's whole history.
        let end = acct.events.before(at.seq);
        for e in (0..end).rev().filter_map(|i| acct.events.get(i)) {
            if e.time <= since {
                if acct.ordered {
                    break;
                }
                continue;
            }
            if e.time > at.time {
                continue;
            }
            let direction_ok = match q.direction {
                Direction::Inbound => e.inbound,
                Direction::Outbound => !e.inbound,
                Direction::Both => true,
            };
            let kind_ok = q.kinds == 0 || q.kinds & (1 << (e.kind as u8)) != 0;
            if !direction_ok || !kind_ok || e.amount < q.min_amount || e.amount > q.max_amount {
                continue;
            }
            out.count += 1;
            out.sum = out.sum.saturating_add(e.amount);
            out.max = out.max.max(e.amount);
            out.first = Some(out.first.map_or(e.time, |t| t.min(e.time)));
            out.last = Some(out.last.map_or(e.time, |t| t.max(e.time)));
            parties.push(e.counterparty);
        }
        parties.sort_unstable();
        parties.dedup();
        out.counterparties = u32::try_from(parties.len()).unwrap_or(u32::MAX);
        out
    }

    /// When the account was first seen before `at`.
    ///
    /// An account is remembered while it is active: when nothing it did
    /// before `at` is inside the retention period, it counts as never seen,
    /// whether or not a sweep has forgotten it yet.
    pub fn first_seen(&self, at: Cursor, account: u64) -> Option<i64> {
        let shard = self.shard(account as usize);
        let acct = shard
            .keys
            .get(account)
            .filter(|k| k.space == Space::Account)?;
        let time = acct.first_seen()?;
        let horizon = at
            .time
            .saturating_sub(self.retention_secs.load(Ordering::Relaxed))
            .max(at.horizon);
        let end = acct.events.before(at.seq);
        let recent = |e: &Event| e.time > horizon && e.time <= at.time;
        // With ordered times the newest event not after the cursor's time
        // decides, found by walking back from the cursor.
        let active = if acct.ordered {
            (0..end)
                .rev()
                .filter_map(|i| acct.events.get(i))
                .find(|e| e.time <= at.time)
                .is_some_and(|e| recent(&e))
        } else {
            (0..end)
                .filter_map(|i| acct.events.get(i))
                .any(|e| recent(&e))
        };
        // An event before the cursor is active, so the key was first seen
        // before it.
        active.then_some(time)
    }

    /// How many distinct accounts were linked to `key` (a device or holder
    /// handle) in the `window` seconds before `at`.
    pub fn linked_accounts(&self, at: Cursor, key: u64, window: u32) -> u32 {
        let shard = self.shard(key as usize);
        let Some(key) = shard.keys.get(key) else {
            return 0;
        };
        let every = Query {
            account: 0,
            window,
            direction: Direction::Both,
            kinds: 0,
            min_amount: i64::MIN,
            max_amount: i64::MAX,
        };
        PARTIES
            .with_borrow_mut(|parties| Self::fold(key, at, &every, parties))
            .counterparties
    }

    /// How many accounts (and devices and holders) are kept now.
    pub fn accounts(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().map(|s| s.keys.len()).unwrap_or(0))
            .sum()
    }
}

/// Fixtures shared by the history module's tests.
#[cfg(test)]
mod tests_support {
    use super::{History, Stamp};
    use crate::transaction::Transaction;

    /// A transfer of `amount` tenge from `from` to `to` at `time`.
    pub(super) fn tx(id: &str, from: &str, to: &str, amount: &str, time: &str) -> Transaction {
        let text = format!(
            r#"{{"id":"{id}","timestamp":"{time}","kind":"transfer","amount":"{amount}",
                "currency":"KZT","sender":{{"account":"{from}"}},"recipient":{{"account":"{to}"}}}}"#
        );
        match Transaction::from_json(&text) {
            Ok(tx) => tx,
            Err(e) => panic!("bad fixture: {e}"),
        }
    }

    /// Records `txs` in order, tenge at par.
    pub(super) fn record(h: &History, txs: &[Transaction]) -> Vec<Stamp> {
        h.record(
            txs.iter()
                .map(|t| (t, t.amount.to_tiyn((1, 0)).unwrap_or(0))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::{record, tx};
    use super::*;
    use crate::transaction::Transaction;

    fn inbound(account: u64) -> Query {
        Query {
            account,
            window: 24 * 3600,
            direction: Direction::Inbound,
            kinds: 0,
            min_amount: 0,
            max_amount: i64::MAX,
        }
    }

    #[test]
    fn each_transaction_sees_only_what_came_before_it() {
        let h = History::default();
        let stamps = record(
            &h,
            &[
                tx("1", "A", "M", "100.00", "2025-03-01T10:00:00Z"),
                tx("2", "B", "M", "200.00", "2025-03-01T10:01:00Z"),
                tx("3", "C", "M", "300.00", "2025-03-01T10:02:00Z"),
            ],
        );
        let m = stamps[0].recipient;
        let counts: Vec<u32> = stamps
            .iter()
            .map(|s| h.aggregate(s.at, &inbound(m)).count)
            .collect();
        assert_eq!(counts, vec![0, 1, 2]);
        let last = h.aggregate(stamps[2].at, &inbound(m));
        assert_eq!(last.sum, 30_000);
        assert_eq!(last.counterparties, 2);
        assert_eq!(h.first_seen(stamps[0].at, m), None);
        assert_eq!(h.first_seen(stamps[1].at, m), Some(stamps[0].at.time));
    }

    #[test]
    fn a_question_sees_the_same_events_however_far_recording_ran_ahead() {
        let h = History::new(HistoryLimits {
            retention_secs: 3600,
            ..HistoryLimits::default()
        });
        let first = record(&h, &[tx("1", "A", "M", "1.00", "2025-03-01T10:00:00Z")]);
        let m = first[0].recipient;
        let pending = h.record_pending([(&tx("2", "B", "M", "1.00", "2025-03-01T10:30:00Z"), 100)]);
        let at = pending.stamps()[0].at;
        let alone = h.aggregate(at, &inbound(m));
        assert_eq!(alone.count, 1, "A's transfer is inside tx 2's retention");
        // Recording runs two hours ahead of deciding: retention measured
        // from the newest time would drop A's transfer before tx 2 is
        // decided.
        let ahead = h.record_pending([(&tx("3", "C", "M", "1.00", "2025-03-01T12:30:00Z"), 100)]);
        assert_eq!(h.aggregate(at, &inbound(m)), alone);
        assert_eq!(h.first_seen(at, m), Some(first[0].at.time));
        drop(pending);
        drop(ahead);
        let last = record(&h, &[tx("4", "D", "M", "1.00", "2025-03-01T12:31:00Z")]);
        let agg = h.aggregate(last[0].at, &inbound(m));
        assert_eq!(agg.count, 1, "only C's transfer is inside tx 4's retention");
    }

    #[test]
    fn window_excludes_older_events() {
        let h = History::default();
        let stamps = record(
            &h,
            &[
                tx("1", "A", "M", "100.00", "2025-03-01T10:00:00Z"),
                tx("2", "B", "M", "200.00", "2025-03-02T10:00:01Z"),
                tx("3", "C", "M", "300.00", "2025-03-02T10:00:02Z"),
            ],
        );
        let agg = h.aggregate(stamps[2].at, &inbound(stamps[0].recipient));
        assert_eq!((agg.count, agg.sum), (1, 20_000));
    }

    #[test]
    fn retention_forgets_old_events_and_idle_accounts() {
        let h = History::new(HistoryLimits {
            retention_secs: 3600,
            max_events_per_account: 3,
        });
        let first = record(&h, &[tx("1", "A", "M", "1.00", "2025-03-01T00:00:00Z")]);
        let many: Vec<Transaction> = (0..5)
            .map(|i| tx(&format!("n{i}"), "B", "M", "1.00", "2025-03-01T05:00:00Z"))
            .collect();
        let stamps = record(&h, &many);
        let later = Cursor {
            seq: u64::MAX,
            ..stamps[4].at
        };
        let agg = h.aggregate(later, &inbound(first[0].recipient));
        assert_eq!(agg.count, 3, "capped at max_events_per_account");
        assert_eq!(agg.counterparties, 1, "A's event fell out of retention");
    }

    #[test]
    fn a_busy_key_keeps_every_event_of_its_window_by_default() {
        let h = History::default();
        let busy: Vec<Transaction> = (0..10_000)
            .map(|i| {
                let time = format!("2025-03-01T10:{:02}:{:02}Z", (i / 60) % 60, i % 60);
                tx(
                    &format!("b{i}"),
                    &format!("P{i}"),
                    "MERCHANT",
                    "1.00",
                    &time,
                )
            })
            .collect();
        let stamps = record(&h, &busy);
        let later = Cursor::new(
            u64::MAX,
            stamps.iter().map(|s| s.at.time).max().unwrap_or(0),
        );
        let agg = h.aggregate(later, &inbound(stamps[0].recipient));
        assert_eq!(agg.count, 10_000, "no event of the window was dropped");
        assert_eq!(agg.counterparties, 10_000);
        assert_eq!(agg.sum, 1_000_000);
    }

    #[test]
    fn stamping_without_recording_leaves_history_unchanged() {
        let h = History::default();
        record(&h, &[tx("1", "A", "M", "1.00", "2025-03-01T00:00:00Z")]);
        let probe = [tx("2", "B", "M", "1.00", "2025-03-01T00:01:00Z")];
        let s1 = h.stamp_only(&probe);
        let s2 = h.stamp_only(&probe);
        assert_eq!(s1, s2);
        assert_eq!(h.aggregate(s1[0].at, &inbound(s1[0].recipient)).count, 1);
    }

    fn linked(id: &str, from: &str, iin: &str, device: &str, time: &str) -> Transaction {
        let text = format!(
            r#"{{"id":"{id}","timestamp":"{time}","kind":"transfer","amount":"1.00",
                "currency":"KZT","sender":{{"account":"{from}","iin":"{iin}"}},
                "recipient":{{"account":"SHOP"}},"device":{{"id":"{device}"}}}}"#
        );
        match Transaction::from_json(&text) {
            Ok(tx) => tx,
            Err(e) => panic!("bad fixture: {e}"),
        }
    }

    #[test]
    fn linked_accounts_counts_distinct_accounts_per_device_and_holder_before_the_cursor() {
        let h = History::default();
        let stamps = record(
            &h,
            &[
                linked("1", "A", "061211600012", "d-1", "2025-03-01T10:00:00Z"),
                linked("2", "B", "061211600012", "d-1", "2025-03-01T10:01:00Z"),
                linked("3", "B", "061211600012", "d-1", "2025-03-01T10:02:00Z"),
                linked("4", "C", "900101300015", "d-1", "2025-03-01T10:03:00Z"),
            ],
        );
        let device = stamps[0].device.unwrap_or(0);
        let holder = stamps[0].sender_holder.unwrap_or(0);
        assert_eq!(stamps[3].device, Some(device), "one handle per device");
        assert_eq!(stamps[2].sender_holder, Some(holder), "one handle per IIN");
        assert_ne!(stamps[3].sender_holder, Some(holder));
        let day = 24 * 3600;
        let on_device: Vec<u32> = stamps
            .iter()
            .map(|s| h.linked_accounts(s.at, device, day))
            .collect();
        assert_eq!(on_device, vec![0, 1, 2, 2]);
        let later = Cursor {
            seq: u64::MAX,
            ..stamps[3].at
        };
        assert_eq!(h.linked_accounts(later, device, day), 3);
        assert_eq!(h.linked_accounts(later, holder, day), 2);
        assert_eq!(
            h.linked_accounts(later, holder, 60),
            0,
            "outside the window"
        );
        assert_eq!(h.linked_accounts(later, 999_999, day), 0, "unknown key");
        assert_eq!(stamps[0].recipient_holder, None);
    }

    #[test]
    fn a_device_or_holder_handle_counts_nothing_as_an_account() {
        let h = History::default();
        let stamps = record(
            &h,
            &[
                linked("1", "A", "061211600012", "d-1", "2025-03-01T10:00:00Z"),
                linked("2", "B", "061211600012", "d-1", "2025-03-01T10:01:00Z"),
            ],
        );
        let later = Cursor {
            seq: u64::MAX,
            ..stamps[1].at
        };
        for key in [stamps[0].device, stamps[0].sender_holder] {
            let key = key.unwrap_or(0);
            assert_eq!(h.linked_accounts(later, key, 3600), 2);
            let q = Query {
                direction: Direction::Both,
                ..inbound(key)
            };
            assert_eq!(h.aggregate(later, &q), Aggregate::default());
            assert_eq!(h.first_seen(later, key), None, "not an account");
        }
        let q = Query {
            direction: Direction::Outbound,
            ..inbound(stamps[0].sender)
        };
        assert_eq!(h.aggregate(later, &q).count, 1, "A's own event");
    }

    #[test]
    fn an_account_idle_longer_than_retention_counts_as_never_seen() {
        let h = History::new(HistoryLimits {
            retention_secs: 10 * 24 * 3600,
            max_events_per_account: 100,
        });
        let early = record(
            &h,
            &[
                tx("1", "A", "M", "1.00", "2025-03-01T00:00:00Z"),
                tx("2", "B", "M", "1.00", "2025-03-09T00:00:00Z"),
            ],
        );
        let m = early[0].recipient;
        let first = Some(early[0].at.time);
        assert_eq!(
            h.first_seen(early[1].at, m),
            first,
            "8 days idle: remembered"
        );
        let late = record(&h, &[tx("3", "C", "M", "1.00", "2025-03-25T00:00:00Z")]);
        assert_eq!(h.first_seen(late[0].at, m), None, "16 days idle: forgotten");
    }

    #[test]
    fn handles_name_their_accounts() {
        let h = History::default();
        let s = record(
            &h,
            &[tx("1", "KZ01", "KZ02", "1.00", "2025-03-01T00:00:00Z")],
        );
        assert_eq!(h.name_of(s[0].sender).as_deref(), Some("KZ01"));
        assert_eq!(h.name_of(s[0].recipient).as_deref(), Some("KZ02"));
        assert_ne!(s[0].sender, s[0].recipient);
    }

    #[test]
    fn an_account_named_like_a_device_is_not_that_device() {
        let h = History::default();
        let s = record(
            &h,
            &[
                linked("1", "A", "061211600012", "d-1", "2025-03-01T10:00:00Z"),
                tx(
                    "2",
                    "device:d-1",
                    "iin:061211600012",
                    "1.00",
                    "2025-03-01T10:01:00Z",
                ),
            ],
        );
        let device = s[0].device.unwrap_or(0);
        let holder = s[0].sender_holder.unwrap_or(0);
        assert_ne!(s[1].sender, device);
        assert_ne!(s[1].recipient, holder);
        assert_eq!(h.name_of(device).as_deref(), Some("device:d-1"));
        assert_eq!(h.name_of(holder).as_deref(), Some("iin:061211600012"));
        let later = Cursor {
            seq: u64::MAX,
            ..s[1].at
        };
        assert_eq!(h.linked_accounts(later, device, 3600), 1, "only A used d-1");
    }

    #[test]
    fn questions_at_any_cursor_in_a_long_run_see_exactly_the_events_before_it() {
        let h = History::default();
        let txs: Vec<Transaction> = (0..40)
            .map(|i| {
                let time = format!("2025-03-01T10:{:02}:00Z", i);
                tx(&i.to_string(), &format!("S{}", i % 3), "M", "1.00", &time)
            })
            .collect();
        let stamps = record(&h, &txs);
        let m = stamps[0].recipient;
        for (i, s) in stamps.iter().enumerate() {
            assert_eq!(h.aggregate(s.at, &inbound(m)).count as usize, i);
        }
    }
}
