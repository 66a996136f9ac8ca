//! Keyword matching on what a reader sees, not on the code points sent.
//!
//! A remittance text is typed by people who may want a keyword to slip past a
//! rule: `USDT` written with a Cyrillic or Greek `Т`, with a zero-width space
//! inside the word, in full-width letters (`ＵＳＤＴ`), or as `TDSU` behind a
//! right-to-left override so that it *displays* as `USDT`. Comparing code
//! points misses all of these, so every rule that looks for words in text
//! should match on the text's *skeleton* instead, as this module does:
//!
//! 1. **NFKC** (Unicode compatibility normalisation): full-width and other
//!    compatibility forms become their plain letters and digits.
//! 2. **Display order**: a span under a right-to-left override (U+202E, up to
//!    its U+202C, an isolate's end or the end of the line) is displayed
//!    reversed, so the text is also matched in that order. Keywords are
//!    looked for in the logical order and, when the text has an override, in
//!    the display order as well.
//! 3. **Invisible characters removed**: default-ignorable code points (zero
//!    width spaces and joiners, the soft hyphen, bidi controls and marks, ...)
//!    vanish and do not break a word.
//! 4. **Case and confusables folded**, one character at a time: the
//!    character is lower-cased (Unicode), and mapped to its prototype under
//!    the Unicode TR39 confusable skeleton (from `unicode-security`'s copy of
//!    the Unicode data, not a hand-made table). When the lower-case letter's
//!    prototype is not plain ASCII (the small-capital-like Cyrillic `т`, `н`,
//!    `к`, `в`), the upper-case letter's prototype, lower-cased, is taken
//!    instead: `т`/`Т` both become `t`, `н`/`Н` both `h`. Every character
//!    folds the same in upper and lower case, so `УСДТ` still matches `усдт`.
//!
//! **Words.** A keyword matches where it starts a word: at the start of the
//! text or after a character that is not a letter (a space, a digit,
//! punctuation); it may run on into a longer word (Russian inflections:
//! `обмен` matches `обмена`, `обменник`; `100USDT` and `#btc` match too),
//! while a word that merely contains it does not (`теплообменник`). Whether a
//! character is a letter is judged on the character as sent, before folding
//! (the skeleton maps `0` to `o` and `б` to `6`).
//!
//! **What the skeleton costs.** Folding merges look-alike letters of different
//! scripts, so a keyword also matches text in another script that looks the
//! same: `btc` matches Cyrillic `втс`, `p2p` matches `р2р`. That is the point,
//! but it means a keyword list should be checked against ordinary texts of the
//! scripts the bank sees (the unit tests here hold ordinary Russian and Kazakh
//! payment texts against the reference keywords).

use std::sync::OnceLock;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};
use unicode_security::confusable_detection::skeleton;

/// The keywords a rule looks for, each kept as written (trimmed,
/// lower-cased) and as its skeleton.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keywords {
    entries: Vec<Keyword>,
}

/// One keyword: as written, and folded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Keyword {
    word: String,
    folded: String,
}

impl Keywords {
    /// The keywords of a comma-separated list (a rule's text parameter):
    /// split at commas, trimmed, lower-cased; empty ones, ones that are only
    /// invisible characters and ones that fold the same as an earlier one are
    /// dropped; order is kept.
    #[must_use]
    pub fn parse(list: &str) -> Keywords {
        Keywords::new(list.split(','))
    }

    /// The keywords of a list of words, as [`Keywords::parse`] treats them.
    #[must_use]
    pub fn new<I, S>(words: I) -> Keywords
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut entries: Vec<Keyword> = Vec::new();
        for word in words {
            let word = word.as_ref().trim().to_lowercase();
            let folded = fold(&word).text;
            if folded.is_empty() || entries.iter().any(|k| k.folded == folded) {
                continue;
            }
            entries.push(Keyword { word, folded });
        }
        Keywords { entries }
    }

    /// Whether there are no keywords.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many keywords there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The keywords as written (trimmed, lower-cased), in order.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|k| k.word.as_str())
    }

    /// The keywords found in `text`, as written in the list, each once: in
    /// order of first appearance, the longest first where several start at
    /// the same place; those found only in the display order of a
    /// right-to-left override come after those found in the logical order.
    #[must_use]
    pub fn find_in(&self, text: &str) -> Vec<&str> {
        if self.entries.is_empty() || text.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<(usize, usize, &Keyword)> = Vec::new();
        for (variant, form) in forms(text).iter().enumerate() {
            let folded = fold(form);
            for keyword in &self.entries {
                if found.iter().any(|(_, _, k)| std::ptr::eq(*k, keyword)) {
                    continue;
                }
                if let Some(at) = folded.find_at_word_start(&keyword.folded) {
                    found.push((variant, at, keyword));
                }
            }
        }
        found.sort_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then(b.2.folded.len().cmp(&a.2.folded.len()))
        });
        found.into_iter().map(|(_, _, k)| k.word.as_str()).collect()
    }

    /// Whether any keyword is in `text`.
    #[must_use]
    pub fn any_in(&self, text: &str) -> bool {
        !self.find_in(text).is_empty()
    }
}

