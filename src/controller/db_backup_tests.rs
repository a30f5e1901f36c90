//! Tests of the DDS/TaurusDB backup specifics: names the cloud refused, descriptions with markers.

use super::*;

fn listed(name: &str, description: Option<&str>) -> DbBackup {
    DbBackup {
        id: "b1".into(),
        name: name.into(),
        description: description.map(str::to_string),
        instance_id: Some("i".into()),
        status: "BUILDING".into(),
        backup_type: None,
        size_bytes: None,
        begin_time: None,
        end_time: None,
    }
}

#[test]
fn a_taken_name_is_the_resources_own_only_by_its_marker_or_its_derivation() {
    let claim = |derived| NameClaim {
        name: "k8s-ns-n-0f9e8d7c",
        marker: "k8s:0f9e",
        derived,
    };
    for derived in [true, false] {
        let c = claim(derived);
        assert!(
            c.is_own(&listed(c.name, Some("weekly k8s:0f9e"))),
            "our marker"
        );
        assert!(
            !c.is_own(&listed(c.name, Some("k8s:aaaa"))),
            "another's marker"
        );
        assert!(
            !c.is_own(&listed("other-name", Some("k8s:0f9e"))),
            "another name"
        );
    }
    assert!(claim(true).is_own(&listed("k8s-ns-n-0f9e8d7c", None)));
    assert!(claim(true).is_own(&listed("k8s-ns-n-0f9e8d7c", Some("no marker"))));
    assert!(
        !claim(false).is_own(&listed("k8s-ns-n-0f9e8d7c", None)),
        "a chosen name"
    );
}

#[test]
fn descriptions_carry_the_marker() {
    assert_eq!(
        description_with_marker(Some("weekly"), "k8s:1"),
        "weekly k8s:1"
    );
    assert_eq!(description_with_marker(None, "k8s:1"), "k8s:1");
    assert_eq!(description_with_marker(Some(" "), "k8s:1"), "k8s:1");
}
