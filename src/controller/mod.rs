//! Controllers for the four kinds and the machinery they share.
pub mod instance_lock;
pub mod list_cache;
pub mod schedule;
