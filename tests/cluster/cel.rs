//! The CEL rules as a real API server enforces them at apply time, with the CRDs' messages.

use hwcloud_backup_operator::crd::restore_rules::{
    EXACTLY_ONE_SOURCE_MSG, RESTORE_TIME_MSG, SOURCE_INSTANCE_MSG,
};
use hwcloud_backup_operator::crd::rules::{
    BACKUP_NAME_MSG, EXACTLY_ONE_BACKUP_MSG, IMMUTABLE_MSG, TIMEOUT_RANGE_MSG,
};
use hwcloud_backup_operator::crd::{
    DcsBackup, DcsRestore, DdsBackup, DdsRestore, TaurusDbBackup, TaurusDbRestore,
};
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::env::{self, Controllers, MANAGER};
use super::resource;

#[tokio::test]
#[ignore = "needs a Kubernetes cluster (kind/k3d): see README"]
async fn the_api_server_enforces_the_cel_rules() {
    env::run(Controllers::Off, |env| async move {
        let backups = env.api::<DcsBackup>();
        let apply = PatchParams::apply(MANAGER);
        let good = resource("DcsBackup", "cel-immutable", json!({"instanceId": "redis-1", "remark": "first"}));
        backups
            .patch("cel-immutable", &apply, &Patch::Apply(&good))
            .await
            .expect("a valid DcsBackup is accepted");

        // Metadata may change; the spec may not.
        let labels = json!({"metadata": {"labels": {"team": "a"}}});
        backups
            .patch("cel-immutable", &PatchParams::default(), &Patch::Merge(&labels))
            .await
            .expect("labels can change");
        let edit = json!({"spec": {"remark": "second"}});
        let err = backups
            .patch("cel-immutable", &PatchParams::default(), &Patch::Merge(&edit))
            .await
            .expect_err("a spec change is refused");
        assert_invalid(err, "spec", IMMUTABLE_MSG);
        let stored = backups.get("cel-immutable").await.expect("still there");
        assert_eq!(stored.spec.remark.as_deref(), Some("first"));

        let bad_name = resource(
            "DdsBackup",
            "cel-bad-name",
            json!({"instanceId": "mongo-1", "backupName": "1-starts-with-a-digit"}),
        );
        let err = env
            .api::<DdsBackup>()
            .patch("cel-bad-name", &apply, &Patch::Apply(&bad_name))
            .await
            .expect_err("a bad backupName is refused");
        assert_invalid(err, "spec.backupName", BACKUP_NAME_MSG);

        let both = resource(
            "DcsRestore",
            "cel-both",
            json!({"instanceId": "redis-1", "backupId": "b-1", "backupRef": {"name": "cel-immutable"}}),
        );
        let err = env
            .api::<DcsRestore>()
            .patch("cel-both", &apply, &Patch::Apply(&both))
            .await
            .expect_err("backupRef and backupId together are refused");
        assert_invalid(err, "spec", EXACTLY_ONE_BACKUP_MSG);

        let long = resource(
            "TaurusDbBackup",
            "cel-timeout",
            json!({"instanceId": "taurus-1", "timeout": "169h"}),
        );
        let err = env
            .api::<TaurusDbBackup>()
            .patch("cel-timeout", &apply, &Patch::Apply(&long))
            .await
            .expect_err("a timeout over 168h is refused");
        assert_invalid(err, "spec.timeout", TIMEOUT_RANGE_MSG);

        let restores = env.api::<DdsRestore>();
        let two = resource(
            "DdsRestore",
            "cel-two-sources",
            json!({"instanceId": "mongo-1", "backupId": "b-1", "restoreTime": "2026-01-02T03:04:05Z"}),
        );
        let err = restores
            .patch("cel-two-sources", &apply, &Patch::Apply(&two))
            .await
            .expect_err("two sources are refused");
        assert_invalid(err, "spec", EXACTLY_ONE_SOURCE_MSG);
        let stray = resource(
            "TaurusDbRestore",
            "cel-stray-source",
            json!({"instanceId": "taurus-1", "backupId": "b-1", "sourceInstanceId": "taurus-2"}),
        );
        let err = env
            .api::<TaurusDbRestore>()
            .patch("cel-stray-source", &apply, &Patch::Apply(&stray))
            .await
            .expect_err("sourceInstanceId with a backup is refused");
        assert_invalid(err, "spec", SOURCE_INSTANCE_MSG);
        let vague = resource(
            "DdsRestore",
            "cel-vague-time",
            json!({"instanceId": "mongo-1", "restoreTime": "yesterday at noon"}),
        );
        let err = restores
            .patch("cel-vague-time", &apply, &Patch::Apply(&vague))
            .await
            .expect_err("a restoreTime that is not RFC 3339 is refused");
        assert_invalid(err, "spec.restoreTime", RESTORE_TIME_MSG);

        // Nothing refused was stored.
        assert!(env.api::<DdsBackup>().get_opt("cel-bad-name").await.unwrap().is_none());
        assert!(env.api::<DcsRestore>().get_opt("cel-both").await.unwrap().is_none());
        assert!(env.api::<TaurusDbBackup>().get_opt("cel-timeout").await.unwrap().is_none());
    })
    .await;
}

/// The API server answered 422 Invalid naming `field` with our rule's `message`.
fn assert_invalid(err: kube::Error, field: &str, message: &str) {
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 422, "{status:?}");
            assert!(
                status.message.contains(&format!("{field}: ")) && status.message.contains(message),
                "expected `{field}: ... {message}` in: {}",
                status.message
            );
        }
        other => panic!("expected a 422 from the API server, got {other}"),
    }
}
