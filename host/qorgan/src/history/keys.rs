//! The keys one shard of history holds: accounts, devices and holders.
//!
//! A shard keeps its keys in a slab: a vector of slots, one per key, and a
//! hash table of slot numbers to find a key by name. Next to a hash map of
//! keys this saves what history holds most of after events: no per-key
//! allocation for a name up to 22 bytes (an IBAN, an IIN), no map entries
//! kept half empty, and no second map from handle to key, because a handle
//! *is* the key's slot: its shard in the low bits, its slot number above
//! them, and the slot's generation in the high 32 bits. A forgotten key's
//! slot is used again under the next generation, so a handle is never
//! reused: an old one simply names nothing any more.
//!
//! Events name their counterparty by its *party id*, the handle's low 32
//! bits, which is all a count of distinct counterparties needs: a slot is
//! used again only once its key is forgotten, and a key is forgotten only
//! when its newest event, and with it every event naming it, is older than
//! any question can still see.

use hashbrown::HashTable;

use super::events::Events;
use super::{SHARD_BITS, Space};

/// Bits of a slot number: a party id is 32 bits.
const SLOT_BITS: u32 = 32 - SHARD_BITS;
/// `first_seen` of a key that has no event yet.
const NEVER: i64 = i64::MIN;
/// Bytes of a name kept inline.
const INLINE: usize = 22;

/// A key's name, inline when short.
#[derive(Debug)]
enum Name {
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<str>),
}

impl Name {
    fn new(key: &str) -> Name {
        let mut bytes = [0; INLINE];
        match (bytes.get_mut(..key.len()), u8::try_from(key.len())) {
            (Some(head), Ok(len)) => {
                head.copy_from_slice(key.as_bytes());
                Name::Inline { len, bytes }
            }
            _ => Name::Boxed(key.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Name::Inline { len, bytes } => bytes
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            Name::Boxed(name) => name,
        }
    }
}

/// One key and its events.
#[derive(Debug)]
pub(super) struct Slot {
    name: Name,
    /// Events in stream order.
    pub(super) events: Events,
    /// The time of the key's first event ([`NEVER`] before it has one).
    first_seen: i64,
    generation: u32,
    pub(super) space: Space,
    /// Whether the events' times never decrease in stream order (the usual
    /// case), so a window's events can be found by walking back from the
    /// cursor and stopping at the window's start.
    pub(super) ordered: bool,
    live: bool,
}

impl Slot {
    /// The key's name within its space.
    pub(super) fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The time of the key's first event, if it had one.
    pub(super) fn first_seen(&self) -> Option<i64> {
        (self.first_seen != NEVER).then_some(self.first_seen)
    }

    /// Notes an event at `time` (call before pushing it).
    pub(super) fn touch(&mut self, time: i64) {
        if self.first_seen == NEVER {
            self.first_seen = time;
        }
        if self.events.back().is_some_and(|back| back.time > time) {
            self.ordered = false;
        }
    }

    /// The newest time among the kept events.
    fn newest(&self) -> Option<i64> {
        if self.ordered {
            return self.events.back().map(|e| e.time);
        }
        (0..self.events.len())
            .filter_map(|i| self.events.get(i))
            .map(|e| e.time)
            .max()
    }
}

/// A handle's parts.
fn split(handle: u64) -> (usize, u32) {
    let slot = (handle >> SHARD_BITS) & ((1 << SLOT_BITS) - 1);
    (
        usize::try_from(slot).unwrap_or(usize::MAX),
        u32::try_from(handle >> 32).unwrap_or(u32::MAX),
    )
}

/// The shard of the key whose party id is `party`.
pub(super) fn shard_of_party(party: u64) -> usize {
    (party & ((1 << SHARD_BITS) - 1)) as usize
}

/// The party id of a handle: what events keep of a counterparty.
pub(super) fn party(handle: u64) -> u64 {
    handle & u64::from(u32::MAX)
}

/// The keys of one shard.
#[derive(Debug, Default)]
pub(super) struct Keys {
    /// Slot numbers, found by the hash of a key's space and name.
    names: HashTable<u32>,
    slots: Vec<Slot>,
    /// Slots of forgotten keys, to be used again.
    free: Vec<u32>,
    live: usize,
}

impl Keys {
    /// The handle of a key, if it is kept.
    pub(super) fn find(&self, shard: usize, hash: u64, space: Space, name: &str) -> Option<u64> {
        let slots = &self.slots;
        let index = *self.names.find(hash, |&i| {
            slots
                .get(i as usize)
                .is_some_and(|s| s.space == space && s.name() == name)
        })?;
        let slot = slots.get(index as usize)?;
        Some(handle(shard, index, slot.generation))
    }

    /// Keeps a new key and returns its handle; `hash_of` hashes a kept
    /// key's space and name as `hash` was. `None` when the shard holds as
    /// many keys as a party id can number (2^26), which memory would not
    /// allow long before.
    pub(super) fn insert(
        &mut self,
        shard: usize,
        hash: u64,
        space: Space,
        name: &str,
        hash_of: impl Fn(Space, &str) -> u64,
    ) -> Option<u64> {
        let (index, generation) = match self.free.pop() {
            Some(index) => {
                let slot = self.slots.get(index as usize)?;
                (index, slot.generation.checked_add(1)?)
            }
            None => {
                let index = u32::try_from(self.slots.len())
                    .ok()
                    .filter(|&i| i < 1 << SLOT_BITS)?;
                if self.slots.len() == self.slots.capacity() {
                    self.slots.reserve_exact(self.slots.len() / 8 + 8);
                }
                (index, 1)
            }
        };
        let slot = Slot {
            name: Name::new(name),
            events: Events::new(space != Space::Account),
            first_seen: NEVER,
            generation,
            space,
            ordered: true,
            live: true,
        };
        match self.slots.get_mut(index as usize) {
            Some(old) => *old = slot,
            None => self.slots.push(slot),
        }
        let slots = &self.slots;
        self.names.insert_unique(hash, index, |&i| {
            slots
                .get(i as usize)
                .map_or(0, |s| hash_of(s.space, s.name()))
        });
        self.live += 1;
        Some(handle(shard, index, generation))
    }

