//! Tests of seeding: the estimate from listed records, which records count, once per instance.

use std::cell::Cell;
use std::time::Duration;

use super::*;
use crate::cloud::dcs::DcsBackupRecord;
use crate::cloud::job::DbBackup;
use crate::controller::schedule::{PollPolicy, Scheduler};
use crate::crd::{DcsBackup, DcsRestore, DdsBackup};

const S: fn(u64) -> Duration = Duration::from_secs;
const HOUR: Duration = Duration::from_secs(3600);

fn past<'a>(began: &'a str, ended: &'a str) -> Past<'a> {
    Past {
        began: Some(began),
        ended: Some(ended),
    }
}

/// A DCS-style record pair for day `day` of January 2026 taking `secs` seconds from 01:00:00Z.
fn daily(day: u32, secs: u32) -> (String, String) {
    (
        format!("2026-01-{day:02}T01:00:00.000Z"),
        format!("2026-01-{day:02}T01:{:02}:{:02}.000Z", secs / 60, secs % 60),
    )
}

#[test]
fn nothing_usable_is_no_estimate() {
    assert_eq!(estimate([], HOUR), None);
    let none = Past {
        began: None,
        ended: None,
    };
    assert_eq!(estimate([none], HOUR), None);
}

#[test]
fn each_service_layout_gives_its_duration() {
    // The documented examples: DCS (milliseconds, Z), DDS (UTC without an offset), TaurusDB (+0800).
    assert_eq!(
        estimate(
            [past("2019-05-10T08:31:16.166Z", "2019-05-10T08:32:30.546Z")],
            HOUR
        ),
        Some(Duration::from_millis(74_380))
    );
    assert_eq!(
        estimate([past("2018-08-06 12:41:14", "2018-08-06 12:43:14")], HOUR),
        Some(S(120))
    );
    assert_eq!(
        estimate(
            [past("2020-07-06T10:41:14+0800", "2020-07-06T10:42:44+0800")],
            HOUR
        ),
        Some(S(90))
    );
}

#[test]
fn records_with_missing_or_unreadable_times_are_skipped() {
    let records = [
        Past {
            began: None,
            ended: Some("2026-01-01T01:05:00Z"),
        },
        Past {
            began: Some("2026-01-01T01:00:00Z"),
            ended: None,
        },
        past("yesterday", "2026-01-01T01:05:00Z"),
        past("2026-01-01T01:00:00Z", "{}"),
        past("2026-01-01", "2026-01-02"),
        past("2026-01-01T01:00:00Z", "2026-01-01T01:01:00Z"),
    ];
    assert_eq!(
        estimate(records, HOUR),
        Some(S(60)),
        "only the readable record counts"
    );
}

#[test]
fn reversed_empty_and_absurd_durations_are_skipped() {
    let records = [
        // Ends before it began (clock trouble, or a field updated later).
        past("2026-01-01T01:05:00Z", "2026-01-01T01:00:00Z"),
        // No time at all.
        past("2026-01-01T01:00:00Z", "2026-01-01T01:00:00Z"),
        // The TaurusDB documentation's own example: ten days for a 2-minute backup.
        past("2020-07-06T10:41:14+0800", "2020-07-16T10:41:14+0800"),
        // Longer than the timeout given as the bound.
        past("2026-01-02T01:00:00Z", "2026-01-02T02:00:01Z"),
    ];
    assert_eq!(estimate(records, HOUR), None);
    assert_eq!(
        estimate([past("2026-01-02T01:00:00Z", "2026-01-02T02:00:00Z")], HOUR),
        Some(HOUR),
        "the bound itself is allowed"
    );
}

#[test]
fn the_most_recent_backups_count_and_one_odd_one_does_not_move_the_estimate() {
    // Ten daily backups, oldest slow (the data grew smaller since), listed in no particular order.
    let mut days: Vec<(String, String)> = (1..=5).map(|d| daily(d, 600)).collect();
    days.extend([(6, 62), (7, 58), (8, 300), (9, 61), (10, 60)].map(|(d, s)| daily(d, s)));
    days.reverse();
    days.swap(0, 7);
    let records = days.iter().map(|(b, e)| past(b, e));
    assert_eq!(
        estimate(records, HOUR),
        Some(S(61)),
        "median of days 6-10 (58, 60, 61, 62, 300)"
    );
    let two = [daily(1, 60), daily(2, 70)];
    assert_eq!(
        estimate(two.iter().map(|(b, e)| past(b, e)), HOUR),
        Some(S(65))
    );
}

fn dcs(status: &str, created: Option<&str>, updated: Option<&str>) -> DcsBackupRecord {
    DcsBackupRecord {
        backup_id: "b".into(),
        instance_id: None,
        status: status.into(),
        progress: None,
        size_bytes: None,
        remark: None,
        error_code: None,
        created_at: created.map(str::to_string),
        updated_at: updated.map(str::to_string),
    }
}

#[test]
fn only_succeeded_dcs_backups_are_history() {
    let t0 = Some("2026-01-01T01:00:00.000Z");
    let records = [
        dcs("succeed", t0, Some("2026-01-01T01:01:00.000Z")),
        // Deleted and expired records carry the deletion in `updated_at`.
        dcs("deleted", t0, Some("2026-01-09T01:00:00.000Z")),
        dcs("expired", t0, Some("2026-01-08T01:00:00.000Z")),
        dcs("failed", t0, Some("2026-01-01T01:00:05.000Z")),
        dcs("backuping", t0, t0),
    ];
    let usable: Vec<_> = dcs_backups(&records).collect();
    assert_eq!(usable.len(), 1);
    assert_eq!(estimate(usable, HOUR), Some(S(60)));
}

