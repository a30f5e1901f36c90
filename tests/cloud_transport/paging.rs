//! DCS list paging in both API versions.

use std::collections::BTreeMap;

use hwcloud_backup_operator::cloud::account::{Account, DcsApiVersion};

use crate::mock::*;

fn page(query: &str, total: usize, key: &str, v1: bool) -> R {
    let q: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let limit: usize = q["limit"].parse().unwrap();
    let first = if v1 {
        q["start"].parse::<usize>().unwrap() - 1
    } else {
        q["offset"].parse().unwrap()
    };
    let entries: Vec<String> = (first..total.min(first + limit))
        .map(|i| format!(r#"{{"{key}":"id-{i}","status":"succeed","progress":"100.00"}}"#))
        .collect();
    let list = if key == "backup_id" {
        "backup_record_response"
    } else {
        "restore_record_response"
    };
    r(
        200,
        &format!(
            r#"{{"total_num":{total},"{list}":[{}]}}"#,
            entries.join(",")
        ),
    )
}

#[tokio::test]
async fn dcs_lists_page_through_everything_in_both_api_versions() {
    let (base, seen) = serve(|_, s| {
        let v1 = s.path.starts_with("/dcs/v1.0/");
        let key = if s.path.ends_with("/backups") {
            "backup_id"
        } else {
            "restore_id"
        };
        page(s.query.as_deref().unwrap(), 2500, key, v1)
    })
    .await;
    let (clients, _) = clients(cfg());
    let v2 = clients.client(&aksk(&base, Some("p1")));
    let backups = v2.dcs().list_backups("i").await.unwrap();
    assert_eq!(backups.len(), 2500);
    assert_eq!(backups[2499].backup_id, "id-2499");
    let v1 = clients.client(&Account {
        dcs_api_version: DcsApiVersion::V1,
        ..aksk(&base, Some("p1"))
    });
    let restores = v1.dcs().list_restores("i").await.unwrap();
    assert_eq!(restores.len(), 2500);
    assert_eq!(restores[2499].restore_id, "id-2499");
    let queries: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| format!("{} {}", s.path, s.query.clone().unwrap()))
        .collect();
    assert_eq!(
        queries[..3],
        [
            "/dcs/v2/p1/instances/i/backups offset=0&limit=1000",
            "/dcs/v2/p1/instances/i/backups offset=1000&limit=1000",
            "/dcs/v2/p1/instances/i/backups offset=2000&limit=1000",
        ]
    );
    assert_eq!(queries.len(), 3 + 250, "v1.0 pages of 10");
    assert_eq!(
        queries[3..6],
        [
            "/dcs/v1.0/p1/instances/i/restores start=1&limit=10",
            "/dcs/v1.0/p1/instances/i/restores start=11&limit=10",
            "/dcs/v1.0/p1/instances/i/restores start=21&limit=10",
        ]
    );
}

/// The record numbers a query asks for: `(first, limit)`, 0-based, from v2 `offset` or v1.0 `start`.
fn window(query: &str) -> (usize, usize) {
    let q: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let first = match (q.get("offset"), q.get("start")) {
        (Some(o), _) => o.parse().unwrap(),
        (None, Some(s)) => s.parse::<usize>().unwrap() - 1,
        (None, None) => 0,
    };
    (first, q["limit"].parse().unwrap())
}

/// DCS API v1.0 documents `limit` only as "minimum 1, default 10" (no maximum, unlike v2's
/// 1-1000): it is asked for pages of the documented 10, and paged until a short page.
#[tokio::test]
async fn dcs_v1_pages_with_the_documented_limit() {
    let (base, seen) = serve(|_, s| page(s.query.as_deref().unwrap(), 25, "backup_id", true)).await;
    let (clients, _) = clients(cfg());
    let v1 = clients.client(&Account {
        dcs_api_version: DcsApiVersion::V1,
        ..aksk(&base, Some("p1"))
    });
    let backups = v1.dcs().list_backups("i").await.unwrap();
    assert_eq!(backups.len(), 25);
    let queries: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.query.clone().unwrap())
        .collect();
    assert_eq!(
        queries,
        ["start=1&limit=10", "start=11&limit=10", "start=21&limit=10"]
    );
}