/// The skeleton of `text` in its logical order: NFKC, invisible characters
/// removed, case and confusables folded (see the [module docs](self)). Two
/// texts that a reader cannot tell apart have the same skeleton; so do some
/// that a careful reader can (`rn` and `m`, `0` and `O`).
#[must_use]
pub fn skeleton_of(text: &str) -> String {
    fold(&nfkc(text)).text
}

/// A folded text and the byte offsets in it where a word starts.
#[derive(Debug)]
struct Folded {
    text: String,
    word_starts: Vec<usize>,
}

impl Folded {
    /// The first offset at which `keyword` (folded) starts a word.
    fn find_at_word_start(&self, keyword: &str) -> Option<usize> {
        self.word_starts.iter().copied().find(|&at| {
            self.text
                .get(at..)
                .is_some_and(|rest| rest.starts_with(keyword))
        })
    }
}

/// The forms of `text` that are matched: NFKC in the logical order, and the
/// display order too when the text has a right-to-left override.
fn forms(text: &str) -> Vec<String> {
    let text = nfkc(text);
    if text.contains(RLO) {
        let display = display_order(&text);
        if display != text {
            return vec![text, display];
        }
    }
    vec![text]
}

/// NFKC of `text`, without work when it already is.
fn nfkc(text: &str) -> String {
    if text.is_ascii() || is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        text.to_owned()
    } else {
        text.nfkc().collect()
    }
}

/// Folds `text` character by character, noting where words start.
fn fold(text: &str) -> Folded {
    let mut folded = Folded {
        text: String::with_capacity(text.len()),
        word_starts: Vec::new(),
    };
    let mut after_letter = false;
    for ch in text.chars() {
        let start = folded.text.len();
        push_folded(ch, &mut folded.text);
        if folded.text.len() == start {
            continue; // invisible: neither a letter nor a break
        }
        if !after_letter {
            folded.word_starts.push(start);
        }
        after_letter = ch.is_alphabetic();
    }
    folded
}

/// The first code points whose folds are computed once and kept: Latin,
/// Greek and Cyrillic, the scripts of nearly every remittance text.
const CACHED: u32 = 0x0530;

/// Appends the fold of one character.
fn push_folded(ch: char, out: &mut String) {
    static TABLE: OnceLock<Vec<Box<str>>> = OnceLock::new();
    let code = u32::from(ch);
    if code < CACHED {
        let table = TABLE.get_or_init(|| {
            (0..CACHED)
                .map(|code| char::from_u32(code).map_or_else(Box::default, fold_char))
                .collect()
        });
        if let Some(folded) = usize::try_from(code).ok().and_then(|i| table.get(i)) {
            out.push_str(folded);
            return;
        }
    }
    out.push_str(&fold_char(ch));
}

/// The fold of one character (see the module docs, step 4).
fn fold_char(ch: char) -> Box<str> {
    let lower: String = ch.to_lowercase().collect();
    let lower_prototype = lowered_skeleton(&lower);
    if lower_prototype.is_ascii() {
        return lower_prototype.into_boxed_str();
    }
    let upper: String = ch.to_uppercase().collect();
    let upper_prototype = lowered_skeleton(&upper);
    if upper_prototype.is_ascii() {
        upper_prototype.into_boxed_str()
    } else {
        lower_prototype.into_boxed_str()
    }
}

/// The TR39 skeleton of `text`, lower-cased, and the skeleton of that (a
/// lower-cased prototype need not be a prototype itself: `O` becomes `o`).
fn lowered_skeleton(text: &str) -> String {
    let lowered: String = skeleton(text).flat_map(char::to_lowercase).collect();
    skeleton(&lowered).collect()
}

