//! The `BackupSchedule` rules, twice (as in [`super::rules`]): CEL for the CRD schema, plain Rust for
//! the controller. The cron fields themselves (ranges, names, steps) are checked by the cron parser
//! in [`super::cron`]; CEL only catches the shapes that cost users backups elsewhere: a sixth field
//! read as seconds (CloudNativePG) and a `CRON_TZ=` prefix instead of `timeZone`.

/// Schema `maxLength` of `schedule`.
pub const SCHEDULE_MAX_LEN: usize = 100;

/// A time zone belongs in `spec.timeZone`, never in the expression (Kubernetes refuses it too).
pub const SCHEDULE_TZ_RULE: &str = r"!self.matches('^[ \\t]*(CRON_)?TZ=')";
/// Message of [`SCHEDULE_TZ_RULE`].
pub const SCHEDULE_TZ_MSG: &str =
    "must not name a time zone (CRON_TZ= or TZ=): set spec.timeZone instead";

/// Six or more fields: a seconds (or year) field, which this operator does not take.
pub const SCHEDULE_SECONDS_RULE: &str = r"self.matches('^[ \\t]*(CRON_)?TZ=') || !self.matches('^[ \\t]*[^ \\t]+([ \\t]+[^ \\t]+){5,}[ \\t]*$')";
/// Message of [`SCHEDULE_SECONDS_RULE`].
pub const SCHEDULE_SECONDS_MSG: &str = "has more than 5 fields: a seconds (or year) field is not \
     supported. Use the 5-field CronJob syntax 'minute hour day-of-month month day-of-week', e.g. \
     '0 2 * * *' for 02:00 every day";

/// Five fields or a nickname (longer input is reported by the two rules above).
pub const SCHEDULE_SHAPE_RULE: &str = r"self.matches('^[ \\t]*[^ \\t]+([ \\t]+[^ \\t]+){5,}[ \\t]*$') || self.matches('^[ \\t]*(@(hourly|daily|weekly|monthly|yearly|annually|midnight)|[^ \\t]+([ \\t]+[^ \\t]+){4})[ \\t]*$')";
/// Message of [`SCHEDULE_SHAPE_RULE`].
pub const SCHEDULE_SHAPE_MSG: &str = "must be 5 fields 'minute hour day-of-month month \
     day-of-week' (e.g. '0 2 * * *') or one of @hourly, @daily, @weekly, @monthly, @yearly";

/// The nicknames [`SCHEDULE_SHAPE_RULE`] accepts.
pub const NICKNAMES: &[&str] = &[
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
    "@midnight",
];

/// Schema `maxLength` of `timeZone`.
pub const TIME_ZONE_MAX_LEN: usize = 64;
/// IANA names: `UTC`, `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`.
pub const TIME_ZONE_RULE: &str = "self.matches('^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$')";
/// Message of [`TIME_ZONE_RULE`] (an unknown but well-formed name is reported by the controller).
pub const TIME_ZONE_MSG: &str =
    "must be an IANA time zone name such as UTC, Europe/Berlin or America/New_York";

/// `retention.maxAge` range (its syntax is the timeout's).
pub const MAX_AGE_RANGE_RULE: &str = "!self.matches('^([0-9]{1,6}[hms])+$') || \
     (duration(self) >= duration('1s') && duration(self) <= duration('87600h'))";
/// Message of [`MAX_AGE_RANGE_RULE`].
pub const MAX_AGE_RANGE_MSG: &str = "must be between 1s and 87600h (10 years)";

/// `retention.keepLast`.
pub const KEEP_LAST_RULE: &str = "self >= 1 && self <= 1000";
/// Message of [`KEEP_LAST_RULE`].
pub const KEEP_LAST_MSG: &str = "must be between 1 and 1000";
/// `retention.keepFailed`.
pub const KEEP_FAILED_RULE: &str = "self >= 0 && self <= 1000";
/// Message of [`KEEP_FAILED_RULE`].
pub const KEEP_FAILED_MSG: &str = "must be between 0 and 1000";

/// The template names exactly one backup kind.
pub const ONE_TEMPLATE_RULE: &str = "(has(self.dcsBackup) ? 1 : 0) + (has(self.ddsBackup) ? 1 : 0) \
     + (has(self.taurusDbBackup) ? 1 : 0) == 1";
/// Message of [`ONE_TEMPLATE_RULE`].
pub const ONE_TEMPLATE_MSG: &str = "must set exactly one of dcsBackup, ddsBackup or taurusDbBackup";

