//! An in-memory Kubernetes API server behind kube's `tower_test` mock service, for reconcile tests
//! and benchmarks: it answers the operator's calls (GET objects and Secrets, server-side-apply
//! status, merge-patch finalizers with resourceVersion preconditions, events) from a small object
//! store, and logs every request so tests can assert the exact patches and events.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use kube::client::Body;
use serde_json::{Value, json};

/// One request the operator made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Value,
    /// When the fake handled it (benchmarks measure completion-to-status latency with it).
    pub at: Instant,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Value>,
    calls: Vec<Call>,
    events: Vec<Value>,
    next_rv: u64,
    /// Status writes to let through before failing (crash-window tests).
    pass_status_writes: usize,
    /// Status writes to fail with 500 after those.
    fail_status_writes: usize,
    /// Whether GETs are logged in `calls` (long benchmarks only count them).
    skip_read_log: bool,
    reads: u64,
    /// Every stored version per path with its write time, when enabled (watch-latency models).
    versions: Option<HashMap<String, Vec<(Instant, Value)>>>,
}

impl State {
    fn record_version(&mut self, path: &str) {
        let (Some(versions), Some(obj)) = (self.versions.as_mut(), self.objects.get(path)) else {
            return;
        };
        versions
            .entry(path.to_string())
            .or_default()
            .push((Instant::now(), obj.clone()));
    }
}

/// Handle shared by the test and the fake server.
#[derive(Clone, Default)]
pub struct FakeApi {
    state: Arc<Mutex<State>>,
}

/// Path of a namespaced custom object.
pub fn object_path(api_version: &str, plural: &str, ns: &str, name: &str) -> String {
    format!("/apis/{api_version}/namespaces/{ns}/{plural}/{name}")
}

impl FakeApi {
    pub fn new() -> Self {
        Self::default()
    }

    /// A kube Client whose every request this fake answers (needs a tokio runtime).
    pub fn client(&self) -> kube::Client {
        let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let me = self.clone();
        tokio::spawn(async move {
            while let Some((req, send)) = handle.next_request().await {
                let resp = me.handle(req).await;
                let (parts, body) = resp.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                send.send_response(Response::from_parts(parts, Body::from(bytes.to_vec())));
            }
        });
        kube::Client::new(svc, "default")
    }

