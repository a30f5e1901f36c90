//! Credentials isolation: a resource reads Secrets of its own namespace only, and no key,
//! password, token or signature shows in logs, events, status, or metrics, whatever happens.

use std::sync::Arc;
use std::time::Duration;

use hwcloud_backup_operator::crd::Phase;
use hwcloud_backup_operator::metrics::Metrics;
use hwcloud_backup_operator::sim::Faults;
use serde_json::{Value, json};

use crate::capture;
use crate::harness::{Harness, NS};
use crate::rig::{self, Kind};

const WRONG_SK: &str = "wrong-secret-key-0xDEAD";
const WRONG_PASSWORD: &str = "wrong-password-0xBEEF";
const SECURITY_TOKEN: &str = "sts-security-token-0xCAFE";
/// Every IAM token the simulator issues starts so (checked below against a real one).
const SIM_TOKEN_PREFIX: &str = "MIIsim";

/// A token straight from the simulator's IAM, to learn what its tokens look like.
async fn direct_token(h: &Harness) -> String {
    let cfg = h.sim.config();
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": cfg.username, "password": cfg.password, "domain": {"name": cfg.domain_name}}}},
        "scope": {"project": {"name": cfg.region}}}});
    let r = reqwest::Client::new()
        .post(format!("{}/v3/auth/tokens", h.sim.endpoint("iam")))
        .json(&body)
        .send()
        .await
        .unwrap();
    r.headers()["x-subject-token"].to_str().unwrap().to_string()
}

