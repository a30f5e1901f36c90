//! hwcloud-backup-operator: Kubernetes operator for Huawei Cloud / OTC database backups.
mod allocator;
pub mod cloud;
pub mod config;
pub mod controller;
pub mod crd;
pub mod fence;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod operator;
pub mod shard;
pub mod sim;
pub mod telemetry;
