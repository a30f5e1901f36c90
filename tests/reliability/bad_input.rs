//! Bad input from the cloud: malformed and hostile answers (truncated JSON, wrong types, huge
//! bodies, unknown statuses, missing fields, cut connections) never panic the operator, and each
//! leaves a clear, bounded reason in status and events.

use std::time::Duration;

use bytes::Bytes;
use hwcloud_backup_operator::crd::{OperationStatus, Phase};
use serde_json::{Value, json};

use crate::hostile::{self, Answer, Hostile};
use crate::rig::{self, Kind};

/// Largest status the operator may write (a Kubernetes object must stay far below 1.5 MB).
const MAX_STATUS_BYTES: usize = 8 * 1024;
/// Kubernetes rejects event notes above 1 KB.
const MAX_NOTE_BYTES: usize = 1024;

struct Case {
    label: &'static str,
    kind: Kind,
    scripts: Vec<(&'static str, Answer)>,
    /// Reasons the `Ready` condition may have when the expected message shows.
    reasons: &'static [&'static str],
    /// Text the status message must contain at some point.
    says: &'static str,
    /// Whether the Secret names the project (else IAM is asked for it).
    with_project: bool,
    /// Whether the Secret holds an IAM password instead of AK/SK.
    password: bool,
}

fn case(label: &'static str, kind: Kind, op: &'static str, answer: Answer) -> Case {
    Case {
        label,
        kind,
        scripts: vec![(op, answer)],
        reasons: &["CloudError"],
        says: "unexpected response",
        with_project: true,
        password: false,
    }
}

impl Case {
    fn says(mut self, reasons: &'static [&'static str], text: &'static str) -> Self {
        self.reasons = reasons;
        self.says = text;
        self
    }

    fn also(mut self, op: &'static str, answer: Answer) -> Self {
        self.scripts.push((op, answer));
        self
    }

    fn without_project(mut self) -> Self {
        self.with_project = false;
        self
    }

    fn with_password(mut self) -> Self {
        self.password = true;
        self
    }
}

