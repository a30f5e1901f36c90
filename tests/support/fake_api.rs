//! An in-memory Kubernetes API server behind a tower service, for reconcile tests and benchmarks:
//! it answers the operator's calls (GET, LIST and WATCH of objects and Secrets with label selectors,
//! POST and DELETE, server-side-apply status and merge patches with resourceVersion preconditions,
//! events) from a small object store, and logs every request so tests can assert the exact patches
//! and events. Watches make kube-runtime's real `Controller` usable against it.
#![allow(dead_code)]

#[path = "fake_handlers.rs"]
mod handlers;
#[path = "fake_watch.rs"]
pub mod watch;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::{Value, json};

use handlers::{
    create, list, not_found, now_rfc3339, patch_object, patch_status, reply, status_error, watch,
};
use watch::{Collection, FakeBody, Hub, query_param};

/// What [`FakeApi::client_with_hook`] calls with each request: method, path and JSON body.
pub type RequestHook = dyn Fn(&Method, &str, &Value) + Send + Sync;

/// One request the operator made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Value,
    /// When the fake handled it (benchmarks measure completion-to-status latency with it).
    pub at: Instant,
    /// The query string (`watch=true&resourceVersion=...` for a watch).
    pub query: Option<String>,
}

impl Call {
    /// A watch request (kube's watcher reconnects every ~5 min of idle time, as against a real
    /// API server): no list, no reconcile.
    pub fn is_watch(&self) -> bool {
        self.method == Method::GET
            && query_param(self.query.as_deref(), "watch").as_deref() == Some("true")
    }
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
    /// The change log behind LIST resourceVersions and WATCH streams.
    hub: Hub,
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

    /// Stores `obj` at `path` under a new resourceVersion and tells the watches; returns the stored copy.
    fn store(&mut self, path: &str, mut obj: Value) -> Value {
        self.next_rv += 1;
        let rv = self.next_rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let previous = self.objects.insert(path.to_string(), obj.clone());
        let kind = if previous.is_some() {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.record_version(path);
        self.hub.record(rv, kind, path, &obj, previous);
        obj
    }

    /// Removes the object at `path` (finalizers gone) and tells the watches.
    fn remove(&mut self, path: &str) -> Option<Value> {
        let mut obj = self.objects.remove(path)?;
        self.next_rv += 1;
        let rv = self.next_rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.hub
            .record(rv, "DELETED", path, &obj, Some(obj.clone()));
        Some(obj)
    }

    /// Marks `path` deleted: it stays while finalizers remain, as in Kubernetes. Returns what remains.
    fn mark_deleted(&mut self, path: &str) -> Option<Value> {
        let mut obj = self.objects.get(path)?.clone();
        if has_finalizers(&obj) {
            if obj["metadata"]["deletionTimestamp"].is_null() {
                obj["metadata"]["deletionTimestamp"] = json!(
                    jiff::Timestamp::now()
                        .round(jiff::Unit::Second)
                        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                        .to_string()
                );
                return Some(self.store(path, obj));
            }
            return Some(obj);
        }
        self.remove(path)
    }
}

fn has_finalizers(obj: &Value) -> bool {
    obj["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty())
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
        let me = self.clone();
        let svc = tower::service_fn(move |req: Request<Body>| {
            // Handled in a task of its own: a request that was sent lands even when its caller is
            // dropped (a crash), as over a network.
            let handled = tokio::spawn({
                let me = me.clone();
                async move { me.handle(req).await }
            });
            async move {
                handled
                    .await
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
            }
        });
        kube::Client::new(svc, "default")
    }

    /// [`FakeApi::client`] for one replica whose `hook` sees each of its requests (method, path,
    /// JSON body) before the fake answers it: a test changes the world at an exact moment of that
    /// replica's conversation (say, while its status write is in flight).
    pub fn client_with_hook(&self, hook: Arc<RequestHook>) -> kube::Client {
        let me = self.clone();
        let svc = tower::service_fn(move |req: Request<Body>| {
            let (me, hook) = (me.clone(), hook.clone());
            let handled = tokio::spawn(async move {
                let (parts, body) = req.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                hook(&parts.method, parts.uri.path(), &json);
                me.handle(Request::from_parts(parts, Body::from(bytes.to_vec())))
                    .await
            });
            async move {
                handled
                    .await
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
            }
        });
        kube::Client::new(svc, "default")
    }

    /// Stores an object at `path` (metadata.resourceVersion and uid are filled in); watches see it.
    pub fn put(&self, path: &str, mut obj: Value) {
        let mut s = self.state.lock().unwrap();
        if obj["metadata"]["uid"].is_null() {
            obj["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
        }
        if obj["metadata"]["generation"].is_null() {
            obj["metadata"]["generation"] = json!(1);
        }
        if obj["metadata"]["creationTimestamp"].is_null() {
            obj["metadata"]["creationTimestamp"] = json!(now_rfc3339());
        }
        s.store(path, obj);
    }

    pub fn get(&self, path: &str) -> Option<Value> {
        self.state.lock().unwrap().objects.get(path).cloned()
    }

    /// Marks an object deleted: it stays while finalizers remain, as in Kubernetes.
    pub fn delete(&self, path: &str) {
        self.state.lock().unwrap().mark_deleted(path);
    }

    /// Paths of the stored objects that start with `prefix`.
    pub fn paths(&self, prefix: &str) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.objects
            .keys()
            .filter(|p| p.starts_with(prefix))
            .cloned()
            .collect()
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

    /// Answers one request (the tower service of [`FakeApi::client`], and the HTTP server of the
    /// footprint benchmark).
    pub async fn handle(&self, req: Request<Body>) -> Response<FakeBody> {
        // A real API server is a network round-trip away: every call suspends the caller at least
        // once (the crash tests cut reconciles at exactly these points).
        tokio::task::yield_now().await;
        let (parts, body) = req.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let path = parts.uri.path().to_string();
        let query = parts.uri.query();
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
                query: query.map(str::to_string),
            });
        }
        let collection = Collection::parse(&path, query);
        match (parts.method, collection) {
            (Method::GET, Some(c)) if query_param(query, "watch").as_deref() == Some("true") => {
                let from = query_param(query, "resourceVersion")
                    .and_then(|rv| rv.parse::<u64>().ok())
                    .unwrap_or(0);
                watch(&s, c, from)
            }
            (Method::GET, Some(c)) => list(&s, &c, query),
            (Method::GET, None) => match s.objects.get(&path) {
                Some(o) => reply(StatusCode::OK, o),
                None => not_found(&path),
            },
            (Method::POST, Some(_)) if path.ends_with("/events") => {
                let mut ev = body.clone();
                ev["metadata"]["resourceVersion"] = json!("1");
                s.events.push(ev.clone());
                reply(StatusCode::CREATED, &ev)
            }
            (Method::POST, Some(c)) => create(&mut s, &c, body),
            (Method::PATCH, _) if path.contains("/events/") => reply(StatusCode::OK, &body),
            (Method::PATCH, _) if path.ends_with("/status") => patch_status(&mut s, &path, &body),
            (Method::PATCH, _) => patch_object(&mut s, &path, &body),
            (Method::DELETE, None) => match s.mark_deleted(&path) {
                Some(o) => reply(StatusCode::OK, &o),
                None => not_found(&path),
            },
            _ => status_error(StatusCode::METHOD_NOT_ALLOWED, "not supported by the fake"),
        }
    }
}
