//! Reading JSON Lines input one bounded line at a time.
//!
//! `eval` and `backtest` read streams that may be gigabytes long and may
//! contain anything; a single line without a newline must not exhaust
//! memory, and a line that is not UTF-8 must cost only that line. So lines
//! are read with a length limit, over-long lines are skipped to their end,
//! and either problem comes back as a [`Line::Bad`] with a [`LineError`]
//! for the caller to report with the line number, while the stream goes on.
//!
//! [`Batches`] reads a stream the way every command that decides one does:
//! a batch of non-blank lines at a time, each with its line number, so that
//! results can be written in input order and a bad line named by number.

use std::io::{BufRead, Read};

/// The longest input line accepted, in bytes.
pub const MAX_LINE: usize = 1024 * 1024;

/// One input line, read within the length limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// The line's text, without its line ending.
    Text(String),
    /// The line could not be taken: too long, or not UTF-8.
    Bad(LineError),
}

/// Why a line could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line is longer than the limit; it was skipped to its end.
    #[error("line longer than {max} bytes (the maximum line length)")]
    TooLong {
        /// The limit, [`MAX_LINE`].
        max: usize,
    },
    /// The line is not UTF-8 text.
    #[error("not UTF-8 text")]
    NotText,
}

/// A line of a batch: its number in the stream (from 1) and its text, or
/// why it could not be taken.
pub type NumberedLine = (u64, Result<String, LineError>);

/// A JSON Lines stream read a batch at a time: up to `size` non-blank
/// lines per batch, blank lines skipped but counted.
#[derive(Debug)]
pub struct Batches<R> {
    reader: R,
    size: usize,
    lines: u64,
    done: bool,
}

impl<R: BufRead> Batches<R> {
    /// Batches of at most `size` lines (at least one) from `reader`.
    pub fn new(reader: R, size: usize) -> Batches<R> {
        Batches {
            reader,
            size: size.max(1),
            lines: 0,
            done: false,
        }
    }

    /// The next batch, in stream order; `None` once the stream has ended.
    pub fn next_batch(&mut self) -> std::io::Result<Option<Vec<NumberedLine>>> {
        if self.done {
            return Ok(None);
        }
        let mut batch = Vec::with_capacity(self.size);
        while batch.len() < self.size {
            let Some(line) = next_line(&mut self.reader)? else {
                self.done = true;
                break;
            };
            self.lines += 1;
            match line {
                Line::Text(text) if text.trim().is_empty() => {}
                Line::Text(text) => batch.push((self.lines, Ok(text))),
                Line::Bad(problem) => batch.push((self.lines, Err(problem))),
            }
        }
        Ok((!batch.is_empty()).then_some(batch))
    }

    /// How many lines have been read, blank ones included.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The reader, e.g. to tell how far into the stream it is.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }
}

/// Reads the next line of at most [`MAX_LINE`] bytes; `None` at the end.
pub fn next_line(reader: &mut impl BufRead) -> std::io::Result<Option<Line>> {
    let mut buf = Vec::new();
    let read = reader
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)?;
    if read == 0 {
        return Ok(None);
    }
    if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
        // Skip the rest of the over-long line.
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let n = reader
                .by_ref()
                .take(64 * 1024)
                .read_until(b'\n', &mut rest)?;
            if n == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
        return Ok(Some(Line::Bad(LineError::TooLong { max: MAX_LINE })));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(match String::from_utf8(buf) {
        Ok(text) => Line::Text(text),
        Err(_) => Line::Bad(LineError::NotText),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_number_every_line_skip_blank_ones_and_name_bad_ones() {
        let input: &[u8] = b"a\n\n  \nb\n\xff\nc\nd";
        let mut batches = Batches::new(input, 2);
        let mut seen = Vec::new();
        while let Some(batch) = batches.next_batch().unwrap() {
            assert!(batch.len() <= 2);
            seen.extend(batch);
        }
        assert_eq!(
            seen,
            vec![
                (1, Ok("a".to_owned())),
                (4, Ok("b".to_owned())),
                (5, Err(LineError::NotText)),
                (6, Ok("c".to_owned())),
                (7, Ok("d".to_owned())),
            ]
        );
        assert_eq!(batches.lines(), 7);
        assert_eq!(batches.next_batch().unwrap(), None);
    }

    #[test]
    fn reads_lines_without_their_endings_and_flags_bad_ones() -> std::io::Result<()> {
        let mut input: &[u8] = b"one\r\ntwo\n\xff\xfe\nlast";
        assert_eq!(next_line(&mut input)?, Some(Line::Text("one".into())));
        assert_eq!(next_line(&mut input)?, Some(Line::Text("two".into())));
        assert_eq!(next_line(&mut input)?, Some(Line::Bad(LineError::NotText)));
        assert_eq!(next_line(&mut input)?, Some(Line::Text("last".into())));
        assert_eq!(next_line(&mut input)?, None);
        Ok(())
    }

    #[test]
    fn a_line_at_the_limit_is_taken_whole() -> std::io::Result<()> {
        let mut bytes = vec![b'x'; MAX_LINE];
        bytes.push(b'\n');
        let mut input: &[u8] = &bytes;
        assert!(matches!(next_line(&mut input)?, Some(Line::Text(t)) if t.len() == MAX_LINE));
        Ok(())
    }

    #[test]
    fn an_over_long_line_is_skipped_and_the_next_one_read() -> std::io::Result<()> {
        let mut bytes = vec![b'x'; MAX_LINE + 10];
        bytes.extend_from_slice(b"\nnext\n");
        let mut input: &[u8] = &bytes;
        let Some(Line::Bad(error)) = next_line(&mut input)? else {
            panic!("an over-long line is bad");
        };
        assert_eq!(error, LineError::TooLong { max: MAX_LINE });
        assert!(error.to_string().contains(&MAX_LINE.to_string()));
        assert_eq!(next_line(&mut input)?, Some(Line::Text("next".into())));
        Ok(())
    }
}
