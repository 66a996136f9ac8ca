//! One key's events, kept compact.
//!
//! History keeps an event per account, device and holder a transaction
//! touches (4.3 per transaction on the generated streams), for the whole
//! retention period, so the event's size is most of what history costs.
//! An [`Event`] spelled out is 40 bytes; kept here it is 20: its position
//! and time relative to bases the key holds, its amount in 43 bits, its
//! counterparty handle in 48, its kind and direction in 5.
//!
//! Exactness comes first: an event that does not fit (an amount of 88
//! billion tenge or more, a handle past 2^48, or positions or times too far
//! from the bases even after re-basing on the oldest event kept) turns the
//! key's events into spelled-out ones, so an answer never depends on the
//! packing.

use std::collections::VecDeque;

use crate::transaction::TxKind;

/// An event on a key, spelled out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Event {
    pub(super) seq: u64,
    pub(super) time: i64,
    pub(super) amount: i64,
    pub(super) counterparty: u64,
    pub(super) kind: TxKind,
    pub(super) inbound: bool,
}

/// Bits of the amount above the low 32 kept in [`Packed::high`].
const AMOUNT_HIGH_BITS: u32 = 11;
/// Bits of the counterparty handle above the low 32.
const PARTY_HIGH_BITS: u32 = 16;
const PARTY_SHIFT: u32 = AMOUNT_HIGH_BITS;
const KIND_SHIFT: u32 = PARTY_SHIFT + PARTY_HIGH_BITS;
const KIND_BITS: u32 = 4;
const INBOUND_SHIFT: u32 = KIND_SHIFT + KIND_BITS;

/// An event in 20 bytes, relative to its key's bases.
#[derive(Debug, Clone, Copy)]
pub(super) struct Packed {
    /// Position after the base position.
    seq: u32,
    /// Seconds from the base time.
    time: i32,
    /// The amount's low 32 bits.
    amount: u32,
    /// The counterparty handle's low 32 bits.
    party: u32,
    /// The amount's and the handle's high bits, the kind and the direction.
    high: u32,
}

const fn mask(bits: u32) -> u64 {
    (1u64 << bits) - 1
}

impl Packed {
    fn pack(e: &Event, base_seq: u64, base_time: i64) -> Option<Packed> {
        let seq = u32::try_from(e.seq.checked_sub(base_seq)?).ok()?;
        let time = i32::try_from(e.time.checked_sub(base_time)?).ok()?;
        let amount = u64::try_from(e.amount)
            .ok()
            .filter(|a| a >> (32 + AMOUNT_HIGH_BITS) == 0)?;
        let party = Some(e.counterparty).filter(|p| p >> (32 + PARTY_HIGH_BITS) == 0)?;
        let high = (amount >> 32)
            | ((party >> 32) << PARTY_SHIFT)
            | (u64::from(e.kind as u8) << KIND_SHIFT)
            | (u64::from(e.inbound) << INBOUND_SHIFT);
        Some(Packed {
            seq,
            time,
            amount: u32::try_from(amount & mask(32)).ok()?,
            party: u32::try_from(party & mask(32)).ok()?,
            high: u32::try_from(high).ok()?,
        })
    }

    fn unpack(self, base_seq: u64, base_time: i64) -> Event {
        let high = u64::from(self.high);
        let amount = ((high & mask(AMOUNT_HIGH_BITS)) << 32) | u64::from(self.amount);
        let party = (((high >> PARTY_SHIFT) & mask(PARTY_HIGH_BITS)) << 32) | u64::from(self.party);
        let kind = usize::try_from((high >> KIND_SHIFT) & mask(KIND_BITS)).unwrap_or(usize::MAX);
        Event {
            seq: base_seq.saturating_add(u64::from(self.seq)),
            time: base_time.saturating_add(i64::from(self.time)),
            // Below 2^43 by construction.
            amount: i64::try_from(amount).unwrap_or(i64::MAX),
            counterparty: party,
            kind: TxKind::ALL.get(kind).copied().unwrap_or(TxKind::Other),
            inbound: (high >> INBOUND_SHIFT) & 1 == 1,
        }
    }
}

/// A key's events in stream order.
#[derive(Debug)]
pub(super) enum Events {
    /// Packed against a base position and time (those of the oldest event
    /// when the bases were last set).
    Packed {
        base_seq: u64,
        base_time: i64,
        events: VecDeque<Packed>,
    },
    /// Spelled out: some event did not fit.
    Wide(VecDeque<Event>),
}

