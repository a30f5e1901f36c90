//! Reliability tests: crash windows, cloud faults at scale, busy instances, hostile cloud answers,
//! and credentials isolation, all through the real reconcilers.

#[path = "../support/fake_api.rs"]
mod fake_api;
#[path = "../support/harness.rs"]
mod harness;

mod busy_instance;
mod cloud_faults;
mod crash_window;
mod proxy;
mod rig;
