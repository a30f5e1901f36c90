//! Lenient reading of cloud response bodies: documented quirks (`{}` for a string, numbers as
//! strings, missing fields) are tolerated; a body of the wrong shape becomes `Error::Decode`.

use std::collections::HashSet;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{Error, truncate};
use super::types::{parse_progress, to_bytes};

/// Bytes per size unit: DCS reports bytes, DDS kilobytes, TaurusDB megabytes.
pub(crate) const BYTE: i64 = 1;
pub(crate) const KB: i64 = 1024;
pub(crate) const MB: i64 = 1024 * 1024;

/// Longest id accepted from the cloud: real ids are UUID-like (32 to 40 characters), and an id
/// ends up in status, events and request paths.
pub(crate) const MAX_ID_LEN: usize = 128;
/// Longest parser message kept in a `Decode` error (serde quotes the offending value in full).
const MAX_DECODE_MESSAGE: usize = 200;

/// A field of any JSON type; read with [`Loose::text`] or [`Loose::number`].
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(transparent)]
pub(crate) struct Loose(Option<Value>);

impl Loose {
    /// Strings (non-empty), numbers and booleans as text; `{}`, `[]`, `null` and `""` as absent.
    pub(crate) fn text(&self) -> Option<String> {
        match self.0.as_ref()? {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// An id: [`Loose::text`] of at most [`MAX_ID_LEN`] bytes; a longer value is no usable id.
    pub(crate) fn id(&self) -> Option<String> {
        self.text().filter(|id| id.len() <= MAX_ID_LEN)
    }

    /// Numbers, or strings holding one (`"1024"`, `" 9% "`).
    pub(crate) fn number(&self) -> Option<f64> {
        match self.0.as_ref()? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok(),
            _ => None,
        }
        .filter(|n: &f64| n.is_finite())
    }

    /// A percentage in 0..=100 (`"100.00"`, `"9%"`, `45`).
    pub(crate) fn progress(&self) -> Option<f64> {
        match self.0.as_ref()? {
            Value::String(s) => parse_progress(s),
            _ => self.number().filter(|p| (0.0..=100.0).contains(p)),
        }
    }

    /// A non-negative whole number such as a list's total (`3`, `"3"`).
    pub(crate) fn count(&self) -> Option<usize> {
        self.number()
            .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n < u32::MAX as f64)
            .map(|n| n as usize)
    }

    /// A size in `unit_bytes` units, normalised to bytes.
    pub(crate) fn size_bytes(&self, unit_bytes: i64) -> Option<i64> {
        to_bytes(self.number()?, unit_bytes)
    }
}

/// One page of a list: the records read, how many raw entries it had, and the total if given.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub records: Vec<T>,
    pub raw_len: usize,
    pub total: Option<usize>,
}

impl<T> Page<T> {
    /// What a 204 or empty list body means.
    pub(crate) fn empty() -> Self {
        Self {
            records: Vec::new(),
            raw_len: 0,
            total: Some(0),
        }
    }

    /// Whether paging with `page_size` is complete after `seen` raw entries including this page.
    pub(crate) fn is_last(&self, seen: usize, page_size: usize) -> bool {
        self.raw_len == 0
            || match self.total {
                Some(total) => seen >= total,
                None => self.raw_len < page_size,
            }
    }
}

impl<T> Page<T> {
    /// [`Page::is_last`] for a list whose total may count only this page (DCS v1.0 documents
    /// `total_num` as the "number of obtained backup records"): a full page whose total equals
    /// its own length is not taken for the last one, which costs at most one empty page.
    pub(crate) fn is_last_if_total_may_count_the_page(
        &self,
        seen: usize,
        page_size: usize,
    ) -> bool {
        self.raw_len < page_size
            || self
                .total
                .is_some_and(|total| total != self.raw_len && seen >= total)
    }
}

/// Records gathered across pages, each id once: a record added while paging shifts the later
/// pages (newest first), so the record at a page boundary comes twice.
#[derive(Debug)]
pub(crate) struct Unique<T> {
    records: Vec<T>,
    ids: HashSet<String>,
}

impl<T> Unique<T> {
    pub(crate) fn new() -> Self {
        Self {
            records: Vec::new(),
            ids: HashSet::new(),
        }
    }

    /// Adds the records of one page not seen before; returns how many were new.
    pub(crate) fn add(&mut self, page: Vec<T>, id: impl Fn(&T) -> &str) -> usize {
        let before = self.records.len();
        for record in page {
            if self.ids.insert(id(&record).to_string()) {
                self.records.push(record);
            }
        }
        self.records.len() - before
    }

    /// [`Unique::add`] for a whole page; says whether the page was a repeat (it had records and
    /// none of them was new), which means the server ignores the paging parameters.
    pub(crate) fn add_page(&mut self, page: Vec<T>, id: impl Fn(&T) -> &str) -> bool {
        let had = !page.is_empty();
        had && self.add(page, id) == 0
    }

    pub(crate) fn into_records(self) -> Vec<T> {
        self.records
    }
}

/// Parses a success body into `T`; any mismatch is `Error::Decode` naming the call.
pub(crate) fn decode<T: DeserializeOwned>(
    service: &'static str,
    operation: &'static str,
    body: &[u8],
) -> Result<T, Error> {
    // Every documented body is an object; serde would also build a struct from an array.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::Decode {
            service,
            operation,
            message: "body is not a JSON object".into(),
        });
    }
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        service,
        operation,
        message: format!(
            "body does not match the documented shape: {}",
            truncate(&e.to_string(), MAX_DECODE_MESSAGE)
        ),
    })
}

