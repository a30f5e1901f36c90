//! Adoption when the cloud moves under the operator's feet: a backup that lands between two pages
//! of the lookup list, and an earlier create that lands just before the re-create after the
//! adoption window (DDS and TaurusDB then refuse the re-create's name as taken, `DBS.201201`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::Method;
use hwcloud_backup_operator::cloud::client::{CloudClient, CloudClients};
use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::crd::{DcsBackup, DdsBackup, Phase, TaurusDbBackup};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::common::{assert_state, create_with, events_for, time_value};
use crate::harness::{Harness, SECRET, fast_transport};
use crate::hook_proxy::{self, Hook};
use crate::kinds::{Kind, Made};

/// A client of the simulator's account that bypasses the proxy and the operator.
fn behind_the_back(h: &Harness) -> Arc<CloudClient> {
    CloudClients::new(fast_transport(), None).client(&h.sim.account())
}

/// Points the Secret (with the `extra` keys) at a proxy running `hook`.
async fn proxied(h: &Harness, hook: Arc<Hook>, extra: Value) {
    let proxy = hook_proxy::start(h.sim.base_url(), hook).await;
    let mut data = hook_proxy::secret_data(h.secret_data(), &proxy);
    for (k, v) in extra.as_object().into_iter().flatten() {
        data[k] = v.clone();
    }
    h.put_secret(SECRET, data);
}

/// `(type, note)` of the `Adopted` event about `name`.
fn adopted_event(h: &Harness, name: &str) -> (String, String) {
    h.api
        .events()
        .iter()
        .find(|e| e["regarding"]["name"] == name && e["reason"] == "Adopted")
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("type"), s("note"))
        })
        .expect("an Adopted event")
}

/// A crash between the create and the ids write leaves only the marker; the backup exists.
async fn crash_after_the_create<K: Kind>(h: &Harness, path: &str) -> String {
    h.api.fail_status_writes(1, 1);
    let obj: K = h.load(path);
    assert!(
        reconcile_once(&obj, &h.ctx).await.is_err(),
        "ids write fails"
    );
    let made: Vec<Made> = K::made(h, K::INSTANCE);
    assert_eq!(made.len(), 1);
    made[0].id.clone()
}

/// Makes the resource's backup the last entry of the first list page (`first_page` entries,
/// newest first), with one older backup behind it; then a new backup lands just before the second
/// page is read, so the second page starts with the resource's backup again.
async fn page_shift<K: Kind>(
    h: &Harness,
    first_page: usize,
    second_page_query: &'static str,
    secret_extra: Value,
) {
    h.sim.set_backup_duration(Duration::ZERO);
    let shifted = Arc::new(AtomicBool::new(false));
    let (flag, client, kind) = (shifted.clone(), behind_the_back(h), K::KIND);
    let hook: Arc<Hook> = Arc::new(move |m: &Method, target: &str, _: &axum::body::Bytes| {
        let fire = m == Method::GET
            && target.contains("/backups?")
            && target.contains(second_page_query)
            && !flag.swap(true, Ordering::SeqCst);
        let client = client.clone();
        Box::pin(async move {
            if fire {
                landing(&client, kind, "shift").await;
            }
        })
    });
    proxied(h, hook, secret_extra).await;
    landing(&behind_the_back(h), K::KIND, "older").await;
    let path = h.create(K::KIND, K::PLURAL, "paged", K::spec(h, K::INSTANCE).await);
    let own = crash_after_the_create::<K>(h, &path).await;
    for n in 0..first_page - 1 {
        landing(&behind_the_back(h), K::KIND, &format!("newer-{n}")).await;
    }

    h.step::<K>(&path).await;
    assert!(shifted.load(Ordering::SeqCst), "the second page was read");
    let st = h.status(&path);
    assert_state(&st, Phase::Succeeded, "Succeeded");
    assert_eq!(st.backup_id.as_deref(), Some(own.as_str()));
    let (kind, note) = adopted_event(h, "paged");
    assert_eq!(kind, "Normal", "no duplicate: {note}");
    assert!(!note.contains("other cloud objects"), "{note}");
}

/// A backup of the kind's instance made behind the operator's back, without a marker.
async fn landing(client: &CloudClient, kind: &str, name: &str) {
    let name = format!("by-hand-{name}");
    let made = match kind {
        "DcsBackup" => client
            .dcs()
            .create_backup(DcsBackup::INSTANCE, &name, None)
            .await
            .map(drop),
        "DdsBackup" => (client.dds())
            .create_backup(DdsBackup::INSTANCE, &name, "by hand")
            .await
            .map(drop),
        _ => (client.taurus())
            .create_backup(TaurusDbBackup::INSTANCE, &name, "by hand")
            .await
            .map(drop),
    };
    made.expect("a backup made by hand");
}

