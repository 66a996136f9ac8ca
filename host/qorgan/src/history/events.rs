//! One key's events, kept compact.
//!
//! History keeps an event per account, device and holder a transaction
//! touches (4.3 per transaction on the generated streams), for the whole
//! retention period, so the event's size is most of what history costs.
//! An [`Event`] spelled out is 40 bytes. Kept here, an account's event
//! takes 18: its position and time relative to bases the key holds, its
//! counterparty's slot in 32 bits, its amount in 43, its kind and direction
//! in 5. A *link* (a device's or a holder's event, which only says which
//! account appeared with it, and when) takes 12: it keeps no amount.
//!
//! Exactness comes first: an event that does not fit (an amount of 88
//! billion tenge or more, or positions or times too far from the bases even
//! after re-basing on the oldest event kept) turns the key's events into
//! spelled-out ones, so an answer never depends on the packing.
//!
//! Buffers grow by an eighth, not by doubling: history holds millions of
//! them, and a doubled buffer is a quarter empty on average.

use std::collections::VecDeque;

use crate::transaction::TxKind;

/// An event on a key, spelled out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Event {
    pub(super) seq: u64,
    pub(super) time: i64,
    pub(super) amount: i64,
    /// The counterparty's party id (its handle's low 32 bits).
    pub(super) counterparty: u64,
    pub(super) kind: TxKind,
    pub(super) inbound: bool,
}

/// Bits of a packed amount.
const AMOUNT_BITS: u32 = 43;
const KIND_SHIFT: u32 = AMOUNT_BITS;
const KIND_BITS: u32 = 4;
const INBOUND_SHIFT: u32 = KIND_SHIFT + KIND_BITS;

const fn mask(bits: u32) -> u64 {
    (1u64 << bits) - 1
}

/// The position, time and counterparty every packed event starts with:
/// 12 bytes relative to the key's bases.
fn pack_head(e: &Event, base_seq: u64, base_time: i64) -> Option<[u8; 12]> {
    let seq = u32::try_from(e.seq.checked_sub(base_seq)?).ok()?;
    let time = i32::try_from(e.time.checked_sub(base_time)?).ok()?;
    let party = u32::try_from(e.counterparty).ok()?;
    let mut out = [0; 12];
    out[..4].copy_from_slice(&seq.to_le_bytes());
    out[4..8].copy_from_slice(&time.to_le_bytes());
    out[8..].copy_from_slice(&party.to_le_bytes());
    Some(out)
}

fn unpack_head(head: &[u8; 12], base_seq: u64, base_time: i64) -> (u64, i64, u64) {
    let [s0, s1, s2, s3, t0, t1, t2, t3, p0, p1, p2, p3] = *head;
    (
        base_seq.saturating_add(u64::from(u32::from_le_bytes([s0, s1, s2, s3]))),
        base_time.saturating_add(i64::from(i32::from_le_bytes([t0, t1, t2, t3]))),
        u64::from(u32::from_le_bytes([p0, p1, p2, p3])),
    )
}

/// An account's event in 18 bytes.
#[derive(Debug, Clone, Copy)]
struct Money([u8; 18]);

impl Money {
    fn pack(e: &Event, base_seq: u64, base_time: i64) -> Option<Money> {
        let head = pack_head(e, base_seq, base_time)?;
        let amount = u64::try_from(e.amount)
            .ok()
            .filter(|a| a >> AMOUNT_BITS == 0)?;
        let tail = amount
            | (u64::from(e.kind as u8) << KIND_SHIFT)
            | (u64::from(e.inbound) << INBOUND_SHIFT);
        let mut out = [0; 18];
        out[..12].copy_from_slice(&head);
        out[12..].copy_from_slice(tail.to_le_bytes().get(..6)?);
        Some(Money(out))
    }

    fn unpack(&self, base_seq: u64, base_time: i64) -> Event {
        let [h @ .., t0, t1, t2, t3, t4, t5] = self.0;
        let (seq, time, counterparty) = unpack_head(&h, base_seq, base_time);
        let tail = u64::from_le_bytes([t0, t1, t2, t3, t4, t5, 0, 0]);
        let kind = usize::try_from((tail >> KIND_SHIFT) & mask(KIND_BITS)).unwrap_or(usize::MAX);
        Event {
            seq,
            time,
            // Below 2^43 by construction.
            amount: i64::try_from(tail & mask(AMOUNT_BITS)).unwrap_or(i64::MAX),
            counterparty,
            kind: TxKind::ALL.get(kind).copied().unwrap_or(TxKind::Other),
            inbound: (tail >> INBOUND_SHIFT) & 1 == 1,
        }
    }
}

/// A device's or holder's link to an account in 12 bytes: no amount.
#[derive(Debug, Clone, Copy)]
struct Link([u8; 12]);

impl Link {
    fn pack(e: &Event, base_seq: u64, base_time: i64) -> Option<Link> {
        pack_head(e, base_seq, base_time).map(Link)
    }

