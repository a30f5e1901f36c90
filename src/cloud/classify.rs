//! Classification of cloud errors by `error_code` (per call where a code's meaning depends on it),
//! then by HTTP status.
//!
//! Classification drives everything the controllers do with a failure (requeue, back off long, or
//! fail the resource), so it is keyed on the cloud's `error_code` first and the HTTP status second.

use super::error::ErrorClass;

/// Codes that mean "another operation runs on this instance" (DCS, DDS, TaurusDB).
const BUSY_CODES: &[&str] = &[
    // DCS (TFHW operateErrorCode plus the documented likely-retryable ones)
    "DCS.4026",
    "DCS.4049",
    "DCS.4096",
    "DCS.4097",
    "DCS.4111",
    "DCS.4113",
    "DCS.4114",
    "DCS.4115",
    "DCS.4116",
    "DCS.4117",
    "DCS.4118",
    "DCS.4120",
    "DCS.4121",
    "DCS.4231",
    "DCS.4975",
    "DCS.4017",
    "DCS.4108",
    "DCS.4069",
    "CBC.99003651",
    // DCS v1.0 numeric equivalents of the backup/restore busy codes
    "111400096",
    "111400097",
    // DDS
    "DBS.200019",
    "DBS.201015",
    "DBS.201014",
    "DBS.201000",
    "DBS.200076",
    "DBS.200011",
    "DBS.200018",
    "DBS.200047",
    "DBS.201202",
    "DBS.200998",
    "DBS.00010009",
    "DBS.239037",
    "DBS.201319",
    // TaurusDB (409 conflicts)
    "DBS.201205",
    "DBS.212006",
    "DBS.05000084",
    "DBS.212033",
];

const THROTTLE_CODES: &[&str] = &["APIGW.0308", "APIG.0308", "DBS.280443"];

const AUTH_CODES: &[&str] = &[
    "APIGW.0301",
    "APIG.0301",
    "APIGW.0303",
    "APIG.0303",
    "DCS.1001",
    "DCS.1002",
    "DCS.1003",
    "DCS.1004",
];

const NOT_FOUND_CODES: &[&str] = &[
    // The gateway knows no such API ("does not exist or has not been published"): a path a cloud
    // does not offer (OTC lacks some Huawei Cloud APIs), never a credentials problem.
    "APIGW.0101",
    "APIG.0101",
    "DCS.3022",
    "DBS.201502",
    "DBS.201214",
    "DBS.201204",
    "DBS.200543",
    "DBS.201010",
    "DBS.201203",
    "DBS.280214",
];

const TERMINAL_CODES: &[&str] = &[
    "DCS.4086",
    "111400086",
    "DCS.4095",
    "DCS.4087",
    "DCS.4039",
    "DCS.4101",
    "DBS.201201",
    "DBS.280277",
    "DBS.280127",
    "DBS.201208",
];

/// Codes whose meaning depends on the call that got them: `(service, operation, code, class)`.
///
/// DCS answers a DELETE of a backup it no longer has (deleted in the console, rotated out by its
/// cap of 24 backups per instance) with 400 `DCS.4031` (seen against the real cloud, issue 8; the
/// Terraform provider treats it as gone too). The OTC error table defines `DCS.4031` as "start
/// time must be before server time", a list-filter error, so the code means "gone" only here.
/// v1.0 numbers it `111400031`.
const SCOPED_CODES: &[(&str, &str, &str, ErrorClass)] = &[
    ("dcs", "delete_backup", "DCS.4031", ErrorClass::NotFound),
    ("dcs", "delete_backup", "111400031", ErrorClass::NotFound),
    // DDS answers a restore "invalid request for the current state" while the instance is busy
    // with something else (restore-and-schedule.md A.4): wait, as for the other busy codes.
    ("dds", "create_restore", "DBS.280042", ErrorClass::Busy),
];

/// Classifies the error a `service` call named `operation` got: codes scoped to that call first,
/// then [`classify`].
pub fn classify_call(service: &str, operation: &str, status: u16, code: &str) -> ErrorClass {
    SCOPED_CODES
        .iter()
        .find(|(s, o, c, _)| *s == service && *o == operation && c.eq_ignore_ascii_case(code))
        .map(|(.., class)| *class)
        .unwrap_or_else(|| classify(status, code))
}