/// The template's kind is fixed: retention finds the children by kind and label.
pub const TEMPLATE_KIND_RULE: &str = "has(self.dcsBackup) == has(oldSelf.dcsBackup) && \
     has(self.ddsBackup) == has(oldSelf.ddsBackup) && has(self.taurusDbBackup) == has(oldSelf.taurusDbBackup)";
/// Message of [`TEMPLATE_KIND_RULE`].
pub const TEMPLATE_KIND_MSG: &str = "the template's kind cannot change (retention would lose track of \
     the backups already made): create a new BackupSchedule instead";

/// Retention deletes child resources, and only `Delete` takes their cloud backups with them.
pub const RETENTION_DELETE_RULE: &str = "!has(self.retention) || \
     ((!has(self.template.dcsBackup) || !has(self.template.dcsBackup.deletionPolicy) || self.template.dcsBackup.deletionPolicy == 'Delete') && \
     (!has(self.template.ddsBackup) || !has(self.template.ddsBackup.deletionPolicy) || self.template.ddsBackup.deletionPolicy == 'Delete') && \
     (!has(self.template.taurusDbBackup) || !has(self.template.taurusDbBackup.deletionPolicy) || self.template.taurusDbBackup.deletionPolicy == 'Delete'))";
/// Message of [`RETENTION_DELETE_RULE`].
pub const RETENTION_DELETE_MSG: &str = "retention needs the template's deletionPolicy to be Delete \
     (the default here): with Retain, deleting an old backup resource would keep its cloud backup";

/// Children carry the schedule's name in a label, and label values have at most 63 characters.
pub const NAME_RULE: &str = "size(self.metadata.name) <= 63";
/// Message of [`NAME_RULE`].
pub const NAME_MSG: &str = "metadata.name must be at most 63 characters: the backups it creates \
     carry it in the label backup.hwcloud.dev/schedule";

/// Fields are separated by spaces and tabs only: the rules spell that class out, because `\s` means
/// ASCII whitespace to the API server's RE2 but Unicode whitespace to other regex engines.
const SEPARATORS: [char; 2] = [' ', '\t'];

/// The three schedule rules in Rust: `Err` with the one message the CEL rules would give.
pub fn schedule_shape(schedule: &str) -> Result<(), &'static str> {
    let trimmed = schedule.trim_start_matches(SEPARATORS);
    if trimmed.starts_with("TZ=") || trimmed.starts_with("CRON_TZ=") {
        return Err(SCHEDULE_TZ_MSG);
    }
    let fields: Vec<&str> = schedule
        .split(SEPARATORS)
        .filter(|f| !f.is_empty())
        .collect();
    match fields.as_slice() {
        f if f.len() > 5 => Err(SCHEDULE_SECONDS_MSG),
        [_, _, _, _, _] => Ok(()),
        [nick] if NICKNAMES.contains(nick) => Ok(()),
        _ => Err(SCHEDULE_SHAPE_MSG),
    }
}

/// [`TIME_ZONE_RULE`] in Rust.
pub fn is_time_zone_name(value: &str) -> bool {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-'))
    };
    value
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphabetic)
        && value.split('/').all(part_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_fields_and_nicknames_pass() {
        for ok in [
            "0 2 * * *",
            " */15  1-5 * JAN-MAR mon-fri ",
            "@daily",
            "@monthly",
            "@yearly",
        ] {
            assert_eq!(schedule_shape(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn seconds_time_zones_and_odd_shapes_are_refused_with_one_message() {
        for (input, msg) in [
            ("0 0 2 * * *", SCHEDULE_SECONDS_MSG),
            ("0 0 2 * * * 2026", SCHEDULE_SECONDS_MSG),
            ("CRON_TZ=Europe/Berlin 0 2 * * *", SCHEDULE_TZ_MSG),
            ("TZ=UTC 0 2 * * *", SCHEDULE_TZ_MSG),
            ("0 2 * *", SCHEDULE_SHAPE_MSG),
            ("", SCHEDULE_SHAPE_MSG),
            ("@every 1h", SCHEDULE_SHAPE_MSG),
            ("@reboot", SCHEDULE_SHAPE_MSG),
            ("@DAILY", SCHEDULE_SHAPE_MSG),
        ] {
            assert_eq!(schedule_shape(input), Err(msg), "{input:?}");
        }
    }

    #[test]
    fn time_zone_names() {
        for ok in [
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
        ] {
            assert!(is_time_zone_name(ok), "{ok}");
        }
        for bad in [
            "",
            "/Berlin",
            "Europe//Berlin",
            "Europe/",
            "1UTC",
            "UTC 1",
            "Ä",
        ] {
            assert!(!is_time_zone_name(bad), "{bad}");
        }
    }
}