    fn unpack(&self, base_seq: u64, base_time: i64) -> Event {
        let (seq, time, counterparty) = unpack_head(&self.0, base_seq, base_time);
        Event {
            seq,
            time,
            amount: 0,
            counterparty,
            kind: TxKind::Other,
            inbound: false,
        }
    }
}

/// How a key's events are held.
#[derive(Debug)]
enum Kept {
    Money(VecDeque<Money>),
    Links(VecDeque<Link>),
    /// Spelled out: some event did not fit.
    Wide(VecDeque<Event>),
}

/// A key's events in stream order.
#[derive(Debug)]
pub(super) struct Events {
    /// The base position and time packed events are relative to (those
    /// of the oldest event when the bases were last set).
    base_seq: u64,
    base_time: i64,
    kept: Kept,
}

/// Makes room for one more element: one at a time while small (most keys,
/// a device, an IIN, a one-off payee, keep a few events), by an eighth
/// after.
fn grow<T>(events: &mut VecDeque<T>) {
    let len = events.len();
    if len == events.capacity() {
        events.reserve_exact(if len < 4 { 1 } else { len / 8 });
    }
}

/// Gives back what a buffer holds beyond an eighth of slack.
fn trim<T>(events: &mut VecDeque<T>) {
    let len = events.len();
    if events.capacity() > len + len / 4 + 4 {
        events.shrink_to(len + len / 8);
    }
}

impl Events {
    /// No events yet; `links` keeps them as links (no amounts).
    pub(super) fn new(links: bool) -> Events {
        Events {
            base_seq: 0,
            base_time: 0,
            kept: if links {
                Kept::Links(VecDeque::new())
            } else {
                Kept::Money(VecDeque::new())
            },
        }
    }

    /// How many events are kept.
    pub(super) fn len(&self) -> usize {
        match &self.kept {
            Kept::Money(events) => events.len(),
            Kept::Links(events) => events.len(),
            Kept::Wide(events) => events.len(),
        }
    }

    /// Whether none is.
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `index`th event, oldest first.
    pub(super) fn get(&self, index: usize) -> Option<Event> {
        let (seq, time) = (self.base_seq, self.base_time);
        match &self.kept {
            Kept::Money(events) => events.get(index).map(|p| p.unpack(seq, time)),
            Kept::Links(events) => events.get(index).map(|p| p.unpack(seq, time)),
            Kept::Wide(events) => events.get(index).copied(),
        }
    }

    /// The oldest event.
    pub(super) fn front(&self) -> Option<Event> {
        self.get(0)
    }

    /// The newest event.
    pub(super) fn back(&self) -> Option<Event> {
        self.len().checked_sub(1).and_then(|last| self.get(last))
    }

    /// Drops the oldest event.
    pub(super) fn pop_front(&mut self) {
        match &mut self.kept {
            Kept::Money(events) => drop(events.pop_front()),
            Kept::Links(events) => drop(events.pop_front()),
            Kept::Wide(events) => drop(events.pop_front()),
        }
    }

    /// Gives back memory the events no longer use.
    pub(super) fn trim(&mut self) {
        match &mut self.kept {
            Kept::Money(events) => trim(events),
            Kept::Links(events) => trim(events),
            Kept::Wide(events) => trim(events),
        }
    }

    /// How many events come before position `seq`. Questions are asked at
    /// the transactions just recorded, so the answer is almost always
    /// within a few events of the end: look there first.
    pub(super) fn before(&self, seq: u64) -> usize {
        let mut end = self.len();
        for _ in 0..8 {
            match self.get(end.wrapping_sub(1)) {
                Some(e) if e.seq >= seq => end -= 1,
                Some(_) => return end,
                None => return 0,
            }
        }
        let mut low = 0;
        // Binary search over `..end`, whose last event is at or after `seq`.
        while low < end {
            let mid = low + (end - low) / 2;
            match self.get(mid) {
                Some(e) if e.seq < seq => low = mid + 1,
                _ => end = mid,
            }
        }
        low
    }

    /// Appends an event, newer in the stream than every event kept.
    pub(super) fn push_back(&mut self, event: Event) {
        if self.is_empty() {
            self.base_seq = event.seq;
            self.base_time = event.time;
        }
        let (seq, time) = (self.base_seq, self.base_time);
        let fitted = match &mut self.kept {
            Kept::Wide(events) => {
                events.push_back(event);
                true
            }
            Kept::Money(events) => Money::pack(&event, seq, time)
                .map(|packed| {
                    grow(events);
                    events.push_back(packed);
                })
                .is_some(),
            Kept::Links(events) => Link::pack(&event, seq, time)
                .map(|packed| {
                    grow(events);
                    events.push_back(packed);
                })
                .is_some(),
        };
        if !fitted {
            self.rebase_and_push(event);
        }
    }