/// The `Error::Decode` for a body that parsed but lacks a field the caller cannot do without.
pub(crate) fn missing(service: &'static str, operation: &'static str, field: &str) -> Error {
    Error::Decode {
        service,
        operation,
        message: format!("response has no usable {field}"),
    }
}

/// Whether a success body carries nothing (204, or whitespace only): "no records" for lists.
pub(crate) fn is_empty_body(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// Whether `body` is one JSON value (an empty body is not).
pub fn is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

/// A body that is not JSON, described without quoting it: `text/html, 1534 bytes, not JSON`.
/// Only the media type of `content_type` is kept, and only when it looks like one.
pub fn describe_body(content_type: Option<&str>, body: &[u8]) -> String {
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(str::trim)
        .filter(|m| {
            (1..=64).contains(&m.len())
                && m.contains('/')
                && m.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/+-.".contains(&b))
        })
        .unwrap_or("no content type");
    format!("{media}, {} bytes, not JSON", body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct W {
        #[serde(default)]
        a: Loose,
    }

    fn w(json: &str) -> Loose {
        serde_json::from_str::<W>(json).unwrap().a
    }

    #[test]
    fn text_tolerates_quirks() {
        assert_eq!(w(r#"{"a":"x"}"#).text().as_deref(), Some("x"));
        assert_eq!(w(r#"{"a":12}"#).text().as_deref(), Some("12"));
        assert_eq!(w(r#"{"a":{}}"#).text(), None);
        assert_eq!(w(r#"{"a":[]}"#).text(), None);
        assert_eq!(w(r#"{"a":null}"#).text(), None);
        assert_eq!(w(r#"{"a":"  "}"#).text(), None);
        assert_eq!(w(r#"{}"#).text(), None);
    }

    #[test]
    fn numbers_and_sizes() {
        assert_eq!(w(r#"{"a":1024}"#).size_bytes(KB), Some(1_048_576));
        assert_eq!(w(r#"{"a":"1024"}"#).size_bytes(BYTE), Some(1024));
        assert_eq!(w(r#"{"a":1.5}"#).size_bytes(MB), Some(1_572_864));
        assert_eq!(w(r#"{"a":"x"}"#).size_bytes(MB), None);
        assert_eq!(w(r#"{"a":-3}"#).size_bytes(MB), None);
        assert_eq!(w(r#"{"a":{}}"#).size_bytes(MB), None);
        assert_eq!(w(r#"{"a":"100.00"}"#).progress(), Some(100.0));
        assert_eq!(w(r#"{"a":"9%"}"#).progress(), Some(9.0));
        assert_eq!(w(r#"{"a":45}"#).progress(), Some(45.0));
        assert_eq!(w(r#"{"a":""}"#).progress(), None);
        assert_eq!(w(r#"{"a":500}"#).progress(), None);
    }

    fn page(raw_len: usize, total: Option<usize>) -> Page<()> {
        Page {
            records: Vec::new(),
            raw_len,
            total,
        }
    }

    #[test]
    fn a_total_that_may_count_the_page_never_ends_a_full_page() {
        assert!(page(0, Some(0)).is_last_if_total_may_count_the_page(20, 10));
        assert!(
            page(3, Some(3)).is_last_if_total_may_count_the_page(23, 10),
            "short"
        );
        assert!(
            !page(10, Some(10)).is_last_if_total_may_count_the_page(10, 10),
            "the page's own count, or exactly ten: ask once more"
        );
        assert!(page(10, Some(20)).is_last_if_total_may_count_the_page(20, 10));
        assert!(!page(10, Some(25)).is_last_if_total_may_count_the_page(20, 10));
        assert!(!page(10, None).is_last_if_total_may_count_the_page(10, 10));
    }

    #[test]
    fn unique_keeps_the_first_of_each_id() {
        let mut u = Unique::new();
        assert_eq!(u.add(vec![("a", 1), ("b", 1)], |r| r.0), 2);
        assert_eq!(u.add(vec![("b", 2), ("c", 2)], |r| r.0), 1);
        assert_eq!(u.add(vec![("a", 3)], |r| r.0), 0);
        assert_eq!(u.into_records(), vec![("a", 1), ("b", 1), ("c", 2)]);
    }

    #[test]
    fn bodies_that_are_not_json_are_described_not_quoted() {
        let page = b"<html><body>internal</body></html>";
        assert!(!is_json(page) && !is_json(b"") && is_json(b" {} ") && is_json(b"[1]"));
        assert_eq!(
            describe_body(Some("text/html; charset=utf-8"), page),
            "text/html, 34 bytes, not JSON"
        );
        assert_eq!(
            describe_body(None, b"oops"),
            "no content type, 4 bytes, not JSON"
        );
        assert_eq!(
            describe_body(Some("<script>alert(1)</script>"), b"x"),
            "no content type, 1 bytes, not JSON",
            "a hostile header is not echoed"
        );
    }

    #[test]
    fn decode_errors_name_the_call() {
        let e = decode::<W>("dds", "get_job", b"<html>").unwrap_err();
        assert!(matches!(
            e,
            Error::Decode {
                service: "dds",
                operation: "get_job",
                ..
            }
        ));
        assert!(decode::<W>("dds", "get_job", b"[]").is_err());
        assert!(decode::<W>("dds", "get_job", b" {}").is_ok());
        assert!(is_empty_body(b""));
        assert!(is_empty_body(b" \n"));
        assert!(!is_empty_body(b"{}"));
    }
}