impl Default for Events {
    fn default() -> Self {
        Events::Packed {
            base_seq: 0,
            base_time: 0,
            events: VecDeque::new(),
        }
    }
}

impl Events {
    /// How many events are kept.
    pub(super) fn len(&self) -> usize {
        match self {
            Events::Packed { events, .. } => events.len(),
            Events::Wide(events) => events.len(),
        }
    }

    /// Whether none is.
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `index`th event, oldest first.
    pub(super) fn get(&self, index: usize) -> Option<Event> {
        match self {
            Events::Packed {
                base_seq,
                base_time,
                events,
            } => events.get(index).map(|p| p.unpack(*base_seq, *base_time)),
            Events::Wide(events) => events.get(index).copied(),
        }
    }

    /// The oldest event.
    pub(super) fn front(&self) -> Option<Event> {
        self.get(0)
    }

    /// Drops the oldest event.
    pub(super) fn pop_front(&mut self) {
        match self {
            Events::Packed { events, .. } => {
                events.pop_front();
            }
            Events::Wide(events) => {
                events.pop_front();
            }
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
        match self {
            Events::Packed {
                base_seq, events, ..
            } => events.partition_point(|p| base_seq.saturating_add(u64::from(p.seq)) < seq),
            Events::Wide(events) => events.partition_point(|e| e.seq < seq),
        }
    }

    /// Appends an event, newer in the stream than every event kept.
    pub(super) fn push_back(&mut self, event: Event) {
        let packed = match self {
            Events::Wide(events) => {
                events.push_back(event);
                return;
            }
            Events::Packed {
                base_seq,
                base_time,
                events,
            } => {
                if events.is_empty() {
                    *base_seq = event.seq;
                    *base_time = event.time;
                }
                Packed::pack(&event, *base_seq, *base_time)
            }
        };
        match packed {
            Some(packed) => {
                if let Events::Packed { events, .. } = self {
                    // Most keys (a device, an IIN, a one-off payee) keep a
                    // few events: grow one at a time up to four, then
                    // double as usual.
                    if events.len() == events.capacity() && events.len() < 4 {
                        events.reserve_exact(1);
                    }
                    events.push_back(packed);
                }
            }
            None => self.rebase_and_push(event),
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
        let repacked: Option<VecDeque<Packed>> = all
            .iter()
            .map(|e| Packed::pack(e, oldest.seq, oldest.time))
            .collect();
        *self = match repacked {
            Some(events) => Events::Packed {
                base_seq: oldest.seq,
                base_time: oldest.time,
                events,
            },
            None => Events::Wide(all.into()),
        };
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
    fn an_event_is_kept_in_20_bytes() {
        assert_eq!(std::mem::size_of::<Packed>(), 20);
    }

    #[test]
    fn events_that_fit_come_back_exactly() {
        let mut events = Events::default();
        let kept = vec![
            event(7, 1_740_000_000, 0, 1),
            event(9, 1_739_990_000, (1 << 43) - 1, (1 << 48) - 1),
            event(4_000_000_007, 1_740_000_000 + (1 << 30), 42, 3 << 40),
        ];
        for e in &kept {
            events.push_back(*e);
        }
        assert!(matches!(events, Events::Packed { .. }));
        assert_eq!(all(&events), kept);
        assert_eq!(events.before(9), 1);
        assert_eq!(events.before(10), 2);
    }

    #[test]
    fn an_event_that_does_not_fit_spells_the_key_out_and_nothing_changes() {
        for odd in [
            event(10, 1_740_000_100, 1 << 43, 5),
            event(10, 1_740_000_100, -1, 5),
            event(10, 1_740_000_100, 5, 1 << 48),
            event(10, i64::MIN, 5, 5),
            event(u64::MAX, 1_740_000_100, 5, 5),
        ] {
            let mut events = Events::default();
            let first = event(3, 1_740_000_000, 100, 2);
            events.push_back(first);
            events.push_back(odd);
            assert!(matches!(events, Events::Wide(_)), "{odd:?}");
            assert_eq!(all(&events), vec![first, odd]);
        }
    }

    #[test]
    fn positions_far_past_the_base_re_base_on_the_oldest_event_kept() {
        let mut events = Events::default();
        events.push_back(event(1, 1_000, 1, 1));
        events.push_back(event(2, 1_001, 1, 1));
        events.pop_front();
        let far = event(2 + u64::from(u32::MAX), 1_002, 1, 1);
        events.push_back(far);
        assert!(matches!(events, Events::Packed { base_seq: 2, .. }));
        assert_eq!(all(&events), vec![event(2, 1_001, 1, 1), far]);
    }
}
