//! The pieces of the direct JSON writers of the service's hot answers (the advice,
//! `recognition::json`, and the lookup answer of the server): each writes the bytes
//! `serde_json::to_vec` makes of the same answer, whose derived `Serialize` stays the
//! definition, without serde_json's cost. serde_json escapes every key and string a byte at a
//! time (about 12 instructions per byte); here keys are byte literals with their punctuation,
//! a string is checked for the characters JSON escapes in one vectorized pass and copied whole
//! when it has none (serde_json writes the rare rest), and days are written digit by digit.

use crate::date::{Day, Iso};

#[inline(always)]
pub fn lit(w: &mut Vec<u8>, bytes: &[u8]) {
    w.extend_from_slice(bytes);
}

/// `[a,b,…]`, each item written by `each`.
pub fn list<T>(w: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    w.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        each(w, x);
    }
    w.push(b']');
}

pub fn bool(w: &mut Vec<u8>, b: bool) {
    lit(w, if b { b"true" } else { b"false" });
}

/// Whether `s` needs escaping in a JSON string: a control character, `"` or a backslash. A fold
/// without an early exit, so that it compiles to a vectorized loop.
pub fn needs_escaping(s: &[u8]) -> bool {
    s.iter().fold(false, |acc, &b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// `s` as a JSON string, escaped exactly as serde_json escapes it.
pub fn str(w: &mut Vec<u8>, s: &str) {
    if needs_escaping(s.as_bytes()) {
        escaped(w, s);
    } else {
        w.reserve(s.len() + 2);
        w.push(b'"');
        w.extend_from_slice(s.as_bytes());
        w.push(b'"');
    }
}

/// `s` as a JSON string through serde_json: for a string that [`needs_escaping`].
#[cold]
pub fn escaped(w: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *w, s).expect("writing to a Vec cannot fail");
}

/// A string of the program's own (an id, a status name, a fixed sentence), known to need no
/// escaping and copied without the check; debug builds, and so the tests, check it.
pub fn plain(w: &mut Vec<u8>, s: &'static str) {
    debug_assert!(!needs_escaping(s.as_bytes()), "{s:?}");
    w.reserve(s.len() + 2);
    w.push(b'"');
    w.extend_from_slice(s.as_bytes());
    w.push(b'"');
}

pub fn opt_str(w: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => str(w, s),
        None => lit(w, b"null"),
    }
}

pub fn opt_plain(w: &mut Vec<u8>, s: Option<&'static str>) {
    match s {
        Some(s) => plain(w, s),
        None => lit(w, b"null"),
    }
}

/// A day as chrono serializes it: `"YYYY-MM-DD"` (other years through chrono itself).
pub fn day(w: &mut Vec<u8>, d: Day) {
    match Iso::new(d) {
        Some(iso) => {
            w.reserve(12);
            w.push(b'"');
            w.extend_from_slice(iso.as_str().as_bytes());
            w.push(b'"');
        }
        None => serde_json::to_writer(&mut *w, &d).expect("writing to a Vec cannot fail"),
    }
}

pub fn opt_day(w: &mut Vec<u8>, d: Option<Day>) {
    match d {
        Some(d) => day(w, d),
        None => lit(w, b"null"),
    }
}

/// What `f` writes, as text: for the writers' tests.
#[cfg(test)]
pub(crate) fn written(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut w = Vec::new();
    f(&mut w);
    String::from_utf8(w).expect("the writers write UTF-8")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::written as ours;
    use super::*;

    #[test]
    fn escapes_as_serde_json_does() {
        for s in [
            "",
            "a",
            "\"",
            "\\",
            "12345678\"",
            "1234567\u{1f}",
            "\u{7f}\u{0}\u{8}\t\n\u{c}\r",
            "熊*",
            "四川省住房和城乡建设厅 \"引号\" \\ 反斜杠",
        ] {
            assert_eq!(
                ours(|w| str(w, s)),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
        assert!(!needs_escaping("\u{7f} \u{80} ~ !#".as_bytes()));
    }

    proptest! {
        #[test]
        fn strings_are_escaped_as_serde_json_escapes_them(s in any::<String>()) {
            prop_assert_eq!(ours(|w| str(w, &s)), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn strings_of_json_specials_too(s in "[\"\\\\\u{0}-\u{1f}\u{7f}a甲 ]{0,80}") {
            prop_assert_eq!(ours(|w| str(w, &s)), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn days_are_written_as_chrono_writes_them(n in -5_000_000i32..5_000_000) {
            let d = Day::from_num_days_from_ce_opt(n).unwrap();
            prop_assert_eq!(ours(|w| day(w, d)), serde_json::to_string(&d).unwrap());
        }
    }
}
