//! IAM: password tokens, their use on services, expiry, and project lookup by region name.

use std::time::Duration;

use hwcloud_backup_operator::cloud::account::Credentials;
use hwcloud_backup_operator::sim::SimConfig;
use serde_json::{Value, json};

use crate::helper::{Client, Req, start};

fn token_body(user: &str, password: &str, domain: &str, scope: Value) -> Value {
    json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": password, "domain": {"name": domain}}}},
        "scope": scope,
    }})
}

async fn issue(c: &Client, cfg: &SimConfig, scope: Value) -> String {
    let body = token_body(&cfg.username, &cfg.password, &cfg.domain_name, scope);
    let r = c
        .call(Req::post("/iam/v3/auth/tokens", body).unsigned())
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.headers["x-subject-token"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn password_token_is_issued_and_accepted_by_services() {
    let (sim, c) = start(SimConfig::default()).await;
    let cfg = sim.config().clone();
    let body = token_body(
        &cfg.username,
        &cfg.password,
        &cfg.domain_name,
        json!({"project": {"name": cfg.region}}),
    );
    let r = c
        .call(Req::post("/iam/v3/auth/tokens", body).unsigned())
        .await;
    assert_eq!(r.status, 201);
    let token = r.headers["x-subject-token"].to_str().unwrap().to_string();
    let t = &r.json()["token"];
    assert_eq!(t["project"]["id"], cfg.project_id.as_str());
    assert_eq!(t["project"]["name"], cfg.region.as_str());
    let expires: jiff::Timestamp = t["expires_at"].as_str().unwrap().parse().unwrap();
    let hours = expires.duration_since(jiff::Timestamp::now()).as_secs() / 3600;
    assert_eq!(hours, 23, "24 h lifetime");
    let r = c
        .call(Req::post(c.dcs("v2", "i", "backups"), json!({})).token(&token))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = c.call(Req::get(c.v3("dds", "backups")).token(&token)).await;
    assert_eq!(r.status, 200);
    let by_id = issue(&c, &cfg, json!({"project": {"id": cfg.project_id}})).await;
    assert_eq!(
        c.call(Req::get(c.v3("taurus", "backups")).token(&by_id))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn wrong_password_and_bad_tokens_are_refused() {
    let (sim, c) = start(SimConfig::default()).await;
    let cfg = sim.config().clone();
    let body = token_body(&cfg.username, "wrong", &cfg.domain_name, json!({}));
    let r = c
        .call(Req::post("/iam/v3/auth/tokens", body).unsigned())
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}})
    );
    let r = c
        .call(Req::get(c.v3("dds", "backups")).token("MIInotissued"))
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "APIGW.0301"));
    assert!(r.msg().contains("token"), "{}", r.msg());
    let unscoped = issue(&c, &cfg, Value::Null).await;
    let r = c
        .call(Req::get(c.v3("dds", "backups")).token(&unscoped))
        .await;
    assert_eq!(r.status, 401, "service calls need a project-scoped token");
    let r = c.call(Req::get("/iam/v3/projects").token(&unscoped)).await;
    assert_eq!(r.status, 200, "the project lookup does not");
    let body = token_body(
        &cfg.username,
        &cfg.password,
        &cfg.domain_name,
        json!({"project": {"name": "xx-nowhere-1"}}),
    );
    let r = c
        .call(Req::post("/iam/v3/auth/tokens", body).unsigned())
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn tokens_expire() {
    let (sim, c) = start(SimConfig {
        token_ttl: Duration::from_millis(1000),
        ..SimConfig::default()
    })
    .await;
    let cfg = sim.config().clone();
    let token = issue(&c, &cfg, json!({"project": {"name": cfg.region}})).await;
    assert_eq!(
        c.call(Req::get(c.v3("dds", "backups")).token(&token))
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = c.call(Req::get(c.v3("dds", "backups")).token(&token)).await;
    assert_eq!(r.status, 401);
    assert!(r.msg().contains("expired"), "{}", r.msg());
}

#[tokio::test]
async fn project_lookup_by_region_name_signed() {
    let (sim, c) = start(SimConfig::default()).await;
    let cfg = sim.config().clone();
    let r = c
        .call(Req::get("/iam/v3/projects").query(&format!("name={}", cfg.region)))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["projects"],
        json!([{
            "id": cfg.project_id, "name": cfg.region, "domain_id": r.json()["projects"][0]["domain_id"],
            "enabled": true, "is_domain": false, "parent_id": r.json()["projects"][0]["parent_id"], "description": ""
        }])
    );
    let r = c
        .call(Req::get("/iam/v3/projects").query("name=eu-nl"))
        .await;
    assert_eq!(r.json()["projects"], json!([]));
    let r = c.call(Req::get("/iam/v3/projects").unsigned()).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn accounts_point_at_the_simulator_without_a_project_id() {
    let (sim, _c) = start(SimConfig::default()).await;
    let a = sim.account();
    assert_eq!(a.project_id, None);
    assert_eq!(a.region, sim.config().region);
    assert_eq!(a.endpoints.dcs, Some(format!("{}/dcs", sim.base_url())));
    assert_eq!(a.endpoints.iam, Some(sim.endpoint("iam")));
    assert!(matches!(a.credentials, Credentials::AkSk { .. }));
    let p = sim.password_account();
    assert!(matches!(p.credentials, Credentials::Password { .. }));
    assert_eq!(p.endpoints, a.endpoints);
    assert!(!format!("{:?}", sim.config()).contains(&sim.config().secret_key));
}