fn big(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// A 1534-byte HTML page, such as an internal service or a proxy answers with.
fn html_page() -> String {
    let page = format!("<html><body><h1>{INTERNAL}</h1>");
    format!("{page}{}</body></html>", big('x', 1534 - page.len() - 14))
}

/// Text of [`html_page`] that must never reach status, events or logs.
const INTERNAL: &str = "Internal admin console";

fn dcs_list(records: Value) -> Answer {
    Answer::json(json!({"total_num": 1, "backup_record_response": records}))
}

fn cases() -> Vec<Case> {
    use hostile::*;
    let deep = format!("{{\"backup_id\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
    let huge_code = json!({"error_code": big('C', 200_000), "error_msg": "bad request"});
    let throttled = json!({"error_code": "APIGW.0308", "error_msg": "slow down"});
    vec![
        case("truncated JSON", Kind::DcsBackup, DCS_CREATE_BACKUP, Answer::ok(r#"{"backup_id": "hb-"#)),
        case("wrong types", Kind::DcsBackup, DCS_CREATE_BACKUP, Answer::json(json!({"backup_id": {"id": ["x"]}, "restore_id": 7})))
            .says(&["CloudError"], "response has no usable backup_id"),
        case("array body", Kind::DcsBackup, DCS_CREATE_BACKUP, Answer::ok("[1,2,3]")).says(&["CloudError"], "not a JSON object"),
        case("invalid UTF-8", Kind::DcsBackup, DCS_CREATE_BACKUP, Answer::ok(Bytes::from_static(b"{\"backup_id\": \"\xff\xfe\"}"))),
        case("deep nesting", Kind::DcsBackup, DCS_CREATE_BACKUP, Answer::ok(deep)),
        case("huge error text", Kind::DcsBackup, DCS_CREATE_BACKUP, Answer::status(500, big('E', 4 << 20))).says(&["CloudError"], "HTTP 500"),
        case("huge error code", Kind::DcsBackup, DCS_CREATE_BACKUP, Answer::status(400, huge_code.to_string())).says(&["CloudError"], "HTTP 400"),
        case("absurd Retry-After", Kind::DcsBackup, DCS_CREATE_BACKUP,
            Answer::status(429, throttled.to_string()).with_header("retry-after", "99999999999999999999999"))
            .says(&["Throttled"], "APIGW.0308"),
        case("huge id", Kind::DcsBackup, DCS_CREATE_BACKUP, Answer::json(json!({"backup_id": big('I', 2 << 20)})))
            .says(&["CloudError"], "backup_id"),
        case("unknown status", Kind::DcsBackup, DCS_LIST_BACKUPS, dcs_list(json!([{"backup_id": BACKUP_ID, "status": "frobnicating"}])))
            .says(&["InProgress"], "undocumented status \"frobnicating\""),
        case("missing fields", Kind::DcsBackup, DCS_LIST_BACKUPS, dcs_list(json!([{"backup_id": BACKUP_ID}])))
            .says(&["InProgress"], "undocumented status"),
        case("string for a list", Kind::DcsBackup, DCS_LIST_BACKUPS, Answer::json(json!({"backup_record_response": big('Z', 1 << 20)}))),
        case("number out of range", Kind::DcsBackup, DCS_LIST_BACKUPS, Answer::ok(r#"{"total_num": 1e999, "backup_record_response": []}"#)),
        case("HTML", Kind::DcsBackup, DCS_LIST_BACKUPS, Answer::ok("<html>maintenance</html>"))
            .says(&["CloudError"], "HTTP 200, application/json, 24 bytes, not JSON"),
        case("HTML error page", Kind::DcsBackup, DCS_CREATE_BACKUP,
            Answer::status(502, html_page()).with_header("content-type", "text/html"))
            .says(&["CloudError"], "HTTP 502: text/html, 1534 bytes, not JSON"),
        case("HTML page for a job", Kind::Dds, GET_JOB,
            Answer::ok(html_page()).with_header("content-type", "text/html; charset=utf-8"))
            .says(&["CloudError"], "HTTP 200, text/html, 1534 bytes, not JSON"),
        case("cut body", Kind::DcsBackup, DCS_LIST_BACKUPS, Answer::CutBody(Bytes::from_static(b"{\"total_num\": 1, \"backup_rec")))
            .says(&["CloudError"], "list_backups: network error"),
        case("huge status", Kind::DcsBackup, DCS_LIST_BACKUPS, dcs_list(json!([{"backup_id": BACKUP_ID, "status": big('S', 100_000)}])))
            .says(&["InProgress"], "undocumented status"),
        case("garbage numbers", Kind::DcsBackup, DCS_LIST_BACKUPS,
            dcs_list(json!([{"backup_id": BACKUP_ID, "status": "succeed", "size": -5, "progress": "NaN"}])))
            .says(&["Succeeded"], "completed"),
        case("truncated restore", Kind::DcsRestore, DCS_CREATE_RESTORE, Answer::ok(r#"{"restore_id": "#))
            .says(&["CloudError"], "create_restore: unexpected response"),
        case("unknown restore status", Kind::DcsRestore, DCS_LIST_RESTORES,
            Answer::json(json!({"restore_record_response": [{"restore_id": "hr-1", "status": "rewinding"}]})))
            .says(&["InProgress"], "undocumented status \"rewinding\""),
        case("unknown backup status for a restore", Kind::DcsRestore, DCS_LIST_BACKUPS,
            dcs_list(json!([{"backup_id": BASE_BACKUP, "status": "mystery"}])))
            .says(&["WaitingForBackup"], "cloud status mystery"),
        case("DDS create without backup id", Kind::Dds, DB_CREATE, Answer::json(json!({"job_id": 5})))
            .says(&["CloudError"], "no usable backup id"),
        case("DDS job as a huge string", Kind::Dds, GET_JOB, Answer::json(json!({"job": big('J', 1 << 20)})))
            .says(&["CloudError"], "get_job: unexpected response"),
        case("DDS unknown job status", Kind::Dds, GET_JOB, Answer::json(json!({"job": {"id": "hj-1", "status": "Exploded"}})))
            .says(&["InProgress"], "undocumented status \"Exploded\""),
        case("DDS job 404 as HTML", Kind::Dds, GET_JOB, Answer::status(404, "<html>not found</html>"))
            .says(&["InProgress"], "BUILDING"),
        case("TaurusDB create with an object id", Kind::Taurus, DB_CREATE, Answer::json(json!({"backup": {"id": {}}, "job_id": "hj-1"})))
            .says(&["CloudError"], "no usable backup id"),
        case("TaurusDB list of the wrong shape", Kind::Taurus, DB_LIST, Answer::json(json!({"backups": {"a": 1}})))
            .also(GET_JOB, Answer::json(json!({"job": {"id": "hj-1", "status": "Completed"}})))
            .says(&["CloudError"], "get_backup: unexpected response"),
        case("IAM projects of the wrong shape", Kind::DcsBackup, LIST_PROJECTS, Answer::json(json!({"projects": "nope"})))
            .says(&["CloudError"], "list_projects: unexpected response")
            .without_project(),
        case("IAM without the project", Kind::DcsBackup, LIST_PROJECTS, Answer::json(json!({"projects": []})))
            .says(&["CredentialsError"], "set projectId")
            .without_project(),
        case("IAM token without its header", Kind::Dds, TOKEN, Answer::status(201, r#"{"token": {}}"#))
            .says(&["CloudError"], "X-Subject-Token")
            .with_password(),
        case("IAM token already expired", Kind::Dds, TOKEN,
            Answer::status(201, r#"{"token": {"expires_at": "2001-01-01T00:00:00Z"}}"#).with_header("x-subject-token", "t"))
            .says(&["CloudError"], "expired")
            .with_password(),
        case("IAM token as garbage", Kind::Dds, TOKEN, Answer::status(201, "\u{0}\u{1}garbage").with_header("x-subject-token", "t"))
            .says(&["CloudError"], "create_token: unexpected response")
            .with_password(),
    ]
}

fn spec(kind: Kind, secret: &str) -> Value {
    // The secret's name doubles as the instance id: every case runs on an instance of its own.
    let mut spec = json!({"instanceId": secret, "credentialsSecretRef": {"name": secret}});
    if kind == Kind::DcsRestore {
        spec["backupId"] = json!(hostile::BASE_BACKUP);
    }
    spec
}

fn reason(st: &OperationStatus) -> &str {
    st.conditions.first().map_or("", |c| c.reason.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_never_panic_and_leave_a_clear_bounded_reason() {
    // The harness's simulator stays idle: every Secret here points at a hostile server.
    let h = crate::harness::Harness::with(Default::default(), rig::settings()).await;
    let api = h.api.clone();
    let ctx = rig::restart(&api, rig::settings(), None);
    let mut runs = Vec::new();
    for (i, c) in cases().into_iter().enumerate() {
        let server = Hostile::start().await;
        for (op, answer) in c.scripts.clone() {
            server.script(op, answer);
        }
        let secret = format!("hostile-{i}");
        h.put_secret(&secret, server.secret_data(c.with_project, c.password));
        let path = rig::create(&api, c.kind, &format!("hostile-{i}"), spec(c.kind, &secret));
        let (api2, ctx2, p) = (api.clone(), ctx.clone(), path.clone());
        // Its own task, so a panic is reported per case instead of ending the test.
        let run = tokio::spawn(async move {
            for _ in 0..4 {
                let next = c.kind.reconcile(&ctx2, api2.get(&p).unwrap()).await;
                if rig::status(&api2, &p).is_terminal() {
                    break;
                }
                // Honour the requeue: polls are only made when the schedule says they are due.
                let wait = next.ok().flatten().unwrap_or_default();
                tokio::time::sleep(wait.min(Duration::from_millis(300))).await;
            }
        });
        runs.push((c.label, c.reasons, c.says, path, run, server));
    }
    // Every case is judged, and all problems reported together.
    let mut problems = Vec::new();
    for (label, reasons, says, path, run, _server) in runs {
        if run.await.is_err() {
            problems.push(format!("{label}: the operator panicked"));
            continue;
        }
        let history = rig::Snapshot::take(&api, &h.sim).status_history(&path);
        for st in &history {
            let size = serde_json::to_vec(st).unwrap().len();
            if size > MAX_STATUS_BYTES {
                problems.push(format!("{label}: a {size}-byte status"));
            }
            if st
                .message
                .as_deref()
                .is_some_and(|m| m.contains("<html") || m.contains(INTERNAL))
            {
                problems.push(format!(
                    "{label}: a page quoted in status: {:?}",
                    st.message
                ));
            }
            if says != "completed" && st.phase == Some(Phase::Succeeded) {
                problems.push(format!("{label}: succeeded on a hostile answer"));
            }
        }
        let shown = history.iter().any(|st| {
            reasons.contains(&reason(st)) && st.message.as_deref().is_some_and(|m| m.contains(says))
        });
        if !shown {
            problems.push(format!(
                "{label}: no status with {reasons:?} saying {says:?}: {:?}",
                summary(&history)
            ));
        }
    }
    for ev in api.events() {
        let note = ev["note"].as_str().unwrap_or_default();
        if note.contains("<html") || note.contains(INTERNAL) {
            problems.push(format!("a page quoted in an event: {note}"));
        }
        if note.len() > MAX_NOTE_BYTES {
            let start: String = note.chars().take(150).collect();
            problems.push(format!("a {}-byte event note: {start}...", note.len()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn summary(history: &[OperationStatus]) -> Vec<(String, String)> {
    history
        .iter()
        .map(|s| {
            let m = s.message.clone().unwrap_or_default();
            (reason(s).to_string(), m.chars().take(150).collect())
        })
        .collect()
}
