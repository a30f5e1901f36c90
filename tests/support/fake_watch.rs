//! The collection side of the fake API server: LIST and WATCH with label selectors, and the change
//! log that feeds them, so that kube-runtime's real `Controller` (reflector, watcher, scheduler) can
//! run against it and reconcile on every change, the operator's own status writes included.

use std::collections::VecDeque;
use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// How many changes are kept for watches that resume from a resourceVersion; older ones get 410.
const HISTORY: usize = 20_000;

/// A stored change, as a watch reports it.
#[derive(Debug, Clone)]
pub struct Change {
    pub rv: u64,
    pub kind: &'static str,
    pub path: String,
    pub object: Value,
    /// The object before this change (`None` for a new one): a watch with a label selector needs it
    /// to tell an object that stopped matching (DELETED) or started to (ADDED).
    pub previous: Option<Value>,
}

impl Change {
    /// How a watch of `want` reports this change, if at all: as the API server's watch cache does,
    /// an object relabelled out of the selector is DELETED for that watch (its last matching state,
    /// at the new resourceVersion), and one relabelled into it is ADDED.
    pub fn seen_by(&self, want: &Collection) -> Option<(&'static str, Value)> {
        let now = want.matches(&self.path, &self.object);
        let was = self
            .previous
            .as_ref()
            .is_some_and(|p| want.matches(&self.path, p));
        match (self.kind, was, now) {
            ("DELETED", _, true) => Some(("DELETED", self.object.clone())),
            (_, false, true) => Some(("ADDED", self.object.clone())),
            ("MODIFIED", true, true) => Some(("MODIFIED", self.object.clone())),
            (_, true, false) => {
                let mut last = self.previous.clone()?;
                last["metadata"]["resourceVersion"] =
                    self.object["metadata"]["resourceVersion"].clone();
                Some(("DELETED", last))
            }
            _ => None,
        }
    }
}

/// The change log and the live feed.
pub struct Hub {
    history: VecDeque<Change>,
    tx: broadcast::Sender<Change>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            history: VecDeque::new(),
            tx: broadcast::channel(HISTORY).0,
        }
    }
}

impl Hub {
    pub fn record(
        &mut self,
        rv: u64,
        kind: &'static str,
        path: &str,
        object: &Value,
        previous: Option<Value>,
    ) {
        let change = Change {
            rv,
            kind,
            path: path.to_string(),
            object: object.clone(),
            previous,
        };
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(change.clone());
        // No receiver is fine: nobody watches yet.
        let _ = self.tx.send(change);
    }

    /// Changes after `rv` that match, and a receiver for the ones to come; `None` when `rv` is older
    /// than the kept history (the client must list again, as with a real API server's 410 Gone).
    pub fn resume(
        &self,
        rv: u64,
        want: &Collection,
    ) -> Option<(Vec<Change>, broadcast::Receiver<Change>)> {
        let oldest = self.history.front().map(|c| c.rv).unwrap_or(0);
        if rv + 1 < oldest {
            return None;
        }
        let past = self
            .history
            .iter()
            .filter(|c| c.rv > rv && c.seen_by(want).is_some())
            .cloned()
            .collect();
        Some((past, self.tx.subscribe()))
    }
}

/// A collection request: `/apis/{g}/{v}[/namespaces/{ns}]/{plural}` or `/api/v1[/namespaces/{ns}]/{plural}`.
#[derive(Debug, Clone)]
pub struct Collection {
    /// `/apis/{g}/{v}` or `/api/v1`.
    pub prefix: String,
    pub namespace: Option<String>,
    pub plural: String,
    pub selector: Selector,
}

