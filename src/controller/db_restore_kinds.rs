//! The [`Operation`] of `DdsRestore` and `TaurusDbRestore`: each delegates to the generic restore
//! in [`db_restore`](super::db_restore); only the service and the backup kind differ.

use crate::cloud::client::CloudClient;
use crate::cloud::error::Error as CloudError;
use crate::cloud::types::OpView;
use crate::controller::context::Context;
use crate::controller::db_backup::DbService;
use crate::controller::db_restore::{self, RestoreKind};
use crate::controller::decide::Observation;
use crate::controller::error::Result;
use crate::controller::operation::{Created, Found, Operation, Prepared, Search, Trace};
use crate::controller::restore_source;
use crate::crd::restore_rules::RestoreSource;
use crate::crd::{DdsBackup, DdsRestore, OperationStatus, TaurusDbBackup, TaurusDbRestore};

impl RestoreKind for DdsRestore {
    const SERVICE: DbService = DbService::Dds;
    type Backup = DdsBackup;

    fn restore_source(&self) -> RestoreSource<'_> {
        self.source()
    }
}

impl RestoreKind for TaurusDbRestore {
    const SERVICE: DbService = DbService::Taurus;
    type Backup = TaurusDbBackup;

    fn restore_source(&self) -> RestoreSource<'_> {
        self.source()
    }
}

/// The two kinds' `Operation`, identical but for the type (a blanket impl over [`RestoreKind`]
/// would overlap the one over the backup kinds).
macro_rules! restore_operation {
    ($kind:ty) => {
        impl Operation for $kind {
            const NOUN: &'static str = "Restore";
            const PRECHECKS: bool = true;
            const NEVER_TWICE: bool = true;

            fn has_ids(status: &OperationStatus) -> bool {
                status.job_id.is_some()
            }

            async fn precheck(
                &self,
                ctx: &Context,
                cloud: &CloudClient,
            ) -> Result<Result<Prepared, Observation>> {
                restore_source::precheck(self, ctx, cloud).await
            }

            async fn create(
                &self,
                _: &Context,
                cloud: &CloudClient,
                _marker: &str,
                prepared: &Prepared,
            ) -> Result<Result<Created, CloudError>> {
                db_restore::create(self, cloud, prepared).await
            }

            /// Nothing in the cloud carries the marker (the restore calls take no description).
            async fn find(
                &self,
                _: &Context,
                _: &CloudClient,
                _: &str,
            ) -> Result<Vec<Found>, CloudError> {
                Ok(Vec::new())
            }

            async fn search(
                &self,
                _: &Context,
                cloud: &CloudClient,
                trace: &Trace<'_>,
            ) -> Result<Search, CloudError> {
                db_restore::search(self, cloud, trace).await
            }

            async fn poll(
                &self,
                _: &Context,
                cloud: &CloudClient,
                status: &OperationStatus,
            ) -> Result<Option<OpView>, CloudError> {
                db_restore::poll::<Self>(cloud, status).await
            }
        }
    };
}

restore_operation!(DdsRestore);
restore_operation!(TaurusDbRestore);