/// LEFT-TO-RIGHT EMBEDDING.
const LRE: char = '\u{202A}';
/// RIGHT-TO-LEFT EMBEDDING.
const RLE: char = '\u{202B}';
/// POP DIRECTIONAL FORMATTING.
const PDF: char = '\u{202C}';
/// LEFT-TO-RIGHT OVERRIDE.
const LRO: char = '\u{202D}';
/// RIGHT-TO-LEFT OVERRIDE.
const RLO: char = '\u{202E}';
/// LEFT-TO-RIGHT, RIGHT-TO-LEFT and FIRST STRONG ISOLATE.
const ISOLATES: [char; 3] = ['\u{2066}', '\u{2067}', '\u{2068}'];
/// POP DIRECTIONAL ISOLATE.
const PDI: char = '\u{2069}';

/// What opened a span of the explicit bidi levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opener {
    /// An embedding or a left-to-right override: its text keeps its order.
    Keep,
    /// A right-to-left override: its text is displayed reversed.
    Reverse,
    /// An isolate: keeps its order, and is closed only by PDI.
    Isolate,
}

/// A span being read: how it was opened and the pieces read so far (a piece
/// is a character or a closed inner span, displayed as a unit).
struct Span {
    opener: Opener,
    pieces: Vec<String>,
}

impl Span {
    fn new(opener: Opener) -> Span {
        Span {
            opener,
            pieces: Vec::new(),
        }
    }

    /// The span's text in display order.
    fn display(mut self) -> String {
        if self.opener == Opener::Reverse {
            self.pieces.reverse();
        }
        self.pieces.concat()
    }
}

