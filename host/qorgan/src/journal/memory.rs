//! The in-memory journal of `eval` and `backtest`: positions and ids, no
//! durability. It keeps what [`Journal::append`] is given (bodies are not
//! given by `eval`, so a stream of millions costs its ids, not its JSON).

use std::collections::{HashMap, VecDeque};

use super::{Appended, Entry, Journal, JournalError, Known, Record};

/// A journal held in memory; appended entries are "durable" at once.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    /// Entries in position order; positions start at 1.
    entries: VecDeque<(u64, Record)>,
    /// The newest position of each id.
    by_id: HashMap<String, u64>,
    next: u64,
    watermark: Option<i64>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> MemoryJournal {
        MemoryJournal::default()
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets entries dated at or before `horizon` from the front of the
    /// journal, where the oldest positions are: an id beyond retention may
    /// be journaled again.
    pub fn forget_before(&mut self, horizon: i64) {
        while let Some((position, record)) = self.entries.front() {
            if record.time > horizon {
                break;
            }
            if self.by_id.get(&record.id) == Some(position) {
                self.by_id.remove(&record.id);
            }
            self.entries.pop_front();
        }
    }

    fn known(&self, id: &str, horizon: i64) -> Option<Known> {
        let position = *self.by_id.get(id)?;
        let first = self.entries.front()?.0;
        let index = usize::try_from(position.checked_sub(first)?).ok()?;
        let (_, record) = self.entries.get(index)?;
        (record.time > horizon).then(|| Known {
            position,
            time: record.time,
            digest: record.digest,
            decision: record.decision.clone(),
        })
    }
}

impl Journal for MemoryJournal {
    fn lookup(&mut self, id: &str, horizon: i64) -> Result<Option<Known>, JournalError> {
        Ok(self.known(id, horizon))
    }

    fn append(&mut self, batch: &[Record], horizon: i64) -> Result<Vec<Appended>, JournalError> {
        let mut out = Vec::with_capacity(batch.len());
        for record in batch {
            if let Some(known) = self.known(&record.id, horizon) {
                out.push(Appended::Existing(known));
                continue;
            }
            self.next += 1;
            let position = self.next;
            self.by_id.insert(record.id.clone(), position);
            self.watermark = Some(self.watermark.map_or(record.time, |w| w.max(record.time)));
            self.entries.push_back((position, record.clone()));
            out.push(Appended::New(position));
        }
        Ok(out)
    }

    fn since(
        &mut self,
        after: u64,
        horizon: i64,
        limit: usize,
    ) -> Result<Vec<Entry>, JournalError> {
        Ok(self
            .entries
            .iter()
            .filter(|(position, record)| *position > after && record.time > horizon)
            .take(limit)
            .map(|(position, record)| Entry {
                position: *position,
                id: record.id.clone(),
                time: record.time,
                amount: record.amount,
                footprint: record.footprint.clone(),
                tx: String::new(),
            })
            .collect())
    }

    fn watermark(&self) -> Option<i64> {
        self.watermark
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, time: i64) -> Record {
        Record {
            id: id.into(),
            time,
            amount: 100,
            digest: super::super::body_digest(id),
            decision: Some(format!("decision of {id}")),
            footprint: Vec::new(),
        }
    }

    #[test]
    fn a_known_id_gets_its_position_back_and_is_not_appended_again() -> Result<(), JournalError> {
        let mut journal = MemoryJournal::new();
        let first = journal.append(&[record("a", 10), record("b", 11)], 0)?;
        assert_eq!(first, vec![Appended::New(1), Appended::New(2)]);
        let again = journal.append(&[record("c", 12), record("a", 13), record("c", 14)], 0)?;
        assert_eq!(again.first(), Some(&Appended::New(3)));
        match again.get(1) {
            Some(Appended::Existing(known)) => {
                assert_eq!(known.position, 1);
                assert_eq!(known.decision.as_deref(), Some("decision of a"));
            }
            other => panic!("a repeat was appended: {other:?}"),
        }
        assert!(matches!(again.get(2), Some(Appended::Existing(k)) if k.position == 3));
        assert_eq!(journal.len(), 3);
        let read: Vec<u64> = journal
            .since(1, 0, 10)?
            .iter()
            .map(|e| e.position)
            .collect();
        assert_eq!(read, vec![2, 3]);
        assert_eq!(journal.watermark(), Some(12));
        Ok(())
    }

    #[test]
    fn an_id_journaled_before_the_horizon_is_new_again() -> Result<(), JournalError> {
        let mut journal = MemoryJournal::new();
        journal.append(&[record("a", 10)], 0)?;
        assert!(journal.lookup("a", 9)?.is_some());
        assert_eq!(journal.lookup("a", 10)?, None, "outside retention");
        journal.forget_before(10);
        assert!(journal.is_empty());
        assert_eq!(
            journal.append(&[record("a", 50)], 10)?,
            vec![Appended::New(2)]
        );
        Ok(())
    }
}
