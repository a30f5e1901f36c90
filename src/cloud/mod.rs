//! Cloud layer: signing, authentication, transport, typed DCS/DDS/TaurusDB clients, error classes.
pub mod account;
pub mod error;
pub mod signer;
pub mod types;
