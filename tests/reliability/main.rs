//! Reliability tests: crash windows, cloud faults at scale, busy instances, hostile cloud answers,
//! and credentials isolation, all through the real reconcilers.

#[path = "../support/fake_api.rs"]
mod fake_api;
#[path = "../support/harness.rs"]
mod harness;

mod bad_input;
mod busy_instance;
mod capture;
mod cloud_faults;
mod crash_window;
mod hostile;
mod leadership;
mod named_windows;
mod proxy;
mod restore_once;
mod rig;
mod secrets;
mod shard_move;
mod shards;
mod stale_marker;
mod story;
