use std::collections::BTreeMap;

use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn canonical(input: &str) -> String {
    WatchSelector::parse(input)
        .unwrap_or_else(|e| panic!("{input}: {e}"))
        .to_string()
}

#[test]
fn every_form_the_api_server_reads_parses_to_its_canonical_text() {
    for (input, want) in [
        ("backup.hwcloud.dev/shard=a", "backup.hwcloud.dev/shard=a"),
        (
            " backup.hwcloud.dev/shard == a ",
            "backup.hwcloud.dev/shard=a",
        ),
        ("!backup.hwcloud.dev/shard", "!backup.hwcloud.dev/shard"),
        ("tier!=gold", "tier!=gold"),
        ("tier", "tier"),
        ("tier in (silver, gold)", "tier in (gold,silver)"),
        ("tier notin (gold)", "tier notin (gold)"),
        (
            "team=a,tier in (x,y),!legacy",
            "team=a,tier in (x,y),!legacy",
        ),
        ("empty=", "empty="),
    ] {
        assert_eq!(canonical(input), want, "{input}");
    }
}

#[test]
fn a_malformed_selector_is_refused_with_a_reason() {
    for input in [
        "",
        " ",
        "a=b,",
        ",a=b",
        "a b",
        "tier in gold",
        "tier in ()",
        "tier in (gold",
        "-bad=x",
        "Bad.Prefix/x=y",
        "/x=y",
        "x=y z",
        "x=-y",
        "replicas>3",
        &format!("k={}", "v".repeat(64)),
        &format!("{}=v", "k".repeat(64)),
    ] {
        let err = WatchSelector::parse(input).expect_err(input);
        assert!(err.starts_with("invalid label selector"), "{input}: {err}");
    }
}

#[test]
fn the_chart_selectors_are_disjoint_and_cover_every_listed_shard() {
    let main = WatchSelector::parse(&format!("!{SHARD_LABEL}")).unwrap();
    let a = WatchSelector::parse(&format!("{SHARD_LABEL}=a")).unwrap();
    let b = WatchSelector::parse(&format!("{SHARD_LABEL}=b")).unwrap();
    for (objects, owner) in [
        (labels(&[]), "main"),
        (labels(&[("team", "x")]), "main"),
        (labels(&[(SHARD_LABEL, "a")]), "a"),
        (labels(&[(SHARD_LABEL, "b"), ("team", "x")]), "b"),
    ] {
        let owners: Vec<&str> = [("main", &main), ("a", &a), ("b", &b)]
            .iter()
            .filter(|(_, s)| s.matches(&objects))
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(owners, vec![owner], "{objects:?}");
    }
}

#[test]
fn each_selector_gets_its_own_stable_lease() {
    let a = WatchSelector::parse("backup.hwcloud.dev/shard=a").unwrap();
    let same = WatchSelector::parse("backup.hwcloud.dev/shard == a").unwrap();
    let b = WatchSelector::parse("backup.hwcloud.dev/shard=b").unwrap();
    let base = "hwcloud-backup-operator";
    assert_eq!(a.lease_name(base), same.lease_name(base));
    assert_ne!(a.lease_name(base), b.lease_name(base));
    // Pinned: a change would move every running shard to a new Lease on upgrade.
    assert_eq!(a.lease_name(base), "hwcloud-backup-operator-af532b812e");
}
