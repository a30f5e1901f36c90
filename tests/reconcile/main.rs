//! Reconcile scenarios of every kind, driven through the real reconciler against the cloud
//! simulator (over HTTP) and the in-memory API server: exact status patches, events, finalizer
//! writes and cloud calls for new resources, crashes, busy instances, throttling, timeouts, bad
//! credentials, deletion, restores and invalid specs.

#[path = "../support/fake_api.rs"]
mod fake_api;
#[path = "../support/harness.rs"]
mod harness;

/// Runs `$scenario::<K>()` as one test per kind, in a module named after the scenario
/// (`create::new_resource::dds_backup`). Without a list: all four kinds.
macro_rules! each_kind {
    ($scenario:ident) => {
        each_kind!($scenario: dcs_backup DcsBackup, dcs_restore DcsRestore,
            dds_backup DdsBackup, taurusdb_backup TaurusDbBackup,
            dds_restore DdsRestore, taurusdb_restore TaurusDbRestore);
    };
    ($scenario:ident: $($test:ident $kind:ident),+) => {
        mod $scenario {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$scenario::<hwcloud_backup_operator::crd::$kind>().await;
                }
            )+
        }
    };
}

/// [`each_kind`] for the three backup kinds (scenarios a restore cannot have).
macro_rules! each_backup_kind {
    ($scenario:ident) => {
        each_kind!($scenario: dcs_backup DcsBackup, dds_backup DdsBackup,
            taurusdb_backup TaurusDbBackup);
    };
}

/// [`each_kind`] for the kinds whose interrupted create is found in the cloud afterwards: by the
/// marker their objects carry, or (DdsRestore) in the DDS job list. TaurusDB lists no restore job.
macro_rules! each_findable_kind {
    ($scenario:ident) => {
        each_kind!($scenario: dcs_backup DcsBackup, dcs_restore DcsRestore,
            dds_backup DdsBackup, taurusdb_backup TaurusDbBackup, dds_restore DdsRestore);
    };
}

/// [`each_kind`] for the kinds that create again when an interrupted create left nothing in the
/// cloud; the DDS/TaurusDB restores never do (`tests/reconcile/db_restore_once.rs`).
macro_rules! each_recreating_kind {
    ($scenario:ident) => {
        each_kind!($scenario: dcs_backup DcsBackup, dcs_restore DcsRestore,
            dds_backup DdsBackup, taurusdb_backup TaurusDbBackup);
    };
}

mod common;
mod hook_proxy;
mod kinds;

mod adoption;
mod backoff;
mod busy;
mod cleanup;
mod controllers;
mod create;
mod credentials;
mod db_restore;
mod db_restore_once;
mod deletion;
mod events;
mod faults;
mod fencing;
mod gone;
mod invalid;
mod not_listed;
mod outcome;
mod poll_failures;
mod restore;
mod seed;
mod size;
mod throttle;
