//! The Kubernetes API calls the code makes stay within deploy/api-calls.txt, the list the Helm chart's RBAC
//! is checked against (.ci/check-rbac.py). Every kind is driven through create, poll, success and
//! deletion against the in-memory API server, the CRD check runs against it too, and every request it
//! saw is mapped to (apiGroup, resource, verb).

#[path = "support/fake_api.rs"]
mod fake_api;
#[path = "support/harness.rs"]
mod harness;

use std::collections::BTreeSet;

use fake_api::Call;
use harness::Harness;
use http::Method;
use hwcloud_backup_operator::controller::backup_schedule::clock::Clock;
use hwcloud_backup_operator::controller::backup_schedule::reconcile::{
    ScheduleContext, reconcile_once as reconcile_schedule,
};
use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::controller::operation::Operation;
use hwcloud_backup_operator::crd::{
    BackupSchedule, DcsBackup, DcsRestore, DdsBackup, DdsRestore, Phase, TaurusDbBackup,
    TaurusDbRestore,
};
use hwcloud_backup_operator::operator::check_crds;
use serde_json::{Value, json};

/// (apiGroup, resource, verb); the core group is "".
type Grant = (String, String, String);

/// (scope, grant) for every line of deploy/api-calls.txt.
fn listed() -> Vec<(String, Grant)> {
    let path = format!("{}/deploy/api-calls.txt", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(w.len(), 4, "{path}: malformed line {l:?}");
            assert!(
                ["watched", "cluster", "lease"].contains(&w[0]),
                "{path}: {l:?}"
            );
            let group = if w[1] == "core" { "" } else { w[1] };
            (w[0].to_string(), (group.into(), w[2].into(), w[3].into()))
        })
        .collect()
}

/// What RBAC checks for one request: the API server's own mapping of method and path.
fn grant_of(call: &Call) -> Grant {
    let parts: Vec<&str> = call.path.trim_matches('/').split('/').collect();
    let (group, rest) = match parts.as_slice() {
        ["api", _version, rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => panic!("not an API path: {}", call.path),
    };
    let rest = match rest {
        ["namespaces", _ns, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    };
    let (resource, named) = match rest {
        [resource] => (resource.to_string(), false),
        [resource, _name] => (resource.to_string(), true),
        [resource, _name, sub] => (format!("{resource}/{sub}"), true),
        _ => panic!("unexpected API path: {}", call.path),
    };
    let verb = match (&call.method, named) {
        (&Method::GET, true) => "get",
        (&Method::GET, false) => "list",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        (m, _) => panic!("unexpected method {m} on {}", call.path),
    };
    (group.into(), resource, verb.into())
}

fn grant(group: &str, resource: &str, verb: &str) -> Grant {
    (group.into(), resource.into(), verb.into())
}

/// Reconciles a deleted object until the finalizer lets it go.
async fn delete<K: Operation>(h: &Harness, path: &str) {
    h.api.delete(path);
    for _ in 0..20 {
        let Some(obj) = h.api.get(path) else {
            return;
        };
        let obj: K = serde_json::from_value(obj).unwrap();
        reconcile_once(&obj, &h.ctx).await.unwrap();
    }
    panic!("{path} still there after deletion: {:?}", h.api.get(path));
}

async fn lifecycle<K: Operation>(h: &Harness, kind: &str, plural: &str, spec: Value) -> String {
    let path = h.create(kind, plural, &format!("{plural}-1"), spec);
    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded), "{kind}");
    path
}

/// A BackupSchedule of `template` (a kind's template key) runs once and its retention deletes an
/// older child: creates and deletes a child of `plural`, and writes the schedule's status.
async fn schedule_lifecycle<K: Operation>(
    h: &Harness,
    plural: &str,
    template: &str,
    instance: &str,
) {
    let base = format!(
        "/apis/backup.hwcloud.dev/v1alpha1/namespaces/{}",
        harness::NS
    );
    let name = format!("{plural}-sched");
    let path = format!("{base}/backupschedules/{name}");
    h.api.put(
        &path,
        json!({"apiVersion": harness::API_VERSION, "kind": "BackupSchedule",
            "metadata": {"name": name, "namespace": harness::NS, "creationTimestamp": "2026-11-28T00:30:00Z"},
            "spec": {"schedule": "0 * * * *", "retention": {"keepLast": 1},
                     "template": {template: {"instanceId": instance}}}}),
    );
    let old = format!("{base}/{plural}/{name}-202611280000");
    h.api.put(
        &old,
        json!({"apiVersion": harness::API_VERSION, "kind": K::kind(&()),
            "metadata": {"name": format!("{name}-202611280000"), "namespace": harness::NS,
                         "labels": {"backup.hwcloud.dev/schedule": name},
                         "annotations": {"backup.hwcloud.dev/scheduled-time": "2026-11-28T00:00:00Z"}},
            "spec": {"instanceId": instance, "deletionPolicy": "Delete"},
            "status": {"phase": "Succeeded"}}),
    );
    let step = || async {
        let obj: BackupSchedule = serde_json::from_value(h.api.get(&path).unwrap()).unwrap();
        reconcile_schedule(&obj, &ScheduleContext::new(h.ctx.clone()))
            .await
            .unwrap();
    };
    step().await;
    h.drive::<K>(&format!("{base}/{plural}/{name}-202611280100"), 50)
        .await;
    step().await;
    assert!(h.api.get(&old).is_none(), "retention deleted {old}");
}

