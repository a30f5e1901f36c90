//! Cloud layer: signing, authentication, transport, typed DCS/DDS/TaurusDB clients, error classes.
pub mod account;
pub mod allow;
mod auth;
pub mod breaker;
pub mod client;
pub mod client_cache;
mod db_api;
mod db_restore;
pub mod dcs;
pub(crate) mod dcs_records;
pub mod dds;
pub mod endpoints;
pub mod error;
#[cfg(test)]
mod fuzz_tests;
pub mod job;
mod project;
mod rate_limit;
pub mod restore_wire;
mod retry;
pub mod signer;
pub mod taurus;
pub mod times;
mod token;
pub mod transport;
pub mod types;
mod wire;