async fn drive(
    h: &Harness,
    ctx: &hwcloud_backup_operator::controller::context::Context,
    kind: Kind,
    path: &str,
    steps: usize,
) {
    for _ in 0..steps {
        let _ = kind.reconcile(ctx, h.api.get(path).unwrap()).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn reason(h: &Harness, path: &str) -> String {
    rig::status(&h.api, path)
        .conditions
        .first()
        .map(|c| c.reason.clone())
        .unwrap_or_default()
}

// current_thread (the default): every task of the test, the operator's included, logs into the
// subscriber set for this thread.
#[tokio::test]
async fn no_secret_reaches_logs_events_status_or_metrics() {
    let capture = capture::start("trace").await;
    let h = Harness::new().await;
    let cfg = h.sim.config().clone();
    let token = direct_token(&h).await;
    assert!(
        token.starts_with(SIM_TOKEN_PREFIX) && token.len() > 40,
        "{token}"
    );
    let base = h.secret_data();
    let with = |extra: Value| {
        let mut d = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        d
    };
    h.put_secret("aksk", with(json!({"securityToken": SECURITY_TOKEN})));
    let password = json!({"accessKey": null, "secretKey": null, "username": cfg.username,
        "password": cfg.password, "domainName": cfg.domain_name});
    h.put_secret("password", with(password.clone()));
    h.put_secret("bad-sk", with(json!({"secretKey": WRONG_SK})));
    let mut bad_password = password;
    bad_password["password"] = json!(WRONG_PASSWORD);
    h.put_secret("bad-password", with(bad_password));

    let metrics = Arc::new(Metrics::new());
    let ctx = rig::restart(&h.api, rig::settings(), Some(metrics.clone()));
    let secret = |name: &str| json!({"name": name});
    let aksk = rig::create(
        &h.api,
        Kind::DcsBackup,
        "aksk",
        json!({"instanceId": "redis-1", "credentialsSecretRef": secret("aksk"), "deletionPolicy": "Delete"}),
    );
    let token_user = rig::create(
        &h.api,
        Kind::Dds,
        "token",
        json!({"instanceId": "mongo-1", "credentialsSecretRef": secret("password")}),
    );
    let restore = rig::create(
        &h.api,
        Kind::DcsRestore,
        "restore",
        json!({"instanceId": "redis-1", "credentialsSecretRef": secret("aksk"), "backupRef": {"name": "aksk"}}),
    );
    let bad_sk = rig::create(
        &h.api,
        Kind::DcsBackup,
        "bad-sk",
        json!({"instanceId": "redis-2", "credentialsSecretRef": secret("bad-sk")}),
    );
    let bad_pw = rig::create(
        &h.api,
        Kind::Taurus,
        "bad-password",
        json!({"instanceId": "taurus-1", "credentialsSecretRef": secret("bad-password")}),
    );

    // Auth failures: two tries each (the cloud locks a key after five bad signatures in a row).
    drive(&h, &ctx, Kind::DcsBackup, &bad_sk, 2).await;
    drive(&h, &ctx, Kind::Taurus, &bad_pw, 2).await;
    assert_eq!(reason(&h, &bad_sk), "CredentialsError");
    assert_eq!(reason(&h, &bad_pw), "CredentialsError");
    // A throttled phase: every cloud call answered 429 or 500 for a while.
    h.sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    drive(&h, &ctx, Kind::DcsBackup, &aksk, 2).await;
    drive(&h, &ctx, Kind::Dds, &token_user, 2).await;
    h.sim.set_faults(Faults::default());
    let throttled = rig::Snapshot::take(&h.api, &h.sim).status_history(&aksk);
    assert!(throttled.iter().any(|s| {
        s.conditions
            .iter()
            .any(|c| c.reason == "Throttled" || c.reason == "CloudError")
    }));
    // Then everything runs home, and the backup with deletionPolicy Delete is deleted again.
    for (kind, path) in [
        (Kind::DcsBackup, &aksk),
        (Kind::Dds, &token_user),
        (Kind::DcsRestore, &restore),
    ] {
        rig::run_to_terminal(&h.api, &ctx, kind, path, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(rig::status(&h.api, path).phase, Some(Phase::Succeeded));
    }
    h.api.delete(&aksk);
    // The first cleanup meets a failing cloud (a warn line), the next one finishes.
    h.sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    drive(&h, &ctx, Kind::DcsBackup, &aksk, 1).await;
    assert!(h.api.get(&aksk).is_some(), "cleanup failed, finalizer kept");
    h.sim.set_faults(Faults::default());
    drive(&h, &ctx, Kind::DcsBackup, &aksk, 1).await;
    assert!(h.api.get(&aksk).is_none(), "cleanup finished");
    assert!(
        h.sim
            .calls()
            .iter()
            .any(|c| c.operation == "delete_backup" && c.status < 300)
    );

    let needles = [
        cfg.secret_key.as_str(),
        cfg.password.as_str(),
        WRONG_SK,
        WRONG_PASSWORD,
        SECURITY_TOKEN,
        SIM_TOKEN_PREFIX,
        token.as_str(),
        "Signature=",
    ];
    let logs = capture.logs.text();
    let covered = ["reconciled", "APIGW.0301", "create_token"].map(|t| logs.contains(t));
    let faulty = logs.contains("APIGW.0308") || logs.contains("SYS.0500");
    assert!(
        covered.iter().all(|c| *c) && faulty,
        "the logs cover reconciles, the auth failures and the throttled phase: {covered:?} {faulty}"
    );
    // The lines a person sees at the default level (info and warn) went through every path.
    let lines = capture.logs.lines();
    let told = |level: &str, message: &str| {
        lines
            .iter()
            .any(|l| l["level"] == level && l["message"] == message)
    };
    for (level, message) in [
        ("INFO", "phase changed"),
        ("WARN", "retrying after a cloud error"),
        (
            "WARN",
            "cleanup failed; the finalizer stays and the cleanup is retried",
        ),
    ] {
        assert!(told(level, message), "no {level} line {message:?}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l["code"] == "APIGW.0301" && l["level"] == "WARN"),
        "the refused signature is a warn line with its code"
    );
    let api_calls: String = h
        .api
        .calls()
        .iter()
        .map(|c| format!("{} {}\n", c.path, c.body))
        .collect();
    let events: String = h.api.events().iter().map(|e| format!("{e}\n")).collect();
    assert!(
        events.contains("CredentialsError") && events.contains("BackupSucceeded"),
        "{events}"
    );
    for (place, text) in [
        ("logs", &logs),
        ("API calls", &api_calls),
        ("events", &events),
        ("metrics", &metrics.encode()),
    ] {
        for needle in needles {
            if let Some(at) = text.find(needle) {
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(200)
                    .map_or(0, |(i, _)| i);
                panic!(
                    "{needle:?} in {place}: ...{}",
                    &text[from..(at + needle.len()).min(text.len())]
                );
            }
        }
    }
}

#[tokio::test]
async fn a_resource_never_reads_a_secret_of_another_namespace() {
    let h = Harness::new().await;
    // The only Secret by this name lives in team-b.
    h.put_secret_in("team-b", "shared-creds", h.secret_data());
    let plain = rig::create(
        &h.api,
        Kind::DcsBackup,
        "plain",
        json!({"instanceId": "redis-1", "credentialsSecretRef": {"name": "shared-creds"}}),
    );
    let sneaky = rig::create(
        &h.api,
        Kind::DcsBackup,
        "sneaky",
        json!({"instanceId": "redis-2", "credentialsSecretRef": {"name": "team-b/shared-creds"}}),
    );
    let ctx = rig::restart(&h.api, rig::settings(), None);
    drive(&h, &ctx, Kind::DcsBackup, &plain, 2).await;
    drive(&h, &ctx, Kind::DcsBackup, &sneaky, 1).await;

    let st = rig::status(&h.api, &plain);
    assert_eq!(st.phase, Some(Phase::Pending));
    assert_eq!(reason(&h, &plain), "CredentialsError");
    let msg = st.message.unwrap_or_default();
    assert!(
        msg.contains(&format!("Secret {NS}/shared-creds not found")),
        "{msg}"
    );
    let st = rig::status(&h.api, &sneaky);
    assert_eq!(
        (st.phase, reason(&h, &sneaky).as_str()),
        (Some(Phase::Failed), "InvalidSpec")
    );
    assert!(
        st.message
            .unwrap_or_default()
            .contains("credentialsSecretRef")
    );
    // Nothing was asked of team-b, and nothing reached the cloud.
    let foreign: Vec<_> = h
        .api
        .calls()
        .into_iter()
        .filter(|c| c.path.contains("/namespaces/team-b/"))
        .collect();
    assert!(foreign.is_empty(), "{foreign:?}");
    assert!(h.sim.calls().is_empty(), "{:?}", h.sim.calls());
}
