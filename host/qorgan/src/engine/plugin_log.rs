//! What plugins write through `log`: budgeted, escaped and attributed.
//!
//! A plugin's log lines end up in the host's own log, next to lines that
//! say which pack is active or why a request failed. Left alone, a plugin
//! could fill that log (tens of megabytes per request) or forge host lines
//! with raw newlines. So every message is
//!
//! - **escaped**: control characters (newlines, carriage returns, terminal
//!   escapes) and backslashes are written as `\n`, `\u{1b}`, `\\`, so one
//!   message is one line and cannot pass for anything the host writes;
//! - **budgeted**: at most [`LOG_BYTES_PER_CALL`] bytes per plugin call and
//!   [`LOG_BYTES_PER_BATCH`] bytes per plugin and batch (every call of the
//!   batch's narrowing included); a line that does not fit is dropped and
//!   counted, and one summary line per batch says how much was dropped;
//! - **attributed**: each line names the plugin and, where the host knows
//!   it, the transaction. Lines are held during the call and written after
//!   it, when the host can name the transaction from the history cursor of
//!   the plugin's last question (or from the call itself, when it is on one
//!   transaction).

/// The most bytes (escaped) of log one plugin call may leave.
pub const LOG_BYTES_PER_CALL: usize = 8 * 1024;

/// The most bytes (escaped) of log one plugin may leave per batch, over
/// all the calls that decide it.
pub const LOG_BYTES_PER_BATCH: usize = 32 * 1024;

/// The most bytes of one message; longer ones are cut (and marked `…`).
const MAX_MESSAGE: usize = 2048;

/// A plugin's log level, as the host writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// A held log line: its level, escaped text, and the history cursor of
/// the plugin's last question when it was written.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    level: Level,
    text: String,
    seq: Option<u64>,
}

/// The log lines of one plugin instance's current call, and its budget.
#[derive(Debug, Default)]
pub(crate) struct PluginLog {
    /// Bytes the current call may still write.
    call_left: usize,
    /// Bytes the current batch may still write.
    batch_left: usize,
    /// The cursor of the plugin's last history question in this call.
    pub(crate) last_seq: Option<u64>,
    held: Vec<Line>,
    /// The last error-level line of this call, as a trap's message quotes
    /// it ([`quote_error`]). Kept whether or not the line fit the budget,
    /// so that the quote depends only on what the call wrote, never on how
    /// much earlier calls of the batch wrote: the same transaction fails
    /// with the same message in any batch and at replay.
    last_error: Option<String>,
    /// Lines and bytes dropped over budget since the last [`take_dropped`](Self::take_dropped).
    dropped_lines: u64,
    dropped_bytes: u64,
}

impl PluginLog {
    /// A log for load-time calls: one call's budget.
    pub(crate) fn for_loading() -> PluginLog {
        let mut log = PluginLog::default();
        log.start_call(LOG_BYTES_PER_CALL);
        log
    }

    /// Starts a call that may write `batch_left` bytes more in its batch.
    pub(crate) fn start_call(&mut self, batch_left: usize) {
        self.batch_left = batch_left;
        self.call_left = LOG_BYTES_PER_CALL.min(batch_left);
        self.last_seq = None;
        self.held.clear();
        self.last_error = None;
    }

    /// Holds one message, escaped, if it fits the budget; else counts it.
    pub(crate) fn write(&mut self, level: Level, message: &str) {
        let text = escape(message);
        if level == Level::Error {
            self.last_error = Some(quote_error(&text));
        }
        if text.len() > self.call_left {
            self.dropped_lines += 1;
            self.dropped_bytes = self
                .dropped_bytes
                .saturating_add(u64::try_from(text.len()).unwrap_or(u64::MAX));
            self.call_left = 0;
            return;
        }
        self.call_left -= text.len();
        self.batch_left = self.batch_left.saturating_sub(text.len());
        self.held.push(Line {
            level,
            text,
            seq: self.last_seq,
        });
    }

    /// Bytes the batch may still write after this call.
    pub(crate) fn batch_left(&self) -> usize {
        self.batch_left
    }

    /// The last error-level line this call wrote, quoted, emptied.
    pub(crate) fn take_last_error(&mut self) -> Option<String> {
        self.last_error.take()
    }

    /// The lines held in this call, emptied.
    pub(crate) fn take_lines(&mut self) -> Vec<Line> {
        std::mem::take(&mut self.held)
    }

    /// Lines and bytes dropped since the last call of this, reset.
    pub(crate) fn take_dropped(&mut self) -> (u64, u64) {
        let dropped = (self.dropped_lines, self.dropped_bytes);
        self.dropped_lines = 0;
        self.dropped_bytes = 0;
        dropped
    }
}

/// Writes held lines to the host's log, each naming `plugin` and, where
/// known, the transaction: `single` when the call was on one transaction,
/// else the one whose history cursor the line carries (`ids` maps cursors
/// to transaction ids).
pub(crate) fn emit<'a>(
    plugin: &str,
    lines: Vec<Line>,
    single: Option<&'a str>,
    ids: impl Fn(u64) -> Option<&'a str>,
) {
    for line in lines {
        let named = line.seq.and_then(&ids);
        let tx = match (single, named) {
            (Some(tx), _) | (None, Some(tx)) => escape(tx),
            (None, None) => String::from("-"),
        };
        let text = line.text;
        match line.level {
            Level::Trace => log::trace!(target: "qorgan::plugin", "plugin={plugin} tx={tx} {text}"),
            Level::Debug => log::debug!(target: "qorgan::plugin", "plugin={plugin} tx={tx} {text}"),
            Level::Info => log::info!(target: "qorgan::plugin", "plugin={plugin} tx={tx} {text}"),
            Level::Warn => log::warn!(target: "qorgan::plugin", "plugin={plugin} tx={tx} {text}"),
            Level::Error => log::error!(target: "qorgan::plugin", "plugin={plugin} tx={tx} {text}"),
        }
    }
}

