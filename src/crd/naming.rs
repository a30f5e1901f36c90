//! Default DDS/TaurusDB backup names derived from the resource, valid and unique per resource.
//!
//! DDS requires backup names to be unique in the whole project, and both clouds allow only
//! 4-64 characters of `[A-Za-z0-9_-]` starting with a letter. `k8s-<namespace>-<name>-<uid8>`
//! satisfies that: the `k8s` prefix supplies the leading letter, other characters become `-`, the
//! namespace and name are shortened to fit, and the first 8 characters of the UID keep two
//! resources apart even when shortening makes their readable parts equal.

const PREFIX: &str = "k8s";
const MAX_LEN: usize = 64;
/// How much of the namespace survives when the name needs the room.
const MIN_NAMESPACE_LEN: usize = 16;
const UID_LEN: usize = 8;

/// `k8s-<namespace>-<name>-<uid8>`, sanitised and shortened to a valid backup name.
///
/// A missing UID (an object never stored by the apiserver) simply drops the suffix.
pub fn default_backup_name(
    namespace: Option<&str>,
    name: Option<&str>,
    uid: Option<&str>,
) -> String {
    let namespace = sanitize(namespace.unwrap_or("default"));
    let name = sanitize(name.unwrap_or_default());
    let uid: String = sanitize(uid.unwrap_or_default())
        .chars()
        .take(UID_LEN)
        .collect();
    let suffix = if uid.is_empty() {
        String::new()
    } else {
        format!("-{uid}")
    };

    // Room for "<namespace>-<name>" between "k8s-" and the suffix.
    let room = MAX_LEN - PREFIX.len() - 1 - suffix.len() - 1;
    let ns_len = namespace
        .len()
        .min(room.saturating_sub(name.len()).max(MIN_NAMESPACE_LEN));
    let name_len = name.len().min(room - ns_len);
    // `sanitize` leaves ASCII only, so byte slicing is on character boundaries.
    format!(
        "{PREFIX}-{}-{}{suffix}",
        &namespace[..ns_len],
        &name[..name_len]
    )
}

/// Maps every character outside `[A-Za-z0-9_-]` to `-`.
fn sanitize(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::crd::rules::is_backup_name;

    const UID: &str = "0f9e8d7c-1111-4222-8333-444455556666";

    #[test]
    fn short_inputs_are_kept_whole() {
        assert_eq!(
            default_backup_name(Some("prod"), Some("orders.db"), Some(UID)),
            "k8s-prod-orders-db-0f9e8d7c"
        );
        assert_eq!(
            default_backup_name(Some("prod"), Some("x"), None),
            "k8s-prod-x"
        );
        assert_eq!(default_backup_name(None, None, None), "k8s-default-");
    }

    #[test]
    fn long_inputs_are_shortened_but_keep_the_uid() {
        let name = default_backup_name(Some(&"n".repeat(63)), Some(&"a".repeat(253)), Some(UID));
        assert_eq!(name.len(), 64);
        assert!(
            name.starts_with(&format!("k8s-{}-a", "n".repeat(MIN_NAMESPACE_LEN))),
            "{name}"
        );
        assert!(name.ends_with("-0f9e8d7c"), "{name}");

        // A long namespace with a short name gives the namespace the spare room.
        let name = default_backup_name(Some(&"n".repeat(63)), Some("db"), Some(UID));
        assert_eq!(name, format!("k8s-{}-db-0f9e8d7c", "n".repeat(48)));
        assert_eq!(name.len(), 64);
    }

    #[test]
    fn different_uids_give_different_names_even_when_shortened() {
        let long = "x".repeat(200);
        let a = default_backup_name(Some("ns"), Some(&format!("{long}a")), Some("aaaaaaaa-1"));
        let b = default_backup_name(Some("ns"), Some(&format!("{long}b")), Some("bbbbbbbb-1"));
        assert_ne!(a, b);
    }

    proptest! {
        #[test]
        fn always_a_valid_backup_name(ns in "\\PC{0,70}", name in "\\PC{0,260}", uid in proptest::option::of("\\PC{0,40}")) {
            let derived = default_backup_name(Some(&ns), Some(&name), uid.as_deref());
            prop_assert!(is_backup_name(&derived), "{derived:?}");
        }
    }
}
