//! Times as the cloud's lists write them, which differ per service and API version.
//!
//! - DCS records (v2 and v1.0): `2019-05-10T08:31:16.166Z` (RFC 3339, milliseconds, UTC).
//! - DDS backups: `2018-08-06 12:41:14`, UTC per the list's query parameter description.
//! - TaurusDB backups and DDS/TaurusDB jobs: `2020-07-06T10:41:14+0800` (offset without a colon).
//!
//! Anything else that names an instant unambiguously is read too (RFC 3339 with `+08:00`, a `T`
//! form without an offset as UTC, epoch milliseconds): a service that changes its layout should
//! cost an estimate, not a parse error. Nothing here ever fails a reconcile: an unreadable time is
//! `None`, and whoever needs it goes without.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// The instant `raw` names, or `None` when it is empty or not a time this module knows.
pub fn parse_cloud_time(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if raw.bytes().all(|b| b.is_ascii_digit()) {
        return epoch_millis(raw);
    }
    // A date alone names a day, not an instant: no duration can be measured from it.
    if !raw.contains(':') {
        return None;
    }
    // RFC 3339 / ISO 8601 with an offset (`Z`, `+08:00`, `+0800`).
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Some(t);
    }
    // No offset: DDS writes UTC with a space; a `T` without an offset is read the same way.
    let civil: DateTime = raw.replacen(' ', "T", 1).parse().ok()?;
    civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// Milliseconds since the epoch (13 digits, as some Huawei APIs write instants); other digit
/// strings (a `yyyyMMddHHmmss` query value, seconds) are too ambiguous to guess at.
fn epoch_millis(digits: &str) -> Option<Timestamp> {
    if digits.len() != 13 {
        return None;
    }
    Timestamp::from_millisecond(digits.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> Option<Timestamp> {
        Some(rfc3339.parse().unwrap())
    }

    #[test]
    fn every_documented_layout_is_read() {
        // DCS v2 and v1.0 list examples.
        assert_eq!(
            parse_cloud_time("2019-05-10T08:31:16.166Z"),
            at("2019-05-10T08:31:16.166Z")
        );
        // DDS backup list (UTC without an offset).
        assert_eq!(
            parse_cloud_time("2018-08-06 12:41:14"),
            at("2018-08-06T12:41:14Z")
        );
        // TaurusDB backup list and the jobs of both: an offset without a colon.
        assert_eq!(
            parse_cloud_time("2020-07-06T10:41:14+0800"),
            at("2020-07-06T02:41:14Z")
        );
        assert_eq!(
            parse_cloud_time("2026-01-02T03:04:05+0000"),
            at("2026-01-02T03:04:05Z")
        );
    }

    #[test]
    fn other_unambiguous_layouts_are_read() {
        assert_eq!(
            parse_cloud_time("2020-07-06T10:41:14+08:00"),
            at("2020-07-06T02:41:14Z")
        );
        assert_eq!(
            parse_cloud_time("2020-07-06T10:41:14"),
            at("2020-07-06T10:41:14Z")
        );
        assert_eq!(
            parse_cloud_time(" 2018-08-06 12:41:14.5 "),
            at("2018-08-06T12:41:14.5Z")
        );
        assert_eq!(
            parse_cloud_time("1562400074000"),
            at("2019-07-06T08:01:14Z")
        );
    }

    #[test]
    fn garbage_and_ambiguous_values_are_none() {
        for raw in [
            "",
            "  ",
            "x",
            "null",
            "{}",
            "2019-13-40T99:00:00Z",
            "2019-05-10",
            "08:31:16",
            "20190510083116",
            "1562400074",
            "yesterday",
            "2019-05-10T08:31:16.166Zjunk",
        ] {
            assert_eq!(parse_cloud_time(raw), None, "{raw:?}");
        }
    }
}
