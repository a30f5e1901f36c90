//! Cloud layer: signing, authentication, transport, typed DCS/DDS/TaurusDB clients, error classes.
pub mod signer;
