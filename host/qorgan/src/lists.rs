//! The pack's reference lists: registers and watch lists rules look up.
//!
//! A list is a text file shipped in the pack (one entry per line, `#`
//! comments) or a CSV file (a header line, entries in the first column).
//! Entries are compared without regard to case and surrounding spaces, so
//! `OKX`, `okx ` and `Okx` are the same entry.
//!
//! A list lives in memory for as long as its pack is active, on every host
//! that activates the pack, so its size is capped twice: the file's bytes
//! ([`MAX_LIST_BYTES`], checked before the file is read whole) and the
//! entries ([`MAX_LIST_ENTRIES`]).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// Why a list could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// The file could not be read.
    #[error("list `{name}`: cannot read {path}: {source}")]
    Read {
        /// The list's name.
        name: String,
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("list `{name}`: {path} is not UTF-8 text")]
    NotText {
        /// The list's name.
        name: String,
        /// The file.
        path: String,
    },
    /// The list's file is bigger than allowed.
    #[error("list `{name}`: {path} is over the maximum list size of {max} bytes")]
    TooManyBytes {
        /// The list's name.
        name: String,
        /// The file.
        path: String,
        /// The limit.
        max: u64,
    },
    /// The list has more entries than allowed.
    #[error("list `{name}` has {entries} entries; at most {max} are accepted")]
    TooLarge {
        /// The list's name.
        name: String,
        /// How many entries it has.
        entries: usize,
        /// The limit.
        max: usize,
    },
}

/// The most entries one list may have.
pub const MAX_LIST_ENTRIES: usize = 1_000_000;

/// The most bytes one list file may have: a million entries of up to 64
/// bytes each.
pub const MAX_LIST_BYTES: u64 = 64 * 1024 * 1024;

/// Normalises a key or an entry for comparison.
fn normalise(text: &str) -> String {
    text.trim().to_lowercase()
}

/// The hasher of the lists' sets: foldhash, faster than SipHash on the
/// per-transaction lookups. Entries come from the signed pack, so a
/// transaction cannot choose what collides.
type FixedState = foldhash::fast::FixedState;

/// One reference list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    entries: HashSet<String, FixedState>,
}

impl List {
    /// Parses a list from its text. `csv` takes the first column after a
    /// header line; otherwise every non-empty, non-comment line is an entry.
    pub fn parse(name: &str, text: &str, csv: bool) -> Result<List, ListError> {
        let mut lines = text.lines();
        if csv {
            lines.next();
        }
        let entries: HashSet<String, FixedState> = lines
            .map(|line| {
                if csv {
                    line.split(',').next().unwrap_or("").trim_matches('"')
                } else {
                    line.split('#').next().unwrap_or("")
                }
            })
            .map(normalise)
            .filter(|e| !e.is_empty())
            .collect();
        if entries.len() > MAX_LIST_ENTRIES {
            return Err(ListError::TooLarge {
                name: name.to_owned(),
                entries: entries.len(),
                max: MAX_LIST_ENTRIES,
            });
        }
        Ok(List { entries })
    }

    /// Reads a list from a file; `.csv` files are read as CSV.
    pub fn read(name: &str, path: &Path) -> Result<List, ListError> {
        let read_error = |source| ListError::Read {
            name: name.to_owned(),
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut bytes = Vec::new();
        // One byte more than allowed tells a file over the cap from one at
        // it, whatever the file's metadata claims.
        file.take(MAX_LIST_BYTES.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_LIST_BYTES {
            return Err(ListError::TooManyBytes {
                name: name.to_owned(),
                path: path.display().to_string(),
                max: MAX_LIST_BYTES,
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| ListError::NotText {
            name: name.to_owned(),
            path: path.display().to_string(),
        })?;
        let csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        List::parse(name, &text, csv)
    }

    /// Whether `key` is an entry.
    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains(&normalise(key))
    }

    /// The entries, normalised (trimmed, lower-case), in no order.
    pub fn entries(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(String::as_str)
    }

    /// How many entries the list has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// All of a pack's lists, by name.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    by_name: HashMap<String, List, FixedState>,
}

impl Lists {
    /// Adds (or replaces) a list.
    pub fn insert(&mut self, name: impl Into<String>, list: List) {
        self.by_name.insert(name.into(), list);
    }

    /// The list called `name`.
    pub fn get(&self, name: &str) -> Option<&List> {
        self.by_name.get(name)
    }

    /// The lists' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lists_ignore_case_spaces_and_comments() -> Result<(), ListError> {
        let list = List::parse(
            "afsa",
            "# licensed\nBybit\n  WhiteBIT  # AIFC\n\nbinance\n",
            false,
        )?;
        assert_eq!(list.len(), 3);
        assert!(list.contains("bybit"));
        assert!(list.contains(" WHITEBIT"));
        assert!(!list.contains("okx"));
        assert!(!list.contains("licensed"));
        Ok(())
    }

    #[test]
    fn a_list_over_the_maximum_entries_is_refused_naming_the_limit() {
        let text: String = (0..=MAX_LIST_ENTRIES).map(|i| format!("e{i}\n")).collect();
        match List::parse("big", &text, false) {
            Err(e @ ListError::TooLarge { entries, max, .. }) => {
                assert_eq!(entries, MAX_LIST_ENTRIES + 1);
                assert_eq!(max, MAX_LIST_ENTRIES);
                assert!(e.to_string().contains("1000000"), "{e}");
            }
            other => panic!("a list over the cap: {other:?}"),
        }
    }

    #[test]
    fn a_list_file_over_the_maximum_size_is_refused_before_it_is_parsed()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("big.txt");
        // One line, one entry: only the byte cap can refuse it.
        let mut bytes = vec![b'x'; usize::try_from(MAX_LIST_BYTES)? + 1];
        bytes.push(b'\n');
        std::fs::write(&path, bytes)?;
        match List::read("big", &path) {
            Err(e @ ListError::TooManyBytes { max, .. }) => {
                assert_eq!(max, MAX_LIST_BYTES);
                assert!(e.to_string().contains(&MAX_LIST_BYTES.to_string()), "{e}");
            }
            other => panic!("a file over the cap: {other:?}"),
        }
        std::fs::write(&path, b"one\n")?;
        assert_eq!(List::read("small", &path)?.len(), 1);
        Ok(())
    }

    #[test]
    fn csv_lists_skip_the_header_and_read_the_first_column() -> Result<(), ListError> {
        let list = List::parse(
            "x",
            "account,reason\nKZ01,mule\n\"KZ02\",court order\n",
            true,
        )?;
        assert!(list.contains("kz01"));
        assert!(list.contains("KZ02"));
        assert!(!list.contains("account"));
        Ok(())
    }
}
