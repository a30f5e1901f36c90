//! hwcloud-backup-operator: Kubernetes operator for Huawei Cloud / OTC database backups.
pub mod cloud;
pub mod sim;
