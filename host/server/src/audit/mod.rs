//! The decision log: every decision kept, durable before it is
//! acknowledged, and tamper-evident.
//!
//! # Why
//!
//! A regulator may ask, years later, why a payment was let through: the
//! bank must show the transaction, the decision, and exactly which rules
//! made it, and prove the record was not changed since. A log kept in
//! memory and flushed now and then loses what was decided just before a
//! crash; a log that anyone with database access can edit proves nothing.
//!
//! So each decision becomes a row of an embedded SQLite database
//! ([`log`]), written by one thread that commits decisions in groups and
//! acknowledges each only once its group is durable. Each row carries the
//! hash of the row before it ([`chain`]), so editing, inserting or deleting
//! a row breaks the chain at that row ([`verify`]); the head's hash,
//! exported elsewhere, also pins the end of the log. Each deciding pack's
//! archive is kept beside the rows, so the whole history can be decided
//! again by the very packs that decided it ([`replay`]).
//!
//! What the chain does not prove: that the host decided what the rules
//! said (replay checks that), or that nothing was cut off the end or the
//! whole log regenerated since the head was last anchored. A row's time is
//! the host's clock.

pub mod candidate;
pub mod chain;
mod errors;
pub mod log;
pub mod replay;
pub mod verify;

pub use candidate::{LogComparison, LogSample, compare_with};
pub use chain::{Entry, GENESIS, PackStamp, row_hash};
pub use errors::AuditError;
pub use log::{Appended, CommitStats, Job, LogWriter, LogWriterBuilder, PackRecord};
pub use replay::{Difference, ReplayReport, replay};
pub use verify::{Anchor, LoggedRow, Verified, verify};
