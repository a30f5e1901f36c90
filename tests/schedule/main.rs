//! `BackupSchedule` against the in-memory API server and the cloud simulator: runs, crashes,
//! overlap, downtime, suspension, invalid specs and retention, one reconcile at a time; and the real
//! controllers over a compressed stretch of every-minute runs and a thousand idle schedules.

#[path = "../support/fake_api.rs"]
mod fake_api;
#[path = "../support/harness.rs"]
mod harness;

mod rig;

mod catchup;
mod compressed;
mod controllers;
mod retention;
mod runs;
mod status;
