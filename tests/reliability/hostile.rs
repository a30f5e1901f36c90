//! A hostile cloud: answers the operator's cloud paths like the real services would, except for
//! one operation per scenario, which gets a scripted malformed or abusive answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

/// The operations the operator calls, as this server names them.
pub const DCS_CREATE_BACKUP: &str = "dcs_create_backup";
pub const DCS_LIST_BACKUPS: &str = "dcs_list_backups";
pub const DCS_CREATE_RESTORE: &str = "dcs_create_restore";
pub const DCS_LIST_RESTORES: &str = "dcs_list_restores";
pub const DB_CREATE: &str = "db_create";
pub const DB_LIST: &str = "db_list";
pub const GET_JOB: &str = "get_job";
pub const LIST_PROJECTS: &str = "list_projects";
pub const TOKEN: &str = "token";

/// The backup id that the sane answers give every create (restores use `BASE_BACKUP`).
pub const BACKUP_ID: &str = "hb-1";
pub const BASE_BACKUP: &str = "hb-base";

/// One scripted answer.
#[derive(Clone)]
pub enum Answer {
    /// A status, extra headers and a body.
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    },
    /// 200 with this body start, then the connection is cut mid-body.
    CutBody(Bytes),
}

impl Answer {
    pub fn ok(body: impl Into<Bytes>) -> Self {
        Self::status(200, body)
    }

    pub fn status(status: u16, body: impl Into<Bytes>) -> Self {
        Self::Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn json(v: Value) -> Self {
        Self::ok(v.to_string())
    }

    pub fn with_header(self, name: &'static str, value: &str) -> Self {
        match self {
            Self::Reply {
                status,
                mut headers,
                body,
            } => {
                headers.push((name, value.to_string()));
                Self::Reply {
                    status,
                    headers,
                    body,
                }
            }
            cut => cut,
        }
    }
}

/// What a well-behaved cloud answers: every operation accepted and forever in progress.
fn sane(op: &str) -> Answer {
    if op == TOKEN {
        let body = json!({"token": {"expires_at": "2099-01-01T00:00:00.000000Z",
            "project": {"id": "hostile-project", "name": "eu-de"}}});
        return Answer::status(201, body.to_string())
            .with_header("x-subject-token", "hostile-token");
    }
    Answer::json(match op {
        DCS_CREATE_BACKUP => json!({"backup_id": BACKUP_ID}),
        DCS_LIST_BACKUPS => json!({"total_num": 2, "backup_record_response": [
            {"backup_id": BASE_BACKUP, "status": "succeed", "progress": "100.00", "size": 1024},
            {"backup_id": BACKUP_ID, "status": "backuping", "progress": "50.00"},
        ]}),
        DCS_CREATE_RESTORE => json!({"restore_id": "hr-1"}),
        DCS_LIST_RESTORES => json!({"total_num": 1, "restore_record_response": [
            {"restore_id": "hr-1", "backup_id": BASE_BACKUP, "status": "restoring", "progress": "50.00"},
        ]}),
        DB_CREATE => json!({"job_id": "hj-1", "backup_id": BACKUP_ID, "backup": {"id": BACKUP_ID}}),
        GET_JOB => json!({"job": {"id": "hj-1", "status": "Running", "progress": "50%"}}),
        DB_LIST => json!({"backups": [{"id": BACKUP_ID, "status": "BUILDING"}], "total_count": 1}),
        LIST_PROJECTS => json!({"projects": [{"id": "hostile-project", "name": "eu-de"}]}),
        _ => json!({"error_code": "APIGW.0101", "error_msg": "no such API"}),
    })
}

/// Names a request by method and path (paths carry the `/dcs`, `/dds`, ... prefixes).
fn operation(method: &http::Method, path: &str) -> &'static str {
    let post = method == http::Method::POST;
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    match (path.split('/').nth(1).unwrap_or_default(), last) {
        ("iam", "projects") => LIST_PROJECTS,
        ("iam", "tokens") => TOKEN,
        ("dcs", "backups") if post => DCS_CREATE_BACKUP,
        ("dcs", "backups") => DCS_LIST_BACKUPS,
        ("dcs", "restores") if post => DCS_CREATE_RESTORE,
        ("dcs", "restores") => DCS_LIST_RESTORES,
        ("dds", "backups") | ("taurus", "create") if post => DB_CREATE,
        ("dds" | "taurus", "backups") => DB_LIST,
        ("dds" | "taurus", "jobs") => GET_JOB,
        _ => "unknown",
    }
}

type Script = Arc<Mutex<HashMap<&'static str, Answer>>>;

/// A running hostile server.
pub struct Hostile {
    base: String,
    script: Script,
}

impl Hostile {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let script = Script::default();
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, script }
    }

    /// Answers `op` with `answer` from now on.
    pub fn script(&self, op: &'static str, answer: Answer) {
        self.script.lock().unwrap().insert(op, answer);
    }

    /// Credentials Secret data pointing every service here: AK/SK (with the project id, so IAM
    /// is only asked when `with_project` is false), or an IAM password when `password` is set.
    pub fn secret_data(&self, with_project: bool, password: bool) -> Value {
        let mut v = json!({
            "region": "eu-de",
            "iamEndpoint": format!("{}/iam", self.base), "dcsEndpoint": format!("{}/dcs", self.base),
            "ddsEndpoint": format!("{}/dds", self.base), "taurusEndpoint": format!("{}/taurus", self.base),
        });
        if with_project {
            v["projectId"] = json!("hostile-project");
        }
        if password {
            v["username"] = json!("hostile-user");
            v["domainName"] = json!("hostile-domain");
            v["password"] = json!("hostile-password");
        } else {
            v["accessKey"] = json!("HOSTILEAK");
            v["secretKey"] = json!("hostile-secret");
        }
        v
    }
}

async fn answer(State(script): State<Script>, req: Request) -> Response {
    let op = operation(req.method(), req.uri().path());
    let scripted = script.lock().unwrap().get(op).cloned();
    match scripted.unwrap_or_else(|| sane(op)) {
        Answer::Reply {
            status,
            headers,
            body,
        } => {
            let mut b = Response::builder().status(status);
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                b = b.header("content-type", "application/json");
            }
            for (k, v) in headers {
                b = b.header(k, v);
            }
            b.body(Body::from(body)).unwrap()
        }
        Answer::CutBody(start) => {
            let chunks: Vec<Result<Bytes, std::io::Error>> =
                vec![Ok(start), Err(std::io::Error::other("cut on purpose"))];
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .header("content-length", "100000")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .unwrap()
        }
    }
}