#[tokio::test]
async fn every_api_call_is_listed_for_rbac() {
    let mut h = Harness::new().await;
    std::sync::Arc::get_mut(&mut h.ctx).unwrap().schedule_clock =
        Clock::scaled("2026-11-28T01:00:01Z".parse().unwrap(), 1);
    let h = h;
    let delete_policy =
        |instance: &str| json!({"instanceId": instance, "deletionPolicy": "Delete"});
    let dcs = lifecycle::<DcsBackup>(&h, "DcsBackup", "dcsbackups", delete_policy("redis-1")).await;
    let restore = lifecycle::<DcsRestore>(
        &h,
        "DcsRestore",
        "dcsrestores",
        json!({"instanceId": "redis-1", "backupRef": {"name": "dcsbackups-1"}}),
    )
    .await;
    let dds = lifecycle::<DdsBackup>(&h, "DdsBackup", "ddsbackups", delete_policy("mongo-1")).await;
    let taurus = lifecycle::<TaurusDbBackup>(
        &h,
        "TaurusDbBackup",
        "taurusdbbackups",
        delete_policy("taurus-1"),
    )
    .await;
    let dds_restore = lifecycle::<DdsRestore>(
        &h,
        "DdsRestore",
        "ddsrestores",
        json!({"instanceId": "mongo-1", "backupRef": {"name": "ddsbackups-1"}}),
    )
    .await;
    let taurus_restore = lifecycle::<TaurusDbRestore>(
        &h,
        "TaurusDbRestore",
        "taurusdbrestores",
        json!({"instanceId": "taurus-1", "backupRef": {"name": "taurusdbbackups-1"}}),
    )
    .await;
    delete::<DcsRestore>(&h, &restore).await;
    delete::<DdsRestore>(&h, &dds_restore).await;
    delete::<TaurusDbRestore>(&h, &taurus_restore).await;
    delete::<DcsBackup>(&h, &dcs).await;
    delete::<DdsBackup>(&h, &dds).await;
    delete::<TaurusDbBackup>(&h, &taurus).await;
    schedule_lifecycle::<DcsBackup>(&h, "dcsbackups", "dcsBackup", "redis-7").await;
    schedule_lifecycle::<DdsBackup>(&h, "ddsbackups", "ddsBackup", "mongo-7").await;
    schedule_lifecycle::<TaurusDbBackup>(&h, "taurusdbbackups", "taurusDbBackup", "taurus-7").await;
    assert_eq!(
        h.sim
            .calls()
            .iter()
            .filter(|c| c.operation == "delete_backup")
            .count(),
        3
    );
    // Against this fake no CRD is installed: the check asks for each of them and fails.
    assert!(check_crds(&h.api.client()).await.is_err());

    let made: BTreeSet<Grant> = h.api.calls().iter().map(grant_of).collect();
    let listed = listed();
    let all: BTreeSet<Grant> = listed.iter().map(|(_, g)| g.clone()).collect();
    let unlisted: Vec<_> = made.difference(&all).collect();
    assert!(
        unlisted.is_empty(),
        "API calls missing from deploy/api-calls.txt (and so from the chart's RBAC): {unlisted:?}"
    );

    // The other direction, so the list does not keep grants the code stopped using: everything listed
    // was made here, except what this harness cannot reach, each for a stated reason.
    let unreached: BTreeSet<Grant> = listed
        .iter()
        .filter(|(scope, (_, _, verb))| {
            // Leases: src/leader.rs runs kube-lease-manager, tested against its own fake (leader_tests.rs).
            // list/watch: kube-runtime's Controller (src/controller/runner.rs), not driven here.
            scope != "lease" && verb != "list" && verb != "watch"
        })
        .map(|(_, g)| g.clone())
        .filter(|g| {
            // The recorder patches an event only when the same one repeats within its cache window.
            *g != grant("events.k8s.io", "events", "patch")
            // A restore never gets the finalizer, so it is never merge-patched.
                && *g != grant("backup.hwcloud.dev", "dcsrestores", "patch")
                && *g != grant("backup.hwcloud.dev", "ddsrestores", "patch")
                && *g != grant("backup.hwcloud.dev", "taurusdbrestores", "patch")
        })
        .filter(|g| !made.contains(g))
        .collect();
    assert!(
        unreached.is_empty(),
        "listed in deploy/api-calls.txt but never made: {unreached:?}"
    );
}

#[test]
fn paths_map_to_rbac_grants() {
    let call = |method: Method, path: &str| Call {
        method,
        path: path.into(),
        body: Value::Null,
        at: std::time::Instant::now(),
        query: None,
    };
    let cases = [
        (
            call(Method::GET, "/api/v1/namespaces/a/secrets/creds"),
            grant("", "secrets", "get"),
        ),
        (
            call(
                Method::PATCH,
                "/apis/backup.hwcloud.dev/v1alpha1/namespaces/a/dcsbackups/b/status",
            ),
            grant("backup.hwcloud.dev", "dcsbackups/status", "patch"),
        ),
        (
            call(Method::POST, "/apis/events.k8s.io/v1/namespaces/a/events"),
            grant("events.k8s.io", "events", "create"),
        ),
        (
            call(
                Method::GET,
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.backup.hwcloud.dev",
            ),
            grant("apiextensions.k8s.io", "customresourcedefinitions", "get"),
        ),
        (
            call(Method::GET, "/apis/backup.hwcloud.dev/v1alpha1/ddsbackups"),
            grant("backup.hwcloud.dev", "ddsbackups", "list"),
        ),
    ];
    for (c, want) in cases {
        assert_eq!(grant_of(&c), want, "{}", c.path);
    }
}
