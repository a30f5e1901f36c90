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
    let queries: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| format!("{} {}", s.path, s.query.clone().unwrap()))
        .collect();
    assert_eq!(
        queries,
        [
            "/dcs/v2/p1/instances/i/backups offset=0&limit=1000",
            "/dcs/v2/p1/instances/i/backups offset=1000&limit=1000",
            "/dcs/v2/p1/instances/i/backups offset=2000&limit=1000",
            "/dcs/v1.0/p1/instances/i/restores start=1&limit=1000",
            "/dcs/v1.0/p1/instances/i/restores start=1001&limit=1000",
            "/dcs/v1.0/p1/instances/i/restores start=2001&limit=1000",
        ]
    );
}