    /// Packs every event again against the oldest one, then `event`; or,
    /// if something still does not fit, spells every event out.
    fn rebase_and_push(&mut self, event: Event) {
        let mut all: Vec<Event> = (0..self.len()).filter_map(|i| self.get(i)).collect();
        all.push(event);
        let Some(oldest) = all.first().copied() else {
            return;
        };
        let (seq, time) = (oldest.seq, oldest.time);
        let repacked = match &self.kept {
            Kept::Money(_) => all
                .iter()
                .map(|e| Money::pack(e, seq, time))
                .collect::<Option<VecDeque<_>>>()
                .map(Kept::Money),
            Kept::Links(_) => all
                .iter()
                .map(|e| Link::pack(e, seq, time))
                .collect::<Option<VecDeque<_>>>()
                .map(Kept::Links),
            Kept::Wide(_) => None,
        };
        self.base_seq = seq;
        self.base_time = time;
        self.kept = repacked.unwrap_or_else(|| Kept::Wide(all.into()));
    }

    /// Whether the events are spelled out.
    #[cfg(test)]
    fn is_wide(&self) -> bool {
        matches!(self.kept, Kept::Wide(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, time: i64, amount: i64, counterparty: u64) -> Event {
        Event {
            seq,
            time,
            amount,
            counterparty,
            kind: TxKind::CryptoSale,
            inbound: true,
        }
    }

    fn all(events: &Events) -> Vec<Event> {
        (0..events.len()).filter_map(|i| events.get(i)).collect()
    }

    #[test]
    fn an_account_event_is_kept_in_18_bytes_and_a_link_in_12() {
        assert_eq!(std::mem::size_of::<Money>(), 18);
        assert_eq!(std::mem::size_of::<Link>(), 12);
    }

    #[test]
    fn events_that_fit_come_back_exactly() {
        let mut events = Events::new(false);
        let kept = vec![
            event(7, 1_740_000_000, 0, 1),
            event(9, 1_739_990_000, (1 << 43) - 1, u64::from(u32::MAX)),
            event(4_000_000_007, 1_740_000_000 + (1 << 30), 42, 3 << 20),
        ];
        for e in &kept {
            events.push_back(*e);
        }
        assert!(!events.is_wide());
        assert_eq!(all(&events), kept);
        assert_eq!(events.before(9), 1);
        assert_eq!(events.before(10), 2);
        assert_eq!(events.back(), kept.last().copied());
    }

    #[test]
    fn links_keep_position_time_and_account_but_no_amount() {
        let mut events = Events::new(true);
        events.push_back(event(7, 1_740_000_000, 500, 9));
        assert_eq!(
            events.front(),
            Some(Event {
                seq: 7,
                time: 1_740_000_000,
                amount: 0,
                counterparty: 9,
                kind: TxKind::Other,
                inbound: false,
            })
        );
    }

    #[test]
    fn an_event_that_does_not_fit_spells_the_key_out_and_nothing_changes() {
        for odd in [
            event(10, 1_740_000_100, 1 << 43, 5),
            event(10, 1_740_000_100, -1, 5),
            event(10, 1_740_000_100, 5, 1 << 32),
            event(10, i64::MIN, 5, 5),
            event(u64::MAX, 1_740_000_100, 5, 5),
        ] {
            let mut events = Events::new(false);
            let first = event(3, 1_740_000_000, 100, 2);
            events.push_back(first);
            events.push_back(odd);
            assert!(events.is_wide(), "{odd:?}");
            assert_eq!(all(&events), vec![first, odd]);
        }
    }

    #[test]
    fn positions_far_past_the_base_re_base_on_the_oldest_event_kept() {
        for links in [false, true] {
            let mut events = Events::new(links);
            events.push_back(event(1, 1_000, 0, 1));
            events.push_back(event(2, 1_001, 0, 1));
            events.pop_front();
            let far = event(2 + u64::from(u32::MAX), 1_002, 0, 1);
            events.push_back(far);
            assert!(!events.is_wide());
            assert_eq!(events.base_seq, 2);
            let seqs: Vec<u64> = all(&events).iter().map(|e| e.seq).collect();
            assert_eq!(seqs, [2, far.seq]);
        }
    }

    #[test]
    fn positions_are_found_by_search_far_from_the_end() {
        let mut events = Events::new(false);
        for seq in (0..100).map(|i| i * 2) {
            events.push_back(event(seq, 1_000, 1, 1));
        }
        assert_eq!(events.before(0), 0);
        assert_eq!(events.before(1), 1);
        assert_eq!(events.before(51), 26);
        assert_eq!(events.before(198), 99);
        assert_eq!(events.before(500), 100);
    }

    #[test]
    fn buffers_grow_by_an_eighth_and_give_back_what_they_no_longer_use() {
        let mut events = Events::new(false);
        for seq in 0..1_000 {
            events.push_back(event(seq, 1_000, 1, 1));
        }
        let Kept::Money(kept) = &events.kept else {
            panic!("not packed");
        };
        assert!(kept.capacity() <= 1_000 + 1_000 / 8, "{}", kept.capacity());
        for _ in 0..900 {
            events.pop_front();
        }
        events.trim();
        let Kept::Money(kept) = &events.kept else {
            panic!("not packed");
        };
        assert!(kept.capacity() <= 100 + 100 / 8 + 1, "{}", kept.capacity());
    }
}