impl Collection {
    /// Parses a collection path (`None` for an object path).
    pub fn parse(path: &str, query: Option<&str>) -> Option<Self> {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let base = match segs.first() {
            Some(&"apis") => 3,
            Some(&"api") => 2,
            _ => return None,
        };
        let rest = segs.get(base..)?;
        let (namespace, plural) = match rest {
            [plural] => (None, *plural),
            ["namespaces", ns, plural] => (Some(ns.to_string()), *plural),
            _ => return None,
        };
        Some(Self {
            prefix: format!("/{}", segs[..base].join("/")),
            namespace,
            plural: plural.to_string(),
            selector: Selector::parse(query_param(query, "labelSelector").as_deref()),
        })
    }

    /// The object path of `name` in namespace `ns` of this collection.
    pub fn object_path(&self, ns: &str, name: &str) -> String {
        format!("{}/namespaces/{ns}/{}/{name}", self.prefix, self.plural)
    }

    /// Whether the object stored at `path` belongs to this collection and matches its selector.
    pub fn matches(&self, path: &str, object: &Value) -> bool {
        let Some(rest) = path.strip_prefix(&self.prefix) else {
            return false;
        };
        let segs: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        let in_collection = match segs.as_slice() {
            ["namespaces", ns, plural, _name] => {
                *plural == self.plural && self.namespace.as_deref().is_none_or(|want| want == *ns)
            }
            _ => false,
        };
        in_collection && self.selector.matches(&object["metadata"]["labels"])
    }
}

/// The value of query parameter `key`, percent-decoded.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// A label selector: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma-separated.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    terms: Vec<Term>,
}

#[derive(Debug, Clone)]
enum Term {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl Selector {
    pub fn parse(raw: Option<&str>) -> Self {
        let Some(raw) = raw else {
            return Self::default();
        };
        let terms = split_terms(raw)
            .into_iter()
            .filter(|t| !t.is_empty())
            .map(|t| parse_term(&t))
            .collect();
        Self { terms }
    }

    pub fn matches(&self, labels: &Value) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.terms.iter().all(|t| match t {
            Term::Eq(k, v) => get(k) == Some(v.as_str()),
            Term::Ne(k, v) => get(k) != Some(v.as_str()),
            Term::Exists(k) => get(k).is_some(),
            Term::Absent(k) => get(k).is_none(),
            Term::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|w| w == v)),
            Term::NotIn(k, vs) => get(k).is_none_or(|v| vs.iter().all(|w| w != v)),
        })
    }
}

/// Splits on commas outside parentheses.
fn split_terms(raw: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0);
    for c in raw.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out
}

fn parse_term(t: &str) -> Term {
    let set = |rest: &str| -> Vec<String> {
        rest.trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(',')
            .map(|v| v.trim().to_string())
            .collect()
    };
    if let Some((k, rest)) = t.split_once(" notin ") {
        return Term::NotIn(k.trim().into(), set(rest));
    }
    if let Some((k, rest)) = t.split_once(" in ") {
        return Term::In(k.trim().into(), set(rest));
    }
    if let Some((k, v)) = t.split_once("!=") {
        return Term::Ne(k.trim().into(), v.trim().into());
    }
    if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
        return Term::Eq(k.trim().into(), v.trim().into());
    }
    match t.strip_prefix('!') {
        Some(k) => Term::Absent(k.trim().into()),
        None => Term::Exists(t.trim().into()),
    }
}

/// The response body type of the fake: whole JSON documents or a watch stream.
pub type FakeBody = BoxBody<Bytes, Infallible>;

/// One watch event line, as a watch of `want` sees the change.
fn event_line(c: &Change, want: &Collection) -> Option<Bytes> {
    let (kind, object) = c.seen_by(want)?;
    let line = json!({"type": kind, "object": object});
    Some(Bytes::from(format!("{line}\n")))
}

