//! Spec validation rules, twice: as CEL for the CRD schema and as plain Rust for the controller.
//!
//! The apiserver enforces the CEL rules (and the schema's `maxLength`/`enum`) at `kubectl apply`.
//! The controller checks the same rules again with [`Checks`] so that an object that slipped past
//! (an old CRD version, a disabled validation) ends `Failed`/`InvalidSpec` instead of reaching the
//! cloud. Each rule's constant and its Rust twin sit side by side; the tests feed the same inputs
//! to both and require the same verdict and message.

use std::time::Duration;

use super::duration::{MAX_TIMEOUT, MIN_TIMEOUT, parse_duration_up_to};

/// Whole-spec transition rule: a backup is a one-shot operation, so edits make no sense.
pub const IMMUTABLE_RULE: &str = "self == oldSelf";
/// Message of [`IMMUTABLE_RULE`].
pub const IMMUTABLE_MSG: &str = "spec is immutable: create a new resource instead";

/// Cloud instance ids are UUID-like (DCS) or hex with a suffix (DDS `...in02`, TaurusDB `...in07`).
pub const INSTANCE_ID_RULE: &str = "self.matches('^[A-Za-z0-9-]{1,64}$')";
/// Message of [`INSTANCE_ID_RULE`].
pub const INSTANCE_ID_MSG: &str = "must be a cloud instance id: 1-64 letters, digits or '-'";

/// Cloud backup ids (DCS) have the same shape as instance ids.
pub const BACKUP_ID_RULE: &str = "self.matches('^[A-Za-z0-9-]{1,64}$')";
/// Message of [`BACKUP_ID_RULE`].
pub const BACKUP_ID_MSG: &str = "must be a cloud backup id: 1-64 letters, digits or '-'";

/// Kubernetes object names (Secrets, DcsBackups) are DNS-1123 subdomains.
pub const OBJECT_NAME_RULE: &str = "size(self) <= 253 && self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')";
/// Message of [`OBJECT_NAME_RULE`].
pub const OBJECT_NAME_MSG: &str = "must be an object name in this namespace (DNS-1123 subdomain): lowercase letters, \
     digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters";

/// Timeout syntax: `<digits><h|m|s>` groups. At most 6 digits a group and 16 characters keep the
/// value inside what CEL's `duration()` can represent, so the range rule never errors.
pub const TIMEOUT_FORMAT_RULE: &str = "self.matches('^([0-9]{1,6}[hms])+$')";
/// Message of [`TIMEOUT_FORMAT_RULE`].
pub const TIMEOUT_FORMAT_MSG: &str =
    "must be a duration such as 30m, 1h30m or 90s (whole numbers with units h, m, s)";
/// Timeout range; only evaluated on well-formed values (the format rule reports the others).
pub const TIMEOUT_RANGE_RULE: &str = "!self.matches('^([0-9]{1,6}[hms])+$') || \
     (duration(self) >= duration('1s') && duration(self) <= duration('168h'))";
/// Message of [`TIMEOUT_RANGE_RULE`].
pub const TIMEOUT_RANGE_MSG: &str = "must be between 1s and 168h";
/// Schema `maxLength` of `timeout`.
pub const TIMEOUT_MAX_LEN: usize = 16;

/// DDS/TaurusDB backup names: 4-64 characters, a letter first, then letters, digits, `-`, `_`.
pub const BACKUP_NAME_RULE: &str = "self.matches('^[A-Za-z][A-Za-z0-9_-]{3,63}$')";
/// Message of [`BACKUP_NAME_RULE`].
pub const BACKUP_NAME_MSG: &str =
    "must be 4-64 characters, start with a letter and contain only letters, digits, '-' and '_'";

/// DDS/TaurusDB descriptions must not contain these characters (the cloud answers DBS.280127).
pub const DESCRIPTION_FORBIDDEN: &[char] = &['>', '!', '<', '"', '&', '\'', '='];
/// CEL twin of [`DESCRIPTION_FORBIDDEN`].
pub const DESCRIPTION_RULE: &str = r#"!self.matches('[>!<"&\'=]')"#;
/// Message of [`DESCRIPTION_RULE`].
pub const DESCRIPTION_MSG: &str = r#"must not contain any of the characters > ! < " & ' ="#;

/// TaurusDB descriptions also may not contain carriage returns (cloud-apis.md A.4). A line feed
/// is refused too: "carriage return" in the docs is the Enter key, and YAML block text carries `\n`.
pub const TAURUS_DESCRIPTION_FORBIDDEN: &[char] = &['>', '!', '<', '"', '&', '\'', '=', '\r', '\n'];
/// CEL twin of [`TAURUS_DESCRIPTION_FORBIDDEN`] (CEL turns `\r` and `\n` into the characters).
pub const TAURUS_DESCRIPTION_RULE: &str = r#"!self.matches('[>!<"&\'=\r\n]')"#;
/// Message of [`TAURUS_DESCRIPTION_RULE`].
pub const TAURUS_DESCRIPTION_MSG: &str =
    r#"must not contain any of the characters > ! < " & ' = or a line break"#;