/// Classifies by `error_code` first, then by HTTP status.
pub fn classify(status: u16, code: &str) -> ErrorClass {
    let has = |set: &[&str]| set.iter().any(|c| c.eq_ignore_ascii_case(code));
    if has(THROTTLE_CODES) {
        ErrorClass::Throttled
    } else if has(AUTH_CODES) {
        ErrorClass::Auth
    } else if has(BUSY_CODES) {
        ErrorClass::Busy
    } else if has(NOT_FOUND_CODES) {
        ErrorClass::NotFound
    } else if has(TERMINAL_CODES) {
        ErrorClass::Terminal
    } else {
        match status {
            429 => ErrorClass::Throttled,
            // A 401 always means the credentials (IAM answers with numeric codes such as 401).
            401 => ErrorClass::Auth,
            403 if code.starts_with("APIG") || code.is_empty() => ErrorClass::Auth,
            404 => ErrorClass::NotFound,
            // An undocumented 409 is still a conflict with another operation.
            409 => ErrorClass::Busy,
            408 | 500..=599 => ErrorClass::Retryable,
            _ => ErrorClass::Terminal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_by_code_beats_status() {
        assert_eq!(classify(400, "DCS.4096"), ErrorClass::Busy);
        assert_eq!(classify(400, "DCS.4097"), ErrorClass::Busy);
        assert_eq!(classify(403, "DBS.200019"), ErrorClass::Busy);
        assert_eq!(classify(409, "DBS.201205"), ErrorClass::Busy);
        assert_eq!(classify(429, "APIGW.0308"), ErrorClass::Throttled);
        assert_eq!(classify(429, "DBS.280443"), ErrorClass::Throttled);
        assert_eq!(classify(400, "APIGW.0308"), ErrorClass::Throttled);
        assert_eq!(classify(401, "APIGW.0301"), ErrorClass::Auth);
        assert_eq!(classify(400, "DCS.4086"), ErrorClass::Terminal);
        assert_eq!(classify(400, "111400086"), ErrorClass::Terminal);
        assert_eq!(classify(400, "DCS.4039"), ErrorClass::Terminal);
        assert_eq!(classify(404, "DCS.3022"), ErrorClass::NotFound);
        assert_eq!(classify(400, "DBS.201502"), ErrorClass::NotFound);
        assert_eq!(classify(400, "DBS.200543"), ErrorClass::NotFound);
        assert_eq!(classify(400, "DBS.201201"), ErrorClass::Terminal);
        assert_eq!(classify(400, "DBS.280277"), ErrorClass::Terminal);
    }

    #[test]
    fn an_api_the_gateway_does_not_know_is_not_a_credentials_error() {
        // OTC answers the Huawei-only APIs (TaurusDB in-place restore, the DDS job list) this way;
        // as `Auth` it would open the account's breaker and hold back every resource using it.
        assert_eq!(classify(404, "APIGW.0101"), ErrorClass::NotFound);
        assert_eq!(classify(404, "APIG.0101"), ErrorClass::NotFound);
        assert_eq!(classify(401, "APIGW.0301"), ErrorClass::Auth);
    }

    #[test]
    fn dcs_4031_means_gone_only_as_the_answer_to_a_delete() {
        let class = |svc, op, code| classify_call(svc, op, 400, code);
        assert_eq!(
            class("dcs", "delete_backup", "DCS.4031"),
            ErrorClass::NotFound
        );
        assert_eq!(
            class("dcs", "delete_backup", "111400031"),
            ErrorClass::NotFound
        );
        assert_eq!(class("dcs", "delete_backup", "DCS.4096"), ErrorClass::Busy);
        for (svc, op) in [
            ("dcs", "list_backups"),
            ("dcs", "create_restore"),
            ("dds", "delete_backup"),
        ] {
            assert_eq!(
                class(svc, op, "DCS.4031"),
                ErrorClass::Terminal,
                "{svc} {op}"
            );
        }
    }

    #[test]
    fn dds_and_taurusdb_backup_does_not_exist_codes_are_gone_on_cleanup() {
        use crate::cloud::error::Error;
        use crate::cloud::error_body::parse_error_body;
        // The answers to the cleanup's DELETE of a backup the cloud no longer has (cloud-apis.md,
        // TaurusDB error codes; the DDS API shares the DBS codes): each is "already gone", which
        // releases the finalizer, never a failure that keeps the resource Terminating.
        for service in ["dds", "taurus"] {
            for (status, code) in [
                (400, "DBS.201203"),
                (400, "DBS.280214"),
                (404, "DBS.201010"),
            ] {
                let body = format!(
                    r#"{{"error_code":"{code}","error_msg":"The backup does not exist."}}"#
                );
                let (parsed, message) = parse_error_body(body.as_bytes());
                let err = Error::Api {
                    service,
                    operation: "delete_backup",
                    status,
                    code: parsed,
                    message,
                    request_id: None,
                };
                assert!(err.is_not_found(), "{service} {status} {code}: {err}");
            }
        }
        // The status alone does not make a 400 gone: it is the code.
        assert_eq!(
            classify_call("taurus", "delete_backup", 400, "DBS.280000"),
            ErrorClass::Terminal
        );
    }

    #[test]
    fn classification_falls_back_to_status() {
        assert_eq!(classify(429, ""), ErrorClass::Throttled);
        assert_eq!(classify(500, ""), ErrorClass::Retryable);
        assert_eq!(classify(503, "SYS.0001"), ErrorClass::Retryable);
        assert_eq!(classify(404, ""), ErrorClass::NotFound);
        assert_eq!(classify(401, ""), ErrorClass::Auth);
        assert_eq!(classify(401, "401"), ErrorClass::Auth);
        assert_eq!(classify(403, ""), ErrorClass::Auth);
        assert_eq!(classify(403, "DBS.200019"), ErrorClass::Busy);
        assert_eq!(classify(403, "IAM.0002"), ErrorClass::Terminal);
        assert_eq!(classify(409, "X.1"), ErrorClass::Busy);
        assert_eq!(classify(400, "DCS.9999"), ErrorClass::Terminal);
    }
}
