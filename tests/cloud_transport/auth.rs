//! IAM tokens, password errors, project lookup and the client cache.

use std::sync::{Arc, Mutex};

use hwcloud_backup_operator::cloud::error::{Error, ErrorClass};

use crate::mock::*;

const TOKEN_BODY: &str = r#"{"token":{"expires_at":"2099-01-01T00:00:00.000000Z","methods":["password"],
    "project":{"id":"p-from-token","name":"eu-de"},"user":{"name":"user"}}}"#;

#[tokio::test]
async fn password_tokens_are_fetched_once_shared_and_dropped_on_401() {
    let big = "T".repeat(100_000);
    let token = big.clone();
    let rejections = Arc::new(Mutex::new(1));
    let rej = rejections.clone();
    let (base, seen) = serve(move |_, s| {
        if s.path == "/iam/v3/auth/tokens" {
            return r(201, TOKEN_BODY).header("x-subject-token", &token);
        }
        if s.header("x-auth-token") != Some(token.as_str()) {
            return r(
                401,
                r#"{"error_code":"APIGW.0301","error_msg":"bad token"}"#,
            );
        }
        if s.path.ends_with("/jobs") && std::mem::take(&mut *rej.lock().unwrap()) == 1 {
            return r(
                401,
                r#"{"error_code":"APIGW.0301","error_msg":"token expired"}"#,
            );
        }
        r(
            200,
            r#"{"job":{"id":"j","status":"Running","progress":"9%"}}"#,
        )
    })
    .await;
    let (clients, calls) = clients(cfg());
    let client = clients.client(&password(&base));
    let burst: Vec<_> = (0..20)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.dds().get_backup("b").await })
        })
        .collect();
    for t in burst {
        // The list answer is the job body here; only authentication matters.
        t.await.unwrap().unwrap();
    }
    let token_calls = |seen: &Arc<Mutex<Vec<Seen>>>| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == "/iam/v3/auth/tokens")
            .count()
    };
    assert_eq!(token_calls(&seen), 1, "one login for a concurrent burst");
    {
        let seen = seen.lock().unwrap();
        let login = &seen[0];
        assert_eq!(login.query.as_deref(), Some("nocatalog=true"));
        let body: serde_json::Value = serde_json::from_slice(&login.body).unwrap();
        assert_eq!(body["auth"]["scope"]["project"]["name"], "eu-de");
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["domain"]["name"],
            "dom"
        );
        assert!(
            seen[1..]
                .iter()
                .all(|s| s.path == "/dds/v3/p-from-token/backups")
        );
    }
    assert_eq!(client.project_id().await.unwrap(), "p-from-token");

    // The service rejects the token once: that call fails with Auth, the next logs in again.
    let e = client.dds().get_job("j").await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Auth);
    assert_eq!(token_calls(&seen), 1);
    let job = client.dds().get_job("j").await.unwrap();
    assert_eq!(job.progress, Some(9.0));
    assert_eq!(token_calls(&seen), 2);
    assert!(
        calls
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.0 == "iam" && c.1 == "create_token")
    );
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_error_after_one_login_attempt() {
    let (base, seen) = serve(|_, _| {
        r(401, r#"{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}"#)
    })
    .await;
    let (clients, _) = clients(cfg());
    let client = clients.client(&password(&base));
    let e = client.taurus().get_job("j").await.unwrap_err();
    assert!(matches!(e, Error::Auth(_)), "{e}");
    assert!(e.to_string().contains("username or password is wrong"));
    assert!(!format!("{e} {e:?}").contains(PASSWORD));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn project_id_is_looked_up_once_by_region_with_a_signed_request() {
    let (base, seen) = serve(|_, s| {
        if s.path == "/iam/v3/projects" {
            r(
                200,
                r#"{"projects":[{"id":"p-eu-de","name":"eu-de"},{"id":"x","name":"eu-de_sub"}]}"#,
            )
        } else {
            r(
                201,
                r#"{"backup":{"id":"tb","status":"BUILDING"},"job_id":"tj"}"#,
            )
        }
    })
    .await;
    let (clients, _) = clients(cfg());
    let client = clients.client(&aksk(&base, None));
    for _ in 0..2 {
        let created = client
            .taurus()
            .create_backup("i", "name-1", "desc")
            .await
            .unwrap();
        assert_eq!(
            (created.backup_id.as_str(), created.job_id.as_str()),
            ("tb", "tj")
        );
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "one lookup, two creates");
    assert_eq!(seen[0].query.as_deref(), Some("name=eu-de"));
    assert_eq!(seen[0].header("x-project-id"), None);
    assert!(seen[0].signed_with(SK));
    assert_eq!(seen[1].path, "/taurus/v3/p-eu-de/backups/create");
    assert_eq!(seen[1].header("x-project-id"), Some("p-eu-de"));
    assert!(seen[1].signed_with(SK));

    let (base, _) = serve(|_, _| r(200, r#"{"projects":[]}"#)).await;
    let e = clients
        .client(&aksk(&base, None))
        .project_id()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Config(m) if m.contains("no project named \"eu-de\"")),
        "{e}"
    );
}

#[tokio::test]
async fn one_client_per_account() {
    let (clients, _) = clients(cfg());
    let a = clients.client(&aksk("http://127.0.0.1:1", Some("p")));
    let b = clients.client(&aksk("http://127.0.0.1:1", Some("p")));
    let c = clients.client(&aksk("http://127.0.0.1:1", Some("q")));
    assert!(Arc::ptr_eq(&a, &b));
    assert!(!Arc::ptr_eq(&a, &c));
    assert!(!format!("{a:?}").contains(SK));
}