/// The order in which `text` is displayed as far as explicit overrides go:
/// what a right-to-left override covers is reversed (an inner span as one
/// piece), everything else keeps its order. The controls themselves are
/// dropped; so is the implicit reordering of right-to-left scripts, which
/// does not reorder Latin or Cyrillic letters.
fn display_order(text: &str) -> String {
    let mut stack = vec![Span::new(Opener::Keep)];
    let close = |stack: &mut Vec<Span>| {
        if stack.len() > 1
            && let Some(span) = stack.pop()
        {
            let shown = span.display();
            if let Some(outer) = stack.last_mut() {
                outer.pieces.push(shown);
            }
        }
    };
    for ch in text.chars() {
        match ch {
            LRE | RLE | LRO => stack.push(Span::new(Opener::Keep)),
            RLO => stack.push(Span::new(Opener::Reverse)),
            c if ISOLATES.contains(&c) => stack.push(Span::new(Opener::Isolate)),
            PDF => {
                if stack.last().is_some_and(|s| s.opener != Opener::Isolate) {
                    close(&mut stack);
                }
            }
            PDI => {
                if stack.iter().any(|s| s.opener == Opener::Isolate) {
                    while stack.last().is_some_and(|s| s.opener != Opener::Isolate) {
                        close(&mut stack);
                    }
                    close(&mut stack);
                }
            }
            '\n' | '\r' | '\u{2029}' | '\u{85}' => {
                while stack.len() > 1 {
                    close(&mut stack);
                }
                if let Some(outer) = stack.last_mut() {
                    outer.pieces.push(ch.to_string());
                }
            }
            c => {
                if let Some(span) = stack.last_mut() {
                    span.pieces.push(c.to_string());
                }
            }
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    stack.pop().map(Span::display).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference pack's crypto keywords (kz-exchanger's default).
    const REFERENCE: &str = "usdt, usdc, tether, тезер, юсдт, усдт, trc20, erc20, btc, \
                             bitcoin, биткоин, биток, crypto, крипт, p2p, п2п, обмен, айырбас";

    /// Ways of writing `USDT` that a reader sees as USDT.
    const DISGUISED_USDT: [&str; 40] = [
        "USDT",
        "usdt",
        "UsDt",
        "USD\u{0422}",                               // Cyrillic capital Т
        "USD\u{0442}",                               // Cyrillic small т
        "U\u{0405}D\u{0422}",                        // Cyrillic Ѕ and Т
        "U\u{0455}DT",                               // Cyrillic small ѕ
        "u\u{0455}d\u{0442}",                        // Cyrillic ѕ and т in lower case
        "USD\u{03A4}",                               // Greek capital Τ
        "USD\u{03C4}",                               // Greek small τ
        "\u{03C5}SDT",                               // Greek small υ
        "\u{03C5}sd\u{03C4}",                        // Greek υ and τ
        "\u{054D}SDT",                               // Armenian Ս
        "\u{057D}sdt",                               // Armenian ս
        "U\u{13DA}DT",                               // Cherokee Ꮪ
        "US\u{13A0}T",                               // Cherokee Ꭰ
        "U\u{13DA}\u{13A0}\u{13A2}",                 // Cherokee Ꮪ, Ꭰ, Ꭲ
        "US\u{216E}T",                               // Roman numeral Ⅾ
        "us\u{217E}t",                               // small Roman numeral ⅾ
        "U\u{FF33}DT",                               // a full-width S
        "\u{FF35}\u{FF33}\u{FF24}\u{FF34}",          // full-width
        "\u{FF55}\u{FF53}\u{FF44}\u{FF54}",          // full-width lower case
        "\u{1D414}\u{1D412}\u{1D403}\u{1D413}",      // mathematical bold
        "\u{1D684}\u{1D682}\u{1D673}\u{1D683}",      // mathematical monospace
        "\u{24CA}\u{24C8}\u{24B9}\u{24C9}",          // circled
        "U\u{200B}SDT",                              // zero-width space
        "US\u{200C}DT",                              // zero-width non-joiner
        "USD\u{200D}T",                              // zero-width joiner
        "U\u{2060}S\u{2060}D\u{2060}T",              // word joiners
        "\u{FEFF}USDT",                              // byte order mark
        "US\u{00AD}DT",                              // soft hyphen
        "U\u{034F}SDT",                              // combining grapheme joiner
        "U\u{200E}SD\u{200F}T",                      // LRM and RLM
        "\u{202E}TDSU\u{202C}",                      // right-to-left override
        "\u{202E}TDSU",                              // override to the end of the text
        "U\u{202E}TDS\u{202C}",                      // override inside the word
        "\u{202E}\u{202D}USDT\u{202C}\u{202C}",      // left-to-right override inside it
        "\u{2067}USDT\u{2069}",                      // an isolate keeps Latin order
        "\u{FF35}\u{FF33}\u{200B}\u{FF24}\u{0442}",  // full-width, zero-width, Cyrillic
        "\u{202E}\u{0422}D\u{0405}\u{FF35}\u{202C}", // override over homoglyphs
    ];

    /// Ordinary Russian and Kazakh payment texts, many spelt with letters
    /// that look like Latin ones.
    const ORDINARY: [&str; 48] = [
        "оплата за квартиру",
        "за услуги",
        "аренда",
        "аренда квартиры за март",
        "зарплата",
        "ЗАРПЛАТА ЗА ОКТЯБРЬ",
        "аванс",
        "премия",
        "отпускные",
        "жалақы",
        "жалақы қазан айы",
        "қарыз қайтару",
        "қарызды қайтару",
        "пәтер ақысы",
        "зейнетақы",
        "шәкіртақы",
        "коммуналдық қызметтер",
        "несие төлемі",
        "сыйлық",
        "туған күніңмен",
        "возврат долга",
        "перевод другу",
        "на подарок маме",
        "ТОО «Рассвет», оплата по договору № 15",
        "ИП Ахметов, оплата за товар",
        "коммунальные услуги",
        "ВОТ ТАК",
        "ХОРОШО",
        "ВЕРХ",
        "СЕТЬ",
        "РОСТ",
        "СОРТ",
        "ТОРТ",
        "КОТ",
        "ТАКСИ",
        "ВЕСТ",
        "САМОСВАЛ",
        "ТЕХОСМОТР",
        "СТО",
        "ВТБ",
        "ЕРЕКЕ",
        "ТЕТРАДИ",
        "теплообменник",
        "взаимообмен",
        "за обучение",
        "детский сад",
        "алименты",
        "ремонт авто",
    ];

    #[test]
    fn every_disguised_usdt_matches() {
        let keywords = Keywords::parse(REFERENCE);
        for text in DISGUISED_USDT {
            assert_eq!(keywords.find_in(text), ["usdt"], "{text:?}");
            assert_eq!(
                keywords.find_in(&format!("оплата {text} по курсу")),
                ["usdt"],
                "{text:?} inside a sentence"
            );
        }
    }

    #[test]
    fn ordinary_russian_and_kazakh_texts_match_nothing() {
        let keywords = Keywords::parse(REFERENCE);
        for text in ORDINARY {
            assert_eq!(keywords.find_in(text), Vec::<&str>::new(), "{text:?}");
        }
    }

    #[test]
    fn keywords_match_at_word_starts_and_run_on() {
        let keywords = Keywords::parse("обмен, usdt, btc");
        assert_eq!(keywords.find_in("ОБМЕНА валюты"), ["обмен"]);
        assert_eq!(keywords.find_in("обменник"), ["обмен"]);
        assert_eq!(keywords.find_in("100USDT"), ["usdt"]);
        assert_eq!(keywords.find_in("#btc"), ["btc"]);
        assert_eq!(keywords.find_in("теплообменник"), Vec::<&str>::new());
        assert_eq!(keywords.find_in("xusdt"), Vec::<&str>::new());
        // A letter folded to a digit still counts as a letter before a word.
        assert_eq!(keywords.find_in("бusdt"), Vec::<&str>::new());
        // An invisible character is not a word break.
        assert_eq!(keywords.find_in("x\u{200B}usdt"), Vec::<&str>::new());
    }

    #[test]
    fn found_keywords_come_in_order_longest_first_each_once() {
        let keywords = Keywords::parse("крипт, криптовалюта, usdt, btc");
        assert_eq!(
            keywords.find_in("BTC, потом криптовалюта и USDT, ещё btc"),
            ["btc", "криптовалюта", "крипт", "usdt"]
        );
        // Found only in the display order of an override: after the rest.
        assert_eq!(
            keywords.find_in("\u{202E}TDSU\u{202C} за btc"),
            ["btc", "usdt"]
        );
    }

    #[test]
    fn parsing_trims_lower_cases_and_drops_empty_and_look_alike_repeats() {
        let keywords = Keywords::parse(" USDT ,, usdt, US\u{0414}T, \u{200B}, р2р, p2p,");
        assert_eq!(
            keywords.words().collect::<Vec<_>>(),
            ["usdt", "usдt", "р2р"]
        );
        assert_eq!(keywords.len(), 3);
        assert!(!keywords.is_empty());
        assert!(Keywords::parse(" , ").is_empty());
        assert!(Keywords::parse("").find_in("usdt").is_empty());
        assert!(Keywords::parse("usdt").find_in("").is_empty());
        assert!(Keywords::parse("usdt").any_in("ＵＳＤＴ"));
        assert!(!Keywords::parse("usdt").any_in("usd"));
    }

    #[test]
    fn upper_and_lower_case_letters_fold_alike() {
        let blocks = [0x41..0x250, 0x370..0x400, 0x400..0x530];
        for code in blocks.into_iter().flatten() {
            let Some(ch) = char::from_u32(code) else {
                continue;
            };
            let mut lower = ch.to_lowercase();
            let mut upper = ch.to_uppercase();
            if let (Some(l), None, Some(u), None) =
                (lower.next(), lower.next(), upper.next(), upper.next())
                && l.to_uppercase().eq([u])
                && u.to_lowercase().eq([l])
            {
                assert_eq!(fold_char(l), fold_char(u), "{l} / {u}");
            }
        }
    }

    #[test]
    fn the_skeleton_folds_case_width_invisibles_and_look_alikes() {
        assert_eq!(skeleton_of("ＵＳ\u{200B}D\u{0422}"), "usdt");
        assert_eq!(skeleton_of("Рос\u{0422}"), skeleton_of("POCT"));
        assert_eq!(skeleton_of("m"), skeleton_of("rn"));
        assert_ne!(skeleton_of("USDT"), skeleton_of("USD"));
        // The cache agrees with folding on the spot.
        for ch in ['A', 'm', '0', 'Т', 'т', 'ё', '\u{52F}'] {
            let mut cached = String::new();
            push_folded(ch, &mut cached);
            assert_eq!(cached.as_str(), &*fold_char(ch), "{ch}");
        }
    }

    #[test]
    fn overrides_are_displayed_reversed_and_the_rest_kept() {
        assert_eq!(display_order("a\u{202E}bcd\u{202C}e"), "adcbe");
        assert_eq!(display_order("\u{202E}ab\u{202D}cd\u{202C}ef"), "fecdba");
        assert_eq!(
            display_order("\u{202E}ab\u{2067}cd\u{202C}e\u{2069}f"),
            "fcdeba"
        );
        assert_eq!(display_order("\u{202B}ab\u{202C}"), "ab");
        assert_eq!(display_order("\u{202E}ab\ncd"), "ba\ncd");
        assert_eq!(display_order("ab\u{202C}\u{2069}cd"), "abcd");
    }
}