/// A streaming watch body: the replayed changes, then live ones that match `want`, until the
/// receiver lags (the client then re-lists, as after a real watch expiry).
pub fn watch_body(
    past: Vec<Change>,
    rx: broadcast::Receiver<Change>,
    want: Collection,
    after: u64,
) -> FakeBody {
    let lines: Vec<Bytes> = past.iter().filter_map(|c| event_line(c, &want)).collect();
    let replay = futures::stream::iter(lines);
    let live = futures::stream::unfold((rx, want, after), |(mut rx, want, after)| async move {
        loop {
            match rx.recv().await {
                Ok(c) if c.rv > after => {
                    if let Some(line) = event_line(&c, &want) {
                        return Some((line, (rx, want, after)));
                    }
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    });
    use futures::StreamExt;
    let frames = replay
        .chain(live)
        .map(|b| Ok::<_, Infallible>(Frame::data(b)));
    BodyExt::boxed(StreamBody::new(frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_like_the_api_server() {
        let labels = json!({"backup.hwcloud.dev/schedule": "nightly", "tier": "gold"});
        let m = |s: &str| Selector::parse(Some(s)).matches(&labels);
        assert!(m("backup.hwcloud.dev/schedule=nightly"));
        assert!(m("backup.hwcloud.dev/schedule==nightly,tier"));
        assert!(!m("backup.hwcloud.dev/schedule!=nightly"));
        assert!(m("!backup.hwcloud.dev/shard"));
        assert!(!m("!tier"));
        assert!(m("tier in (gold, silver)"));
        assert!(!m("tier notin (gold)"));
        assert!(Selector::parse(None).matches(&Value::Null));
    }

    #[test]
    fn a_relabelled_object_leaves_and_enters_selective_watches() {
        let path = "/apis/backup.hwcloud.dev/v1alpha1/namespaces/a/dcsbackups/x";
        let collection = |sel: &str| {
            let q = format!(
                "labelSelector={}",
                url::form_urlencoded::byte_serialize(sel.as_bytes()).collect::<String>()
            );
            Collection::parse("/apis/backup.hwcloud.dev/v1alpha1/dcsbackups", Some(&q)).unwrap()
        };
        let (main, a) = (collection("!shard"), collection("shard=a"));
        let before = json!({"metadata": {"resourceVersion": "1"}});
        let after = json!({"metadata": {"resourceVersion": "2", "labels": {"shard": "a"}}});
        let moved = Change {
            rv: 2,
            kind: "MODIFIED",
            path: path.into(),
            object: after.clone(),
            previous: Some(before.clone()),
        };
        let (kind, gone) = moved.seen_by(&main).unwrap();
        assert_eq!(kind, "DELETED");
        assert_eq!(gone["metadata"]["resourceVersion"], "2");
        assert_eq!(moved.seen_by(&a).unwrap(), ("ADDED", after.clone()));
        let status_write = Change {
            rv: 3,
            kind: "MODIFIED",
            path: path.into(),
            object: after.clone(),
            previous: Some(after),
        };
        assert!(status_write.seen_by(&main).is_none());
        assert_eq!(status_write.seen_by(&a).unwrap().0, "MODIFIED");
    }

    #[test]
    fn collections_parse_and_match_their_objects() {
        let c = Collection::parse("/apis/backup.hwcloud.dev/v1alpha1/dcsbackups", None).unwrap();
        assert!(c.matches(
            "/apis/backup.hwcloud.dev/v1alpha1/namespaces/a/dcsbackups/x",
            &json!({})
        ));
        assert!(!c.matches(
            "/apis/backup.hwcloud.dev/v1alpha1/namespaces/a/ddsbackups/x",
            &json!({})
        ));
        let ns =
            Collection::parse("/api/v1/namespaces/a/secrets", Some("labelSelector=x%3Dy")).unwrap();
        assert!(ns.matches(
            "/api/v1/namespaces/a/secrets/s",
            &json!({"metadata": {"labels": {"x": "y"}}})
        ));
        assert!(!ns.matches(
            "/api/v1/namespaces/b/secrets/s",
            &json!({"metadata": {"labels": {"x": "y"}}})
        ));
        assert!(Collection::parse("/api/v1/namespaces/a/secrets/s", None).is_none());
    }
}
