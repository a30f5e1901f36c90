//! Endpoint allow-list (SSRF): an endpoint override outside `--allowed-endpoint-hosts`, or plain
//! `http` to a host that is not loopback, is refused before any connection is made; and a cloud
//! answer that is not JSON never reaches an error message (only its status, type and length do).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hwcloud_backup_operator::cloud::account::EndpointOverrides;
use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::cloud::error::{Error, ErrorClass};
use hwcloud_backup_operator::cloud::transport::TransportConfig;

use crate::mock::{aksk, cfg, clients, password, r, serve};

/// A TCP listener that only counts the connections made to it (and drops them).
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (format!("http://{addr}"), count)
}

/// The production default list (the Huawei Cloud and OTC domains), with test timeouts.
fn production() -> TransportConfig {
    TransportConfig {
        request_timeout: Duration::from_secs(2),
        max_attempts: 2,
        base_backoff: Duration::from_millis(10),
        ..TransportConfig::default()
    }
}

fn assert_refused(e: &Error, host: &str) {
    let text = e.to_string();
    assert_eq!(
        e.class(),
        ErrorClass::Auth,
        "waits as CredentialsError: {text}"
    );
    assert!(text.contains(host), "names the host {host}: {text}");
    assert!(
        text.contains("--allowed-endpoint-hosts"),
        "names the flag: {text}"
    );
}

#[tokio::test]
async fn an_endpoint_override_outside_the_allow_list_sends_no_request() {
    let (base, connections) = counting_listener().await;
    let host = base.trim_start_matches("http://");
    let clouds = CloudClients::new(production(), None);

    // Every service's override, IAM included, whatever the credentials.
    let with_project = clouds.client(&aksk(&base, Some("p1")));
    assert_refused(
        &with_project.dcs().list_backups("i").await.unwrap_err(),
        host,
    );
    assert_refused(
        &with_project
            .dds()
            .create_backup("i", "name", "d")
            .await
            .unwrap_err(),
        host,
    );
    assert_refused(&with_project.taurus().get_job("j").await.unwrap_err(), host);
    // Without a project id the first call is the IAM project lookup.
    let lookup = clouds.client(&aksk(&base, None));
    assert_refused(&lookup.project_id().await.unwrap_err(), host);
    // A password account logs in at IAM first.
    let login = clouds.client(&password(&base));
    assert_refused(&login.dcs().list_backups("i").await.unwrap_err(), host);

    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 0, "no connection made");
}

#[tokio::test]
async fn plain_http_to_an_allowed_host_that_is_not_loopback_is_refused() {
    let mut account = aksk("https://unused.invalid", Some("p1"));
    account.endpoints = EndpointOverrides {
        dcs: Some("http://dcs.eu-de.otc.t-systems.com".into()),
        ..EndpointOverrides::default()
    };
    let clouds = CloudClients::new(production(), None);
    let e = clouds
        .client(&account)
        .dcs()
        .list_backups("i")
        .await
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Auth, "{e}");
    let text = e.to_string();
    assert!(text.contains("dcs.eu-de.otc.t-systems.com"), "{text}");
    assert!(text.contains("https"), "says what to use instead: {text}");
}

/// An HTML page of exactly 1534 bytes whose text must never be quoted.
fn html_page() -> String {
    let head = "<html><body><h1>Internal admin console</h1><p>";
    let tail = "</p></body></html>";
    let filler = "x".repeat(1534 - head.len() - tail.len());
    format!("{head}{filler}{tail}")
}

#[tokio::test]
async fn an_html_answer_is_described_not_copied() {
    for status in [500, 200] {
        let page = html_page();
        let (base, seen) =
            serve(move |_, _| r(status, &page).header("content-type", "text/html; charset=utf-8"))
                .await;
        let (clients, _) = clients(cfg());
        let e = clients
            .client(&aksk(&base, Some("p1")))
            .dcs()
            .list_backups("i")
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(&format!("HTTP {status}"))
                && text.contains("text/html, 1534 bytes, not JSON"),
            "HTTP {status}: {text}"
        );
        assert!(
            !text.contains("<html") && !text.contains("admin console") && !text.contains("xxxx"),
            "HTTP {status}: the page is quoted: {text}"
        );
        assert!(!seen.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_text_error_without_content_type_is_described_not_copied() {
    const TEXT: &str = "upstream connect error or disconnect/reset before headers";
    let (base, _) = serve(|_, _| r(502, TEXT)).await;
    let (clients, _) = clients(cfg());
    let e = clients
        .client(&aksk(&base, Some("p1")))
        .dds()
        .get_job("j")
        .await
        .unwrap_err();
    let text = e.to_string();
    let described = format!("HTTP 502: no content type, {} bytes, not JSON", TEXT.len());
    assert!(text.contains(&described), "{text}");
    assert!(!text.contains("upstream"), "{text}");
    assert_eq!(e.class(), ErrorClass::Retryable);
}