fn db(status: &str, kind: Option<&str>, secs: u32) -> DbBackup {
    DbBackup {
        id: "b".into(),
        name: "n".into(),
        description: None,
        instance_id: None,
        status: status.into(),
        backup_type: kind.map(str::to_string),
        size_bytes: None,
        begin_time: Some("2026-01-01 01:00:00".into()),
        end_time: Some(format!("2026-01-01 01:{:02}:{:02}", secs / 60, secs % 60)),
    }
}

#[test]
fn full_backups_of_either_type_count_and_incremental_ones_do_not() {
    let backups = [
        db("COMPLETED", Some("Manual"), 120),
        db("COMPLETED", Some("auto"), 120),
        db("AVAILABLE", None, 120),
        db("COMPLETED", Some("Incremental"), 5),
        db("FAILED", Some("Manual"), 10),
        db("BUILDING", Some("Manual"), 1),
        db("DISABLED", Some("Manual"), 7),
    ];
    assert_eq!(db_backups(&backups).count(), 3);
    assert_eq!(estimate(db_backups(&backups), HOUR), Some(S(120)));
}

#[test]
fn offers_are_read_only_while_seeding_is_wanted() {
    let s = Scheduler::new(PollPolicy::default());
    let read = Cell::new(0);
    let history = || {
        read.set(read.get() + 1);
        [past("2026-01-01T01:00:00Z", "2026-01-01T01:01:30Z")]
    };
    offer::<DcsBackup, _>(&s, "i1", history);
    assert_eq!(s.expected("dcsbackup", "i1"), Some(S(90)));
    offer::<DcsBackup, _>(&s, "i1", history);
    assert_eq!(read.get(), 1, "seeded once");

    s.record("dcsbackup", "i2", S(40));
    offer::<DcsBackup, _>(&s, "i2", history);
    assert_eq!(read.get(), 1, "a learned instance is not seeded");
    assert_eq!(s.expected("dcsbackup", "i2"), Some(S(40)));

    offer::<DcsBackup, _>(&s, "i3", || []);
    assert_eq!(s.expected("dcsbackup", "i3"), None);
    assert!(!s.needs_seed("dcsbackup", "i3"), "tried once, even empty");
    offer::<DcsBackup, _>(&s, "i3", history);
    assert_eq!(s.expected("dcsbackup", "i3"), None, "not tried again");

    offer::<DcsRestore, _>(&s, "i1", || []);
    assert!(!s.needs_seed("dcsrestore", "i1"), "per kind");
}

#[test]
fn the_kinds_default_timeout_bounds_its_history() {
    let s = Scheduler::new(PollPolicy::default());
    // 45 minutes: longer than a DCS backup's default timeout (30m), within a DDS one's (60m).
    let long = || [past("2026-01-01T01:00:00Z", "2026-01-01T01:45:00Z")];
    offer::<DcsBackup, _>(&s, "i", long);
    offer::<DdsBackup, _>(&s, "i", long);
    assert_eq!(s.expected("dcsbackup", "i"), None);
    assert_eq!(s.expected("ddsbackup", "i"), Some(S(45 * 60)));
}

/// The list bodies as the cloud sends them, through the client's parsers: records whose times are
/// missing, `{}`, `null`, numbers of no known layout or text are skipped, not errors.
#[test]
fn listed_bodies_with_missing_or_unreadable_times_seed_from_the_rest() {
    let dcs = serde_json::json!({"total_num": 5, "backup_record_response": [
        {"backup_id": "a", "status": "succeed", "created_at": "2026-01-03T01:00:00.000Z",
         "updated_at": "2026-01-03T01:01:10.000Z"},
        {"backup_id": "b", "status": "succeed", "created_at": {}, "updated_at": "2026-01-02T01:01:00.000Z"},
        {"backup_id": "c", "status": "succeed", "created_at": "2026-01-01T01:00:00.000Z", "updated_at": null},
        {"backup_id": "d", "status": "succeed", "created_at": 20260101, "updated_at": "soon"},
        {"backup_id": "e", "status": "succeed"}
    ]});
    let page =
        crate::cloud::dcs_records::parse_backup_page("list_backups", dcs.to_string().as_bytes())
            .expect("a list with odd times still parses");
    assert_eq!(page.records.len(), 5);
    assert_eq!(estimate(dcs_backups(&page.records), HOUR), Some(S(70)));

    let taurus = serde_json::json!({"total_count": 3, "backups": [
        {"id": "x", "name": "n", "status": "COMPLETED", "type": "auto",
         "begin_time": "2026-01-03T09:00:00+0800", "end_time": "2026-01-03T09:02:00+0800"},
        {"id": "y", "name": "n", "status": "COMPLETED", "type": "auto",
         "begin_time": "2026-01-02T09:00:00+0800", "end_time": ""},
        {"id": "z", "name": "n", "status": "COMPLETED", "type": "auto",
         "begin_time": [], "end_time": "2026-01-01T09:00:00+0800"}
    ]});
    let page = crate::cloud::job::parse_backup_list(
        "taurus",
        "list_backups",
        1024 * 1024,
        taurus.to_string().as_bytes(),
    )
    .expect("a list with odd times still parses");
    assert_eq!(estimate(db_backups(&page.records), HOUR), Some(S(120)));
}