/// Schema `maxLength` of `description`: the cloud takes 256, and the operator appends a
/// 37-character marker (` k8s:<uid>`) that ties the backup to its resource.
pub const DESCRIPTION_MAX_LEN: usize = 200;

/// Schema `maxLength` of the DCS `remark`: room is left for the 39-character marker (` [k8s:<uid>]`)
/// within the cloud's 128.
pub const REMARK_MAX_LEN: usize = 80;

/// `DcsRestore` names its backup one way or the other, never both.
pub const EXACTLY_ONE_BACKUP_RULE: &str = "has(self.backupRef) != has(self.backupId)";
/// Message of [`EXACTLY_ONE_BACKUP_RULE`].
pub const EXACTLY_ONE_BACKUP_MSG: &str = "exactly one of backupRef or backupId must be set";

/// Collects field errors as `"<path>: <message>"`, the shape the apiserver uses.
#[derive(Debug, Default)]
pub struct Checks(Vec<String>);

impl Checks {
    /// Records `message` against `path` unless `ok`.
    pub fn require(&mut self, ok: bool, path: &str, message: &str) {
        if !ok {
            self.0.push(format!("{path}: {message}"));
        }
    }

    /// Records a spec-level error (no field path).
    pub fn require_spec(&mut self, ok: bool, message: &str) {
        if !ok {
            self.0.push(format!("spec: {message}"));
        }
    }

    /// The checks shared by all four kinds.
    pub fn common(
        &mut self,
        instance_id: &str,
        credentials_secret: Option<&str>,
        timeout: Option<&str>,
    ) {
        self.require(is_cloud_id(instance_id), "spec.instanceId", INSTANCE_ID_MSG);
        if let Some(name) = credentials_secret {
            self.require(
                is_object_name(name),
                "spec.credentialsSecretRef.name",
                OBJECT_NAME_MSG,
            );
        }
        if let Some(timeout) = timeout {
            self.timeout(timeout);
        }
    }

    /// The `backupName` and `description` checks of DdsBackup and TaurusDbBackup; `forbidden`
    /// and `message` are the kind's description rule ([`DESCRIPTION_FORBIDDEN`] or
    /// [`TAURUS_DESCRIPTION_FORBIDDEN`]).
    pub fn db_backup(
        &mut self,
        backup_name: Option<&str>,
        description: Option<&str>,
        forbidden: &[char],
        message: &str,
    ) {
        if let Some(name) = backup_name {
            self.require(is_backup_name(name), "spec.backupName", BACKUP_NAME_MSG);
        }
        if let Some(description) = description {
            self.max_len(description, DESCRIPTION_MAX_LEN, "spec.description");
            self.require(
                !description.contains(forbidden),
                "spec.description",
                message,
            );
        }
    }

    fn timeout(&mut self, timeout: &str) {
        self.duration(timeout, "spec.timeout", MAX_TIMEOUT, TIMEOUT_RANGE_MSG);
    }

    /// A duration field with the timeout's syntax and length, from 1s to `max` (`range_msg` says so).
    pub fn duration(&mut self, value: &str, path: &str, max: Duration, range_msg: &str) {
        if value.chars().count() > TIMEOUT_MAX_LEN {
            self.require(false, path, &max_len_msg(TIMEOUT_MAX_LEN));
        }
        if !is_timeout_syntax(value) {
            self.require(false, path, TIMEOUT_FORMAT_MSG);
            return;
        }
        let in_range =
            parse_duration_up_to(value, max).is_ok_and(|d| (MIN_TIMEOUT..=max).contains(&d));
        self.require(in_range, path, range_msg);
    }

    /// Checks a length limit that the schema enforces with `maxLength`.
    pub fn max_len(&mut self, value: &str, max: usize, path: &str) {
        self.require(value.chars().count() <= max, path, &max_len_msg(max));
    }

    /// `Ok` when nothing was recorded, else every error joined by `"; "`.
    pub fn finish(self) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0.join("; "))
        }
    }
}

/// The message for a value over a schema `maxLength`.
pub fn max_len_msg(max: usize) -> String {
    format!("must be at most {max} characters")
}

