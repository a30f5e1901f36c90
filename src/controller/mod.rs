//! Controllers for the four kinds and the machinery they share.
pub mod instance_lock;
pub mod list_cache;
pub mod schedule;
pub mod cleanup;
pub mod context;
pub mod decide;
pub mod driver;
pub mod error;
pub mod kube_io;
pub mod operation;
pub mod db_backup;
pub mod dcs;
pub mod dcs_backup;
pub mod dcs_restore;
#[cfg(test)]
mod decide_tests;
pub mod runner;
