//! Simulator tests over real HTTP, with a raw client that signs via `cloud::signer`.

mod auth;
mod dcs;
#[allow(dead_code)] // TEMP until the DDS/TaurusDB tests land
mod helper;
