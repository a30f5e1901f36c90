//! The cloud clients against the simulator over HTTP: every operation, both auth kinds, faults.

mod auth;
mod cache;
mod db;
mod dcs;
mod faults;
mod helper;
mod restore;