#[tokio::test]
async fn a_dds_page_shift_does_not_make_the_own_backup_a_duplicate() {
    let h = Harness::new().await;
    page_shift::<DdsBackup>(&h, 100, "offset=100", json!({})).await;
}

#[tokio::test]
async fn a_dcs_v1_page_shift_does_not_make_the_own_backup_a_duplicate() {
    let h = Harness::new().await;
    page_shift::<DcsBackup>(&h, 10, "start=11", json!({"dcsApiVersion": "v1.0"})).await;
}

/// The body of a create request, replayed straight to the cloud: the earlier create of the same
/// resource (same name, same marker) that landed late.
async fn land_the_same_create(client: &CloudClient, svc: &str, body: &[u8]) {
    let v: Value = serde_json::from_slice(body).expect("a JSON body");
    let b = if svc == "dds" { &v["backup"] } else { &v };
    let field = |k: &str| b[k].as_str().unwrap_or_default().to_string();
    let (instance, name, description) = (field("instance_id"), field("name"), field("description"));
    let landed = if svc == "dds" {
        client
            .dds()
            .create_backup(&instance, &name, &description)
            .await
    } else {
        client
            .taurus()
            .create_backup(&instance, &name, &description)
            .await
    };
    landed.expect("the late create lands");
}

/// Lands a copy of the first create request the operator sends, just before forwarding it.
fn late_create_lands_first(h: &Harness, svc: &'static str) -> Arc<Hook> {
    let (done, client) = (Arc::new(AtomicBool::new(false)), behind_the_back(h));
    Arc::new(move |m: &Method, target: &str, body: &axum::body::Bytes| {
        let create = m == Method::POST
            && target.starts_with(&format!("/{svc}/"))
            && (target.ends_with("/backups") || target.ends_with("/backups/create"));
        let fire = create && !done.swap(true, Ordering::SeqCst);
        let (client, body) = (client.clone(), body.clone());
        Box::pin(async move {
            if fire {
                land_the_same_create(&client, svc, &body).await;
            }
        })
    })
}

/// The marker is older than the adoption window and nothing is listed, so the operator creates
/// again; the earlier create lands just before, with the same derived name: the cloud refuses the
/// name as taken, and that backup, which is the resource's own, is adopted.
async fn recreate_finds_its_name_taken<K: Kind>(svc: &'static str) {
    let h = Harness::new().await;
    proxied(&h, late_create_lands_first(&h, svc), json!({})).await;
    let at = Timestamp::now() - SignedDuration::from_hours(1);
    let status = json!({"phase": "Pending", "createRequestedAt": time_value(at)});
    let spec = K::spec(&h, K::INSTANCE).await;
    let path = create_with::<K>(&h, "again", spec, json!({}), status);
    h.step::<K>(&path).await;

    let st = h.status(&path);
    assert_ne!(st.phase, Some(Phase::Failed), "{st:#?}");
    let made = K::made(&h, K::INSTANCE);
    assert_eq!(made.len(), 1, "one backup: {made:?}");
    assert_eq!(st.backup_id.as_deref(), Some(made[0].id.as_str()));
    assert!(events_for(&h, "again").contains(&"Adopted".to_string()));
    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
}

#[tokio::test]
async fn a_dds_recreate_that_finds_its_name_taken_adopts_its_own_backup() {
    recreate_finds_its_name_taken::<DdsBackup>("dds").await;
}

#[tokio::test]
async fn a_taurus_recreate_that_finds_its_name_taken_adopts_its_own_backup() {
    recreate_finds_its_name_taken::<TaurusDbBackup>("taurus").await;
}

/// A name the user chose that another backup (not this resource's) already has stays refused.
#[tokio::test]
async fn a_chosen_name_taken_by_another_backup_is_refused() {
    let h = Harness::new().await;
    let client = behind_the_back(&h);
    (client.dds())
        .create_backup("mongo-2", "taken-name", "made by someone else")
        .await
        .expect("the other backup");
    let mut spec = DdsBackup::spec(&h, DdsBackup::INSTANCE).await;
    spec["backupName"] = json!("taken-name");
    let path = h.create(DdsBackup::KIND, DdsBackup::PLURAL, "clash", spec);
    assert_eq!(h.step::<DdsBackup>(&path).await, None);
    let st = h.status(&path);
    assert_state(&st, Phase::Failed, "CloudError");
    assert!(st.message.unwrap_or_default().contains("DBS.201201"));
    assert!(!events_for(&h, "clash").contains(&"Adopted".to_string()));
}