/// The most bytes of a plugin's error line that a trap's message quotes.
const QUOTED_ERROR: usize = 400;

/// An escaped error line cut to [`QUOTED_ERROR`] bytes: what a plugin said
/// just before it trapped, as the trap's message quotes it (a JavaScript or
/// Python rule logs its uncaught exception there, since the exception
/// itself reaches the host only as a bare trap).
fn quote_error(text: &str) -> String {
    if text.len() <= QUOTED_ERROR {
        return text.to_owned();
    }
    let mut cut = QUOTED_ERROR;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", text.get(..cut).unwrap_or_default())
}

/// Says once per batch how much of `plugin`'s log was dropped.
pub(crate) fn report_dropped(plugin: &str, lines: u64, bytes: u64) {
    log::warn!(
        target: "qorgan::plugin",
        "plugin={plugin} dropped_lines={lines} dropped_bytes={bytes} log over its budget of {LOG_BYTES_PER_CALL} bytes per call and {LOG_BYTES_PER_BATCH} per batch dropped"
    );
}

/// `message`, cut to [`MAX_MESSAGE`] bytes, with control characters and
/// backslashes escaped: one line that cannot pass for anything else.
pub(crate) fn escape(message: &str) -> String {
    let mut cut = message.len().min(MAX_MESSAGE);
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    let (kept, rest) = message.split_at(cut);
    let mut out = String::with_capacity(kept.len() + 8);
    for c in kept.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_invisible_separator(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    if !rest.is_empty() {
        out.push('…');
    }
    out
}

/// Unicode line and paragraph separators, which some log viewers break on.
fn is_invisible_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_error_line_is_quoted_cut_to_its_limit() {
        let mut log = PluginLog::for_loading();
        log.write(Level::Error, "first");
        assert_eq!(log.take_last_error().as_deref(), Some("first"));
        log.write(Level::Error, "first");
        log.write(Level::Warn, "not an error");
        log.write(
            Level::Error,
            &format!("TypeError: {}\nstack", "é".repeat(300)),
        );
        let quoted = log.take_last_error().unwrap_or_default();
        assert!(quoted.starts_with("TypeError: é"), "{quoted}");
        assert!(quoted.ends_with('…') && quoted.len() <= QUOTED_ERROR + '…'.len_utf8());
        log.write(Level::Warn, "only a warning");
        assert_eq!(log.take_last_error(), None);
    }

    #[test]
    fn the_quoted_error_does_not_depend_on_what_the_batch_wrote_before() {
        let mut fresh = PluginLog::default();
        fresh.start_call(LOG_BYTES_PER_BATCH);
        fresh.write(Level::Error, "TypeError: boom");
        // A call late in a batch whose earlier calls used up the budget:
        // its lines are dropped, its quote is not.
        let mut spent = PluginLog::default();
        spent.start_call(0);
        spent.write(Level::Error, "TypeError: boom");
        assert!(spent.take_lines().is_empty());
        assert_eq!(spent.take_last_error(), fresh.take_last_error());
        // A new call forgets the last one's error.
        spent.write(Level::Error, "TypeError: boom");
        spent.start_call(LOG_BYTES_PER_BATCH);
        assert_eq!(spent.take_last_error(), None);
    }

    #[test]
    fn control_characters_cannot_start_a_forged_line() {
        let forged = "ok\n2026-12-07T00:00:00Z INFO qorgan: pack activated serial=999\r\u{1b}[2K";
        let line = escape(forged);
        assert!(!line.contains('\n') && !line.contains('\r') && !line.contains('\u{1b}'));
        assert_eq!(
            line,
            "ok\\n2026-12-07T00:00:00Z INFO qorgan: pack activated serial=999\\r\\u{1b}[2K"
        );
        assert_eq!(escape("a\\nb"), "a\\\\nb", "a backslash is escaped too");
    }

    #[test]
    fn a_long_message_is_cut_on_a_character_boundary() {
        let long = "ж".repeat(MAX_MESSAGE);
        let line = escape(&long);
        assert!(line.ends_with('…'));
        assert!(line.len() <= MAX_MESSAGE + '…'.len_utf8());
    }

    #[test]
    fn lines_past_the_call_budget_are_dropped_and_counted() {
        let mut log = PluginLog::default();
        log.start_call(LOG_BYTES_PER_BATCH);
        let message = "x".repeat(1000);
        for _ in 0..20 {
            log.write(Level::Info, &message);
        }
        let kept = log.take_lines();
        assert_eq!(kept.len(), LOG_BYTES_PER_CALL / 1000);
        let (lines, bytes) = log.take_dropped();
        assert_eq!(lines, 20 - kept.len() as u64);
        assert_eq!(bytes, lines * 1000);
        assert_eq!(log.take_dropped(), (0, 0), "taking resets the count");
    }

    #[test]
    fn the_batch_budget_spans_the_calls_of_a_batch() {
        let mut log = PluginLog::default();
        let mut left = LOG_BYTES_PER_BATCH;
        let mut kept = 0;
        for _ in 0..10 {
            log.start_call(left);
            for _ in 0..10 {
                log.write(Level::Warn, &"y".repeat(1000));
            }
            kept += log.take_lines().len();
            left = log.batch_left();
        }
        assert_eq!(kept, LOG_BYTES_PER_BATCH / 1000);
        assert_eq!(left, LOG_BYTES_PER_BATCH % 1000);
    }
}
