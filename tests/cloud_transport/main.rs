//! Transport behaviour (retries, signing, tokens, paging) against a scripted HTTP server on 127.0.0.1.

mod auth;
mod endpoints;
mod mock;
mod paging;
mod retries;
