//! Controllers for the six backup and restore kinds and the machinery they share, and the `BackupSchedule` controller.
pub mod account_slots;
pub mod backup_schedule;
pub mod bounded;
pub mod cleanup;
pub mod context;
pub mod db_backup;
pub mod db_restore;
mod db_restore_kinds;
pub mod dcs;
pub mod dcs_backup;
pub mod dcs_restore;
pub mod decide;
#[cfg(test)]
mod decide_restore_tests;
#[cfg(test)]
mod decide_tests;
pub mod driver;
pub mod error;
mod finish;
pub mod gate;
pub mod housekeeping;
pub mod instance_lock;
pub mod journal;
pub mod kube_io;
pub mod list_cache;
mod observe;
pub mod operation;
pub mod recent;
pub mod restore_backup;
pub mod restore_source;
pub mod resume;
pub mod runner;
mod running;
#[cfg(test)]
mod running_tests;
pub mod schedule;
pub mod seed;
pub mod state;
pub mod strip;
