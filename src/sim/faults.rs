//! Fault injection and call naming: what the front door does before any service sees a request.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use rand::Rng;

use super::Faults;
use super::reply::api_error;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    /// Served normally.
    None,
    /// The connection is closed without an answer.
    Drop,
    /// 429 `APIGW.0308`.
    Throttle,
    /// 500 `SYS.0500`.
    Internal,
    /// 502 with a gateway's HTML page.
    BadGateway,
}

/// Rolls the dice for one request; `injected` counts the errors injected before it (the turn).
pub(crate) fn decide(f: &Faults, injected: u64) -> Injected {
    let mut rng = rand::rng();
    if f.drop_rate > 0.0 && rng.random::<f64>() < f.drop_rate {
        Injected::Drop
    } else if f.error_rate > 0.0 && rng.random::<f64>() < f.error_rate {
        if f.in_turn_with_bad_gateway {
            [Injected::Throttle, Injected::Internal, Injected::BadGateway][(injected % 3) as usize]
        } else if rng.random_bool(0.5) {
            Injected::Throttle
        } else {
            Injected::Internal
        }
    } else {
        Injected::None
    }
}

/// What a load balancer in front of an API answers when the backend fails: HTML, not JSON.
const BAD_GATEWAY_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
    <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// The answer for an injected error (`None` for `Injected::None` and `Injected::Drop`).
pub(crate) fn error_response(i: Injected) -> Option<Response> {
    match i {
        Injected::Throttle => Some(api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "APIGW.0308",
            "The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 second",
        )),
        Injected::Internal => Some(api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYS.0500",
            "internal error",
        )),
        Injected::BadGateway => Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .header(header::CONTENT_TYPE, "text/html")
            .body(Body::from(BAD_GATEWAY_PAGE))
            .ok(),
        Injected::None | Injected::Drop => None,
    }
}

/// `(service, operation)` of a request, for the call log. Paths are as received (with the prefix).
pub(crate) fn classify(method: &Method, path: &str) -> (&'static str, &'static str) {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let service = match segs.first().copied() {
        Some("iam") => "iam",
        Some("dcs") => "dcs",
        Some("dds") => "dds",
        Some("taurus") => "taurus",
        _ => return ("unknown", "unknown"),
    };
    let rest = &segs[1..];
    let m = method.as_str();
    let op = match (service, rest) {
        ("iam", [_, "auth", "tokens"]) if m == "POST" => "token",
        ("iam", [_, "projects"]) if m == "GET" => "list_projects",
        ("dcs", [_, _, "instances", _, "backups"]) => match m {
            "POST" => "create_backup",
            "GET" => "list_backups",
            _ => "unknown",
        },
        ("dcs", [_, _, "instances", _, "backups", _]) if m == "DELETE" => "delete_backup",
        ("dcs", [_, _, "instances", _, "restores"]) => match m {
            "POST" => "create_restore",
            "GET" => "list_restores",
            _ => "unknown",
        },
        ("dds", [_, _, "backups"]) if m == "POST" => "create_backup",
        ("taurus", [_, _, "backups", "create"]) if m == "POST" => "create_backup",
        ("dds" | "taurus", [_, _, "backups"]) if m == "GET" => "list_backups",
        ("dds" | "taurus", [_, _, "backups", _]) if m == "DELETE" => "delete_backup",
        ("dds", ["v3.1", _, "jobs"]) if m == "GET" => "list_jobs",
        ("dds" | "taurus", [_, _, "jobs"]) if m == "GET" => "get_job",
        ("dds", [_, _, "instances", "recovery"]) if m == "POST" => "create_restore",
        ("taurus", [_, _, "instances", "restore"]) if m == "POST" => "create_restore",
        ("dds" | "taurus", [_, _, "instances", _, "restore-time"]) if m == "GET" => {
            "restore_windows"
        }
        _ => "unknown",
    };
    (service, op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_named_per_documented_route() {
        let c = |m: Method, p: &str| classify(&m, p);
        assert_eq!(c(Method::POST, "/iam/v3/auth/tokens"), ("iam", "token"));
        assert_eq!(c(Method::GET, "/iam/v3/projects"), ("iam", "list_projects"));
        assert_eq!(
            c(Method::POST, "/dcs/v2/p/instances/i/backups"),
            ("dcs", "create_backup")
        );
        assert_eq!(
            c(Method::GET, "/dcs/v1.0/p/instances/i/backups"),
            ("dcs", "list_backups")
        );
        assert_eq!(
            c(Method::DELETE, "/dcs/v2/p/instances/i/backups/b"),
            ("dcs", "delete_backup")
        );
        assert_eq!(
            c(Method::POST, "/dcs/v2/p/instances/i/restores"),
            ("dcs", "create_restore")
        );
        assert_eq!(
            c(Method::GET, "/dcs/v2/p/instances/i/restores"),
            ("dcs", "list_restores")
        );
        assert_eq!(
            c(Method::POST, "/dds/v3/p/backups"),
            ("dds", "create_backup")
        );
        assert_eq!(
            c(Method::POST, "/taurus/v3/p/backups/create"),
            ("taurus", "create_backup")
        );
        assert_eq!(c(Method::GET, "/taurus/v3/p/jobs"), ("taurus", "get_job"));
        assert_eq!(c(Method::GET, "/dds/v3/p/backups"), ("dds", "list_backups"));
        assert_eq!(
            c(Method::DELETE, "/dds/v3/p/backups/b"),
            ("dds", "delete_backup")
        );
        assert_eq!(c(Method::PUT, "/dds/v3/p/backups/b"), ("dds", "unknown"));
        assert_eq!(
            c(Method::POST, "/dds/v3/p/instances/recovery"),
            ("dds", "create_restore")
        );
        assert_eq!(
            c(Method::POST, "/taurus/v3/p/instances/restore"),
            ("taurus", "create_restore")
        );
        assert_eq!(
            c(Method::GET, "/taurus/v3/p/instances/i/restore-time"),
            ("taurus", "restore_windows")
        );
        assert_eq!(c(Method::GET, "/dds/v3.1/p/jobs"), ("dds", "list_jobs"));
        assert_eq!(c(Method::GET, "/dds/v3/p/jobs"), ("dds", "get_job"));
        assert_eq!(c(Method::GET, "/other"), ("unknown", "unknown"));
        assert_eq!(c(Method::GET, "/"), ("unknown", "unknown"));
    }

    #[test]
    fn rates_of_zero_and_one_are_exact() {
        let none = Faults::default();
        let all_errors = Faults {
            error_rate: 1.0,
            ..Faults::default()
        };
        let all_drops = Faults {
            drop_rate: 1.0,
            ..Faults::default()
        };
        for turn in 0..200 {
            assert_eq!(decide(&none, turn), Injected::None);
            assert!(matches!(
                decide(&all_errors, turn),
                Injected::Throttle | Injected::Internal
            ));
            assert_eq!(decide(&all_drops, turn), Injected::Drop);
        }
        let in_turn = Faults {
            in_turn_with_bad_gateway: true,
            ..all_errors
        };
        let turns: Vec<Injected> = (0..4).map(|t| decide(&in_turn, t)).collect();
        assert_eq!(
            turns,
            [
                Injected::Throttle,
                Injected::Internal,
                Injected::BadGateway,
                Injected::Throttle
            ]
        );
        let page = error_response(Injected::BadGateway).expect("an answer");
        assert_eq!(page.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(page.headers()[header::CONTENT_TYPE], "text/html");
    }
}
