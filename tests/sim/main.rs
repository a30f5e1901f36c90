//! Simulator tests over real HTTP, with a raw client that signs via `cloud::signer`.

mod auth;
mod dbs;
mod dcs;
mod faults;
mod helper;
mod history;
mod iam;
mod restore;