    /// Stores an object at `path` (metadata.resourceVersion and uid are filled in).
    pub fn put(&self, path: &str, mut obj: Value) {
        let mut s = self.state.lock().unwrap();
        s.next_rv += 1;
        obj["metadata"]["resourceVersion"] = json!(s.next_rv.to_string());
        if obj["metadata"]["uid"].is_null() {
            obj["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
        }
        if obj["metadata"]["generation"].is_null() {
            obj["metadata"]["generation"] = json!(1);
        }
        s.objects.insert(path.to_string(), obj);
        s.record_version(path);
    }

    pub fn get(&self, path: &str) -> Option<Value> {
        self.state.lock().unwrap().objects.get(path).cloned()
    }

    /// Marks an object deleted: it stays while finalizers remain, as in Kubernetes.
    pub fn delete(&self, path: &str) {
        let mut s = self.state.lock().unwrap();
        let gone = match s.objects.get_mut(path) {
            Some(o) => {
                o["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
                o["metadata"]["finalizers"]
                    .as_array()
                    .is_none_or(|f| f.is_empty())
            }
            None => false,
        };
        if gone {
            s.objects.remove(path);
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    /// Removes and returns the call log (benchmarks read it per wave to bound memory).
    pub fn take_calls(&self) -> Vec<Call> {
        std::mem::take(&mut self.state.lock().unwrap().calls)
    }

    pub fn events(&self) -> Vec<Value> {
        self.state.lock().unwrap().events.clone()
    }

    /// Event reasons, in order.
    pub fn event_reasons(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|e| e["reason"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// GETs answered so far (logged in `calls` too unless [`FakeApi::log_reads`] turned that off).
    pub fn reads(&self) -> u64 {
        self.state.lock().unwrap().reads
    }

    /// Whether GETs are kept in the call log; a benchmark with thousands of objects only counts them.
    pub fn log_reads(&self, on: bool) {
        self.state.lock().unwrap().skip_read_log = !on;
    }

    /// Starts keeping every version of every object, for [`FakeApi::versions_since`] and
    /// [`FakeApi::get_as_of`] (a model of a watch cache that lags behind the writes).
    pub fn track_versions(&self) {
        self.state.lock().unwrap().versions.get_or_insert_default();
    }

    /// Write times of the versions of `path` after the first `seen` ones.
    pub fn versions_since(&self, path: &str, seen: usize) -> Vec<Instant> {
        let s = self.state.lock().unwrap();
        s.versions
            .as_ref()
            .and_then(|v| v.get(path))
            .map(|v| v.iter().skip(seen).map(|(at, _)| *at).collect())
            .unwrap_or_default()
    }

    /// The newest version of `path` written at or before `t` (needs [`FakeApi::track_versions`]).
    pub fn get_as_of(&self, path: &str, t: Instant) -> Option<Value> {
        let s = self.state.lock().unwrap();
        s.versions
            .as_ref()?
            .get(path)?
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map(|(_, o)| o.clone())
    }

    /// Lets `pass` status writes through, then fails `fail` of them (a crash between two writes).
    pub fn fail_status_writes(&self, pass: usize, fail: usize) {
        let mut s = self.state.lock().unwrap();
        s.pass_status_writes = pass;
        s.fail_status_writes = fail;
    }

    async fn handle(&self, req: Request<Body>) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let path = parts.uri.path().to_string();
        let mut s = self.state.lock().unwrap();
        if parts.method == Method::GET {
            s.reads += 1;
        }
        if parts.method != Method::GET || !s.skip_read_log {
            s.calls.push(Call {
                method: parts.method.clone(),
                path: path.clone(),
                body: body.clone(),
                at: Instant::now(),
            });
        }
        match parts.method {
            Method::GET => match s.objects.get(&path) {
                Some(o) => reply(StatusCode::OK, o),
                None => not_found(&path),
            },
            Method::POST if path.ends_with("/events") => {
                let mut ev = body.clone();
                ev["metadata"]["resourceVersion"] = json!("1");
                s.events.push(ev.clone());
                reply(StatusCode::CREATED, &ev)
            }
            Method::PATCH if path.contains("/events/") => reply(StatusCode::OK, &body),
            Method::PATCH if path.ends_with("/status") => {
                if s.pass_status_writes > 0 {
                    s.pass_status_writes -= 1;
                } else if s.fail_status_writes > 0 {
                    s.fail_status_writes -= 1;
                    return status_error(StatusCode::INTERNAL_SERVER_ERROR, "injected failure");
                }
                let obj_path = path.trim_end_matches("/status").to_string();
                s.next_rv += 1;
                let rv = s.next_rv.to_string();
                match s.objects.get_mut(&obj_path) {
                    Some(o) => {
                        // One field manager sending its whole status: apply replaces it.
                        o["status"] = body["status"].clone();
                        o["metadata"]["resourceVersion"] = json!(rv);
                        let out = reply(StatusCode::OK, o);
                        s.record_version(&obj_path);
                        out
                    }
                    None => not_found(&obj_path),
                }
            }
            Method::PATCH => {
                s.next_rv += 1;
                let rv = s.next_rv.to_string();
                let Some(o) = s.objects.get_mut(&path) else {
                    return not_found(&path);
                };
                let want = body["metadata"]["resourceVersion"].as_str();
                if want.is_some_and(|w| Some(w) != o["metadata"]["resourceVersion"].as_str()) {
                    return status_error(StatusCode::CONFLICT, "the object has been modified");
                }
                if let Some(f) = body["metadata"].get("finalizers") {
                    o["metadata"]["finalizers"] = f.clone();
                }
                o["metadata"]["resourceVersion"] = json!(rv);
                let out = o.clone();
                s.record_version(&path);
                let deleted = !out["metadata"]["deletionTimestamp"].is_null()
                    && out["metadata"]["finalizers"]
                        .as_array()
                        .is_none_or(|f| f.is_empty());
                if deleted {
                    s.objects.remove(&path);
                }
                reply(StatusCode::OK, &out)
            }
            _ => status_error(StatusCode::METHOD_NOT_ALLOWED, "not supported by the fake"),
        }
    }
}

fn reply(code: StatusCode, v: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(v.to_string())))
        .unwrap()
}

fn status_error(code: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let reason = match code.as_u16() {
        404 => "NotFound",
        409 => "Conflict",
        _ => "InternalError",
    };
    reply(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason, "code": code.as_u16()}),
    )
}

fn not_found(path: &str) -> Response<Full<Bytes>> {
    status_error(StatusCode::NOT_FOUND, &format!("{path} not found"))
}
