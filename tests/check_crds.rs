//! The startup check `operator::check_crds` against the in-memory API server: it names exactly the CRDs
//! that are missing and says how to install them.

#[path = "support/fake_api.rs"]
mod fake_api;

use fake_api::FakeApi;
use hwcloud_backup_operator::crd::all_crds;
use hwcloud_backup_operator::operator::check_crds;

fn crd_names() -> Vec<String> {
    all_crds()
        .into_iter()
        .map(|c| c.metadata.name.unwrap())
        .collect()
}

fn install(api: &FakeApi, name: &str) {
    let crd = all_crds()
        .into_iter()
        .find(|c| c.metadata.name.as_deref() == Some(name))
        .unwrap();
    api.put(
        &format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"),
        serde_json::to_value(&crd).unwrap(),
    );
}

#[tokio::test]
async fn names_every_missing_crd_and_how_to_install_them() {
    let api = FakeApi::new();
    let names = crd_names();
    let message = check_crds(&api.client()).await.unwrap_err().to_string();
    assert_eq!(
        message,
        format!(
            "these CRDs are not installed: {}. Install them with `kubectl apply -f crds/` or the Helm chart",
            names.join(", ")
        )
    );
}

#[tokio::test]
async fn names_only_the_crds_still_missing_and_passes_once_all_are_there() {
    let api = FakeApi::new();
    let names = crd_names();
    install(&api, &names[0]);
    install(&api, &names[2]);
    let message = check_crds(&api.client()).await.unwrap_err().to_string();
    let missing: Vec<&str> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 0 && *i != 2)
        .map(|(_, n)| n.as_str())
        .collect();
    assert!(
        message.contains(&format!("{}.", missing.join(", "))),
        "{message}"
    );
    assert!(
        !message.contains(&names[0]) && !message.contains(&names[2]),
        "{message}"
    );
    for name in missing {
        install(&api, name);
    }
    check_crds(&api.client()).await.unwrap();
}
