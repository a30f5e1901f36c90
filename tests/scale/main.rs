//! Scale: what the caches keep of each object, a restart over many finished resources, the spread
//! of first polls after a restart, and many accounts that do not hold one another up, all through
//! the real controllers against the fake API server and the cloud simulator.

#[path = "../support/fake_api.rs"]
mod fake_api;
#[path = "../support/harness.rs"]
mod harness;
#[path = "../support/served.rs"]
mod served;

mod accounts;
mod restart;
mod strip;
mod trimmed_finals;
