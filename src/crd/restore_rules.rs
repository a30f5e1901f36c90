//! The `DdsRestore` / `TaurusDbRestore` rules, twice (as in [`super::rules`]): CEL for the CRD schema,
//! plain Rust for the controller.

use jiff::Timestamp;

use super::rules::{
    BACKUP_ID_MSG, Checks, INSTANCE_ID_MSG, OBJECT_NAME_MSG, is_cloud_id, is_object_name,
};

/// A restore names its source one way: a backup resource, a cloud backup, or a point in time.
pub const EXACTLY_ONE_SOURCE_RULE: &str = "(has(self.backupRef) ? 1 : 0) + (has(self.backupId) ? 1 : 0) \
     + (has(self.restoreTime) ? 1 : 0) == 1";
/// Message of [`EXACTLY_ONE_SOURCE_RULE`].
pub const EXACTLY_ONE_SOURCE_MSG: &str =
    "exactly one of backupRef, backupId or restoreTime must be set";

/// A backup names its own instance; another source instance only makes sense for a point in time.
pub const SOURCE_INSTANCE_RULE: &str = "!has(self.sourceInstanceId) || has(self.restoreTime)";
/// Message of [`SOURCE_INSTANCE_RULE`].
pub const SOURCE_INSTANCE_MSG: &str =
    "sourceInstanceId is only used with restoreTime (a backup belongs to its own instance)";

/// Schema `maxLength` of `restoreTime` (`2026-01-02T03:04:05.123456789+01:00` is 35 characters).
pub const RESTORE_TIME_MAX_LEN: usize = 35;
/// RFC 3339 with a `T`, seconds, an optional fraction and a zone (`Z` or `+hh:mm`). A day the
/// month does not have (`02-31`) passes the pattern; the controller reports it (`InvalidSpec`).
pub const RESTORE_TIME_RULE: &str = "self.matches('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])\
     T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$')";
/// Message of [`RESTORE_TIME_RULE`].
pub const RESTORE_TIME_MSG: &str = "must be an RFC 3339 time with seconds and a zone, such as \
     2026-01-02T03:04:05Z or 2026-01-02T04:04:05.250+01:00";

/// [`RESTORE_TIME_RULE`] in Rust, and a real date: the instant, or `None`.
pub fn parse_restore_time(value: &str) -> Option<Timestamp> {
    let b = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .map(|d| d.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let date_time = at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':');
    let fields = [
        (0..4, 9999),
        (5..7, 12),
        (8..10, 31),
        (11..13, 23),
        (14..16, 59),
        (17..19, 59),
    ];
    if !date_time
        || !fields
            .into_iter()
            .all(|(r, max)| digits(r).is_some_and(|v| v <= max))
    {
        return None;
    }
    // The fraction: a dot and 1 to 9 digits.
    let mut i = 19;
    if at(i, b'.') {
        let n = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        i += 1 + n;
    }
    let zone_ok = match b.get(i) {
        Some(b'Z') => b.len() == i + 1,
        Some(b'+' | b'-') => {
            b.len() == i + 6
                && at(i + 3, b':')
                && digits(i + 1..i + 3).is_some_and(|h| h <= 23)
                && digits(i + 4..i + 6).is_some_and(|m| m <= 59)
        }
        _ => false,
    };
    // jiff then rejects the days a month does not have.
    zone_ok.then(|| value.parse().ok()).flatten()
}

/// The source fields of a restore, as the spec has them.
pub struct RestoreSource<'a> {
    pub backup_ref: Option<&'a str>,
    pub backup_id: Option<&'a str>,
    pub restore_time: Option<&'a str>,
    pub source_instance_id: Option<&'a str>,
}

impl Checks {
    /// The checks of `DdsRestore` and `TaurusDbRestore` besides the common ones.
    pub fn db_restore(&mut self, s: &RestoreSource<'_>) {
        let set = [
            s.backup_ref.is_some(),
            s.backup_id.is_some(),
            s.restore_time.is_some(),
        ];
        self.require_spec(
            set.iter().filter(|b| **b).count() == 1,
            EXACTLY_ONE_SOURCE_MSG,
        );
        self.require_spec(
            s.source_instance_id.is_none() || s.restore_time.is_some(),
            SOURCE_INSTANCE_MSG,
        );
        if let Some(name) = s.backup_ref {
            self.require(is_object_name(name), "spec.backupRef.name", OBJECT_NAME_MSG);
        }
        if let Some(id) = s.backup_id {
            self.require(is_cloud_id(id), "spec.backupId", BACKUP_ID_MSG);
        }
        if let Some(at) = s.restore_time {
            if at.chars().count() > RESTORE_TIME_MAX_LEN {
                self.max_len(at, RESTORE_TIME_MAX_LEN, "spec.restoreTime");
            }
            self.require(
                parse_restore_time(at).is_some(),
                "spec.restoreTime",
                RESTORE_TIME_MSG,
            );
        }
        if let Some(id) = s.source_instance_id {
            self.require(is_cloud_id(id), "spec.sourceInstanceId", INSTANCE_ID_MSG);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_times() {
        for ok in [
            "2026-01-02T03:04:05Z",
            "2026-01-02T03:04:05.250Z",
            "2026-01-02T04:04:05.123456789+01:00",
            "2026-12-31T23:59:59-05:30",
        ] {
            assert!(parse_restore_time(ok).is_some(), "{ok}");
        }
        assert_eq!(
            parse_restore_time("2026-01-02T04:04:05.250+01:00").map(|t| t.as_millisecond()),
            parse_restore_time("2026-01-02T03:04:05.250Z").map(|t| t.as_millisecond())
        );
        for bad in [
            "",
            "2026-01-02",
            "2026-01-02 03:04:05Z",
            "2026-01-02T03:04Z",
            "2026-01-02T03:04:05",
            "2026-01-02T03:04:05z",
            "2026-02-31T03:04:05Z",
            "2026-01-02T03:04:05.1234567890Z",
            "yesterday",
        ] {
            assert!(parse_restore_time(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn sources() {
        let src = |r, i, t, s| RestoreSource {
            backup_ref: r,
            backup_id: i,
            restore_time: t,
            source_instance_id: s,
        };
        let check = |s: RestoreSource<'_>| {
            let mut c = Checks::default();
            c.db_restore(&s);
            c.finish()
        };
        assert_eq!(check(src(Some("nightly"), None, None, None)), Ok(()));
        assert_eq!(check(src(None, Some("b-1"), None, None)), Ok(()));
        let pitr = Some("2026-01-02T03:04:05Z");
        assert_eq!(check(src(None, None, pitr, Some("other-in02"))), Ok(()));
        let two = check(src(Some("n"), Some("b"), None, None)).unwrap_err();
        assert!(two.contains(EXACTLY_ONE_SOURCE_MSG), "{two}");
        let none = check(src(None, None, None, None)).unwrap_err();
        assert!(none.contains(EXACTLY_ONE_SOURCE_MSG), "{none}");
        let stray = check(src(None, Some("b"), None, Some("i"))).unwrap_err();
        assert_eq!(stray, format!("spec: {SOURCE_INSTANCE_MSG}"));
        let bad_time = check(src(None, None, Some("now"), None)).unwrap_err();
        assert_eq!(bad_time, format!("spec.restoreTime: {RESTORE_TIME_MSG}"));
    }
}