    /// The key `handle` names, while it is kept.
    pub(super) fn get(&self, handle: u64) -> Option<&Slot> {
        let (index, generation) = split(handle);
        self.slots
            .get(index)
            .filter(|s| s.live && s.generation == generation)
    }

    /// The handle of the kept key whose party id is `party` (the shard's
    /// own party ids only). A slot is used again only once every event
    /// naming its old key is past every horizon, so a party id an event
    /// still visible names is its key's.
    pub(super) fn handle_of_party(&self, party: u64) -> Option<u64> {
        let index = u32::try_from((party >> SHARD_BITS) & ((1 << SLOT_BITS) - 1)).ok()?;
        let slot = self.slots.get(index as usize).filter(|s| s.live)?;
        Some(handle(shard_of_party(party), index, slot.generation))
    }

    /// The key `handle` names, to change, while it is kept.
    pub(super) fn get_mut(&mut self, handle: u64) -> Option<&mut Slot> {
        let (index, generation) = split(handle);
        self.slots
            .get_mut(index)
            .filter(|s| s.live && s.generation == generation)
    }

    /// Forgets every key with nothing after `horizon`, and gives back the
    /// memory kept keys' events no longer use.
    pub(super) fn sweep(&mut self, horizon: i64, hash_of: impl Fn(Space, &str) -> u64) {
        let Keys {
            names,
            slots,
            free,
            live,
        } = self;
        for (index, slot) in (0u32..).zip(slots.iter_mut()) {
            if !slot.live {
                continue;
            }
            if slot.newest().is_some_and(|t| t >= horizon) {
                slot.events.trim();
                continue;
            }
            let hash = hash_of(slot.space, slot.name());
            if let Ok(entry) = names.find_entry(hash, |&i| i == index) {
                entry.remove();
            }
            slot.live = false;
            slot.name = Name::new("");
            slot.events = Events::new(false);
            *live -= 1;
            // A slot whose generations ran out is not used again.
            if slot.generation < u32::MAX {
                free.push(index);
            }
        }
    }

    /// How many keys are kept.
    pub(super) fn len(&self) -> usize {
        self.live
    }
}

fn handle(shard: usize, index: u32, generation: u32) -> u64 {
    (u64::from(generation) << 32) | (u64::from(index) << SHARD_BITS) | shard as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(space: Space, name: &str) -> u64 {
        use std::hash::BuildHasher;
        foldhash::fast::FixedState::default().hash_one((space as u8, name))
    }

    fn insert(keys: &mut Keys, name: &str) -> u64 {
        let hash = hash_of(Space::Account, name);
        match keys.insert(3, hash, Space::Account, name, hash_of) {
            Some(handle) => handle,
            None => panic!("{name} not kept"),
        }
    }

    #[test]
    fn a_slot_is_small_and_short_names_are_kept_inline() {
        assert!(
            std::mem::size_of::<Slot>() <= 96,
            "{}",
            std::mem::size_of::<Slot>()
        );
        assert!(matches!(
            Name::new("KZ70601A392187831127"),
            Name::Inline { .. }
        ));
        let long = "d".repeat(40);
        assert!(matches!(Name::new(&long), Name::Boxed(_)));
        assert_eq!(Name::new(&long).as_str(), long);
        assert_eq!(Name::new("930724303242").as_str(), "930724303242");
    }

    #[test]
    fn a_forgotten_key_s_slot_is_used_again_under_a_new_handle() {
        let mut keys = Keys::default();
        let a = insert(&mut keys, "A");
        let b = insert(&mut keys, "B");
        assert_eq!(a & 0x3f, 3, "the shard is in the low bits");
        assert_eq!(
            keys.find(3, hash_of(Space::Account, "A"), Space::Account, "A"),
            Some(a)
        );
        if let Some(slot) = keys.get_mut(b) {
            slot.touch(100);
            slot.events.push_back(super::super::events::Event {
                seq: 1,
                time: 100,
                amount: 1,
                counterparty: party(a),
                kind: crate::transaction::TxKind::Transfer,
                inbound: false,
            });
        }
        keys.sweep(50, hash_of);
        assert_eq!(keys.len(), 1, "A had no event: forgotten; B kept");
        assert!(keys.get(a).is_none());
        assert_eq!(
            keys.find(3, hash_of(Space::Account, "A"), Space::Account, "A"),
            None
        );
        let c = insert(&mut keys, "C");
        assert_eq!(party(c), party(a), "A's slot is used again");
        assert_ne!(c, a, "under a new handle");
        assert!(keys.get(a).is_none(), "A's handle names nothing");
        assert_eq!(keys.get(c).map(Slot::name), Some("C"));
        assert_eq!(keys.get(b).and_then(Slot::first_seen), Some(100));
    }
}
