//! `spec.schedule` and `spec.timeZone` parsed into run times: croner's parser with seconds and years
//! disallowed (the 5-field CronJob syntax), evaluated in an IANA zone from jiff's time zone database.
//!
//! Daylight-saving days follow croner's documented rules (the Open Cron Pattern Specification, as
//! Vixie cron): a fixed-time run that falls into a spring-forward gap runs once, right after the gap;
//! one that falls into a fall-back overlap runs once, at its first occurrence. Searches move along
//! real time, so a run time is identified by its UTC instant, never by its wall-clock reading.

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use super::schedule_rules::schedule_shape;

/// A parsed schedule in its time zone.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: Cron,
    zone: TimeZone,
}

impl CronSchedule {
    /// Parses `schedule` (5 fields or a nickname) for `time_zone` (an IANA name).
    ///
    /// Errors read `"<field path>: <what is wrong>"`, like the other spec checks.
    pub fn parse(schedule: &str, time_zone: &str) -> Result<Self, String> {
        schedule_shape(schedule).map_err(|m| format!("spec.schedule: {m}"))?;
        let zone = jiff::tz::db().get(time_zone).map_err(|_| {
            format!(
                "spec.timeZone: unknown time zone {time_zone:?}: use an IANA name such as UTC, \
                 Europe/Berlin or America/New_York"
            )
        })?;
        let trimmed = schedule.trim();
        // croner knows every nickname of the CronJob syntax except this one.
        let expr = if trimmed == "@midnight" {
            "@daily"
        } else {
            trimmed
        };
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(expr)
            .map_err(|e| format!("spec.schedule: {e}"))?;
        Ok(Self { cron, zone })
    }

    /// The first run time strictly after `t`; `None` if the expression never matches again.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        let from = t.to_zoned(self.zone.clone());
        self.cron
            .find_next_occurrence(&from, false)
            .ok()
            .map(|z| z.timestamp())
    }

    /// The latest run time at or before `t`.
    pub fn latest_at_or_before(&self, t: Timestamp) -> Option<Timestamp> {
        let from = t.to_zoned(self.zone.clone());
        self.cron
            .find_previous_occurrence(&from, true)
            .ok()
            .map(|z| z.timestamp())
    }

    /// `t` on the schedule's wall clock, for messages: `2026-11-28 02:00 CET`.
    pub fn wall_clock(&self, t: Timestamp) -> String {
        let z: Zoned = t.to_zoned(self.zone.clone());
        z.strftime("%Y-%m-%d %H:%M %Z").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn five_fields_in_a_zone() {
        let s = CronSchedule::parse("0 2 * * *", "Europe/Berlin").unwrap();
        // 02:00 CET is 01:00 UTC in winter.
        assert_eq!(
            s.next_after(ts("2026-11-27T12:00:00Z")),
            Some(ts("2026-11-28T01:00:00Z"))
        );
        assert_eq!(
            s.wall_clock(ts("2026-11-28T01:00:00Z")),
            "2026-11-28 02:00 CET"
        );
        assert_eq!(
            s.latest_at_or_before(ts("2026-11-28T01:00:00Z")),
            Some(ts("2026-11-28T01:00:00Z"))
        );
    }

    #[test]
    fn nicknames_including_midnight() {
        for (nick, after, next) in [
            ("@hourly", "2026-01-01T10:30:00Z", "2026-01-01T11:00:00Z"),
            ("@daily", "2026-01-01T10:30:00Z", "2026-01-02T00:00:00Z"),
            ("@midnight", "2026-01-01T10:30:00Z", "2026-01-02T00:00:00Z"),
            // 2026-01-01 is a Thursday: the next Sunday is the 4th.
            ("@weekly", "2026-01-01T10:30:00Z", "2026-01-04T00:00:00Z"),
            ("@monthly", "2026-01-01T10:30:00Z", "2026-02-01T00:00:00Z"),
            ("@yearly", "2026-01-01T10:30:00Z", "2027-01-01T00:00:00Z"),
            ("@annually", "2026-01-01T10:30:00Z", "2027-01-01T00:00:00Z"),
        ] {
            let s = CronSchedule::parse(nick, "UTC").unwrap();
            assert_eq!(s.next_after(ts(after)), Some(ts(next)), "{nick}");
        }
    }

    #[test]
    fn unknown_zones_and_bad_fields_say_which_field() {
        let err = CronSchedule::parse("0 2 * * *", "Mars/Olympus").unwrap_err();
        assert!(err.starts_with("spec.timeZone: unknown time zone"), "{err}");
        let err = CronSchedule::parse("61 2 * * *", "UTC").unwrap_err();
        assert!(err.starts_with("spec.schedule: "), "{err}");
        let err = CronSchedule::parse("0 0 2 * * *", "UTC").unwrap_err();
        assert!(err.contains("more than 5 fields"), "{err}");
    }

    #[test]
    fn an_expression_that_never_matches_has_no_next_time() {
        let s = CronSchedule::parse("0 0 31 2 *", "UTC").unwrap();
        assert_eq!(s.next_after(ts("2026-01-01T00:00:00Z")), None);
    }
}