/// `total_num` is "number of obtained backup records" in the v1.0 documents, which may be this
/// page's count: a full page is never taken for the last one.
#[tokio::test]
async fn dcs_v1_pages_on_when_total_num_counts_only_the_page() {
    let (base, _) = serve(|_, s| {
        let (first, limit) = window(s.query.as_deref().unwrap());
        let ids: Vec<String> = (first..25.min(first + limit))
            .map(|i| format!(r#"{{"backup_id":"id-{i}","status":"succeed"}}"#))
            .collect();
        let body = format!(
            r#"{{"total_num":{},"backup_record_response":[{}]}}"#,
            ids.len(),
            ids.join(",")
        );
        r(200, &body)
    })
    .await;
    let (clients, _) = clients(cfg());
    let v1 = clients.client(&Account {
        dcs_api_version: DcsApiVersion::V1,
        ..aksk(&base, Some("p1"))
    });
    assert_eq!(v1.dcs().list_backups("i").await.unwrap().len(), 25);
}

/// A list served newest first, where a new record arrives after the first page was read: the
/// later pages shift by one, and the record at the page boundary comes twice.
fn shifting_list(
    total: usize,
    json_page: fn(&[String], usize) -> String,
) -> impl Fn(usize, &Seen) -> R {
    move |n, s| {
        let mut ids: Vec<String> = (0..total).map(|i| format!("id-{i}")).collect();
        if n > 0 {
            ids.insert(0, "id-new".into());
        }
        let (first, limit) = window(s.query.as_deref().unwrap());
        let end = ids.len().min(first + limit);
        r(200, &json_page(&ids[first.min(end)..end], ids.len()))
    }
}

fn dcs_page(ids: &[String], total: usize) -> String {
    let entries: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"backup_id":"{id}","status":"succeed","remark":"[k8s:1]"}}"#))
        .collect();
    format!(
        r#"{{"total_num":{total},"backup_record_response":[{}]}}"#,
        entries.join(",")
    )
}

fn db_page(ids: &[String], total: usize) -> String {
    let entries: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(r#"{{"id":"{id}","name":"n-{id}","status":"COMPLETED","instance_id":"i"}}"#)
        })
        .collect();
    format!(
        r#"{{"total_count":{total},"backups":[{}]}}"#,
        entries.join(",")
    )
}

#[track_caller]
fn assert_each_once(ids: &[String], expected: usize) {
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a record listed twice");
    assert_eq!(ids.len(), expected);
}

#[tokio::test]
async fn a_dcs_page_shift_lists_no_record_twice() {
    for version in [DcsApiVersion::V2, DcsApiVersion::V1] {
        let total = match version {
            DcsApiVersion::V2 => 2500,
            DcsApiVersion::V1 => 25,
        };
        let (base, _) = serve(shifting_list(total, dcs_page)).await;
        let (clients, _) = clients(cfg());
        let client = clients.client(&Account {
            dcs_api_version: version,
            ..aksk(&base, Some("p1"))
        });
        let backups = client.dcs().list_backups("i").await.unwrap();
        let ids: Vec<String> = backups.into_iter().map(|b| b.backup_id).collect();
        assert_each_once(&ids, total);
    }
}

#[tokio::test]
async fn a_dds_and_taurus_page_shift_lists_no_record_twice() {
    let (base, _) = serve(shifting_list(250, db_page)).await;
    let (clients, _) = clients(cfg());
    let client = clients.client(&aksk(&base, Some("p1")));
    let dds: Vec<String> = client
        .dds()
        .list_backups("i")
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_each_once(&dds, 250);
    let (base, _) = serve(shifting_list(250, db_page)).await;
    let client = clients.client(&aksk(&base, Some("p1")));
    let taurus: Vec<String> = client
        .taurus()
        .list_backups("i")
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_each_once(&taurus, 250);
}

/// A server that ignores the paging parameters answers the first page again and again: the
/// list stops at the first page that brings nothing new instead of asking a hundred times.
#[tokio::test]
async fn a_server_that_ignores_paging_is_not_asked_forever() {
    let (base, seen) = serve(|_, _| {
        let ids: Vec<String> = (0..1000).map(|i| format!("id-{i}")).collect();
        r(200, &dcs_page(&ids, 5000))
    })
    .await;
    let (clients, _) = clients(cfg());
    let client = clients.client(&aksk(&base, Some("p1")));
    assert_eq!(client.dcs().list_backups("i").await.unwrap().len(), 1000);
    assert_eq!(seen.lock().unwrap().len(), 2);
}