/// [`INSTANCE_ID_RULE`] / [`BACKUP_ID_RULE`] in Rust.
pub fn is_cloud_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// [`OBJECT_NAME_RULE`] in Rust.
pub fn is_object_name(value: &str) -> bool {
    let label_ok = |label: &str| {
        let bytes = label.as_bytes();
        let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        bytes.first().is_some_and(edge)
            && bytes.last().is_some_and(edge)
            && bytes.iter().all(|b| edge(b) || *b == b'-')
    };
    value.len() <= 253 && value.split('.').all(label_ok)
}

/// [`TIMEOUT_FORMAT_RULE`] in Rust.
pub fn is_timeout_syntax(value: &str) -> bool {
    let mut digits = 0usize;
    let mut groups = 0usize;
    for b in value.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'h' | b'm' | b's' if (1..=6).contains(&digits) => {
                digits = 0;
                groups += 1;
            }
            _ => return false,
        }
    }
    groups > 0 && digits == 0
}

/// [`BACKUP_NAME_RULE`] in Rust.
pub fn is_backup_name(value: &str) -> bool {
    let bytes = value.as_bytes();
    (4..=64).contains(&bytes.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// [`DESCRIPTION_RULE`] in Rust.
pub fn is_description(value: &str) -> bool {
    !value.contains(DESCRIPTION_FORBIDDEN)
}

/// [`TAURUS_DESCRIPTION_RULE`] in Rust.
pub fn is_taurus_description(value: &str) -> bool {
    !value.contains(TAURUS_DESCRIPTION_FORBIDDEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_ids() {
        assert!(is_cloud_id("9136fd2a9fcd405ea4674276ce36dae8in02"));
        assert!(is_cloud_id("a1b2c3d4-0000-4000-8000-123456789abc"));
        assert!(is_cloud_id(&"a".repeat(64)));
        assert!(!is_cloud_id(""));
        assert!(!is_cloud_id(&"a".repeat(65)));
        assert!(!is_cloud_id("abc_def"));
        assert!(!is_cloud_id("abc def"));
        assert!(!is_cloud_id("ïd"));
    }

    #[test]
    fn object_names() {
        for ok in ["a", "cloud-creds", "a.b-c.d0", "0abc", &"a".repeat(253)] {
            assert!(is_object_name(ok), "{ok}");
        }
        for bad in [
            "",
            "A",
            "-a",
            "a-",
            "a..b",
            ".a",
            "a.",
            "a_b",
            "a b",
            &"a".repeat(254),
        ] {
            assert!(!is_object_name(bad), "{bad}");
        }
    }

    #[test]
    fn timeout_syntax() {
        for ok in ["1s", "30m", "1h30m", "999999h", "1h1m1s"] {
            assert!(is_timeout_syntax(ok), "{ok}");
        }
        for bad in [
            "", "h", "30", "1h30", "1000000s", "1.5h", "-1h", "1d", "1H", "300ms",
        ] {
            assert!(!is_timeout_syntax(bad), "{bad}");
        }
    }

    #[test]
    fn backup_names() {
        for ok in ["abcd", "Backup_01-x", &format!("a{}", "b".repeat(63))] {
            assert!(is_backup_name(ok), "{ok}");
        }
        for bad in [
            "abc",
            "1abc",
            "_abc",
            "ab.cd",
            "ab cd",
            "äbcd",
            &format!("a{}", "b".repeat(64)),
        ] {
            assert!(!is_backup_name(bad), "{bad}");
        }
    }

    #[test]
    fn descriptions() {
        assert!(is_description("nightly backup (before upgrade), ok?"));
        for c in DESCRIPTION_FORBIDDEN {
            assert!(!is_description(&format!("x{c}y")), "{c}");
        }
        assert!(
            is_description("line\r\nbreak"),
            "DDS documents no line-break rule"
        );
        for c in TAURUS_DESCRIPTION_FORBIDDEN {
            assert!(!is_taurus_description(&format!("x{c}y")), "{c:?}");
        }
        assert!(is_taurus_description("tab\tand é"));
    }

    #[test]
    fn checks_collect_every_error_with_its_path() {
        let mut checks = Checks::default();
        checks.common("bad id", Some("Bad_Name"), Some("10d"));
        let err = checks.finish().unwrap_err();
        assert!(
            err.contains(&format!("spec.instanceId: {INSTANCE_ID_MSG}")),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "spec.credentialsSecretRef.name: {OBJECT_NAME_MSG}"
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!("spec.timeout: {TIMEOUT_FORMAT_MSG}")),
            "{err}"
        );

        let mut checks = Checks::default();
        checks.common("abc", None, Some("169h"));
        assert_eq!(
            checks.finish().unwrap_err(),
            format!("spec.timeout: {TIMEOUT_RANGE_MSG}")
        );

        let mut checks = Checks::default();
        checks.common("abc", Some("creds"), Some("1h30m"));
        assert_eq!(checks.finish(), Ok(()));
    }
}
