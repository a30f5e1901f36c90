//! The `BackupSchedule` controller: runs backups on a cron schedule and applies retention.
pub mod planner;
#[cfg(test)]
mod planner_tests;
