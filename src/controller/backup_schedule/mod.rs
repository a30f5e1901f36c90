//! The `BackupSchedule` controller: one backup resource per run of a cron schedule, no overlap, at
//! most one catch-up run after downtime, and retention that deletes old backup resources (whose
//! cleanup deletes their cloud backups).
//!
//! `planner` (what is due) and `retention` (what goes) are pure; `reconcile` does the I/O.
pub mod children;
pub mod clock;
pub mod planner;
#[cfg(test)]
mod planner_tests;
pub mod recent;
pub mod reconcile;
pub mod retention;
pub mod run;
pub mod status;
