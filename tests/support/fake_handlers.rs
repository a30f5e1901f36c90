//! The fake API server's answers to each kind of request: LIST (paged as a real server pages),
//! WATCH, POST, status and object patches with resourceVersion preconditions, and the error bodies.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use super::watch::{self as hub, Collection, FakeBody, query_param, watch_body};
use super::{State, has_finalizers};

/// LIST: the matching objects and the resourceVersion to watch from, in pages of `limit` when the
/// client asks (kube's watcher asks for 500) and the list is not served from the watch cache. The continue token carries the first page's
/// resourceVersion, as a real API server's does, so a watch from the last page replays every
/// change made while the pages were read.
pub(super) fn list(s: &State, c: &Collection, query: Option<&str>) -> Response<FakeBody> {
    // A list at resourceVersion 0 is served from the API server's watch cache, which ignores
    // `limit` and answers everything at once (kubernetes/kubernetes#70735).
    let from_cache = query_param(query, "resourceVersion").as_deref() == Some("0");
    let limit = query_param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0 && !from_cache);
    let token = query_param(query, "continue");
    let (rv, after) = match token.as_deref().and_then(|t| t.split_once('|')) {
        Some((rv, after)) => (rv.to_string(), Some(after.to_string())),
        None => (s.next_rv.to_string(), None),
    };
    let mut matching = s
        .objects
        .iter()
        .filter(|(p, _)| after.as_deref().is_none_or(|a| p.as_str() > a))
        .filter(|(p, o)| c.matches(p, o));
    let items: Vec<(&String, &Value)> = match limit {
        Some(l) => matching.by_ref().take(l).collect(),
        None => matching.by_ref().collect(),
    };
    let mut metadata = json!({"resourceVersion": rv});
    if let (Some((last, _)), Some(_)) = (items.last(), matching.next()) {
        metadata["continue"] = json!(format!("{rv}|{last}"));
    }
    let items: Vec<&Value> = items.into_iter().map(|(_, o)| o).collect();
    reply(
        StatusCode::OK,
        &json!({"apiVersion": "v1", "kind": "List", "metadata": metadata, "items": items}),
    )
}

/// WATCH from `from` (0: the current objects as ADDED first, as a real API server does).
pub(super) fn watch(s: &State, c: Collection, from: u64) -> Response<FakeBody> {
    let Some((mut past, rx)) = s.hub.resume(from, &c) else {
        return status_error(StatusCode::GONE, "too old resource version");
    };
    if from == 0 {
        past = s
            .objects
            .iter()
            .filter(|(p, o)| c.matches(p, o))
            .map(|(p, o)| hub::Change {
                rv: s.next_rv,
                kind: "ADDED",
                path: p.clone(),
                object: o.clone(),
                previous: None,
            })
            .collect();
    }
    let after = if from == 0 { s.next_rv } else { from };
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(watch_body(past, rx, c, after))
        .unwrap()
}

/// POST: creates the object, or answers 409 AlreadyExists.
pub(super) fn create(s: &mut State, c: &Collection, mut obj: Value) -> Response<FakeBody> {
    let ns = obj["metadata"]["namespace"]
        .as_str()
        .map(str::to_string)
        .or_else(|| c.namespace.clone())
        .unwrap_or_default();
    let Some(name) = obj["metadata"]["name"].as_str().map(str::to_string) else {
        return status_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "metadata.name: Required value",
        );
    };
    let path = c.object_path(&ns, &name);
    if s.objects.contains_key(&path) {
        return status_error(StatusCode::CONFLICT, &format!("{name} already exists"));
    }
    obj["metadata"]["namespace"] = json!(ns);
    obj["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
    obj["metadata"]["generation"] = json!(1);
    obj["metadata"]["creationTimestamp"] = json!(now_rfc3339());
    let stored = s.store(&path, obj);
    reply(StatusCode::CREATED, &stored)
}

/// Server-side apply of a whole status by the one field manager: it replaces the status. A
/// resourceVersion in the body is a precondition, as on a real API server.
pub(super) fn patch_status(s: &mut State, path: &str, body: &Value) -> Response<FakeBody> {
    if s.pass_status_writes > 0 {
        s.pass_status_writes -= 1;
    } else if s.fail_status_writes > 0 {
        s.fail_status_writes -= 1;
        return status_error(StatusCode::INTERNAL_SERVER_ERROR, "injected failure");
    }
    let obj_path = path.trim_end_matches("/status");
    let Some(mut o) = s.objects.get(obj_path).cloned() else {
        return not_found(obj_path);
    };
    if let Some(conflict) = precondition(&o, body) {
        return conflict;
    }
    o["status"] = body["status"].clone();
    let stored = s.store(obj_path, o);
    reply(StatusCode::OK, &stored)
}

/// A merge patch (or an apply treated as one) of metadata and spec-level fields.
pub(super) fn patch_object(s: &mut State, path: &str, body: &Value) -> Response<FakeBody> {
    let Some(mut o) = s.objects.get(path).cloned() else {
        return not_found(path);
    };
    if let Some(conflict) = precondition(&o, body) {
        return conflict;
    }
    let mut patch = body.clone();
    if let Some(meta) = patch["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
    }
    merge(&mut o, &patch);
    if !o["metadata"]["deletionTimestamp"].is_null() && !has_finalizers(&o) {
        let gone = s.remove(path).unwrap_or(o);
        return reply(StatusCode::OK, &gone);
    }
    let stored = s.store(path, o);
    reply(StatusCode::OK, &stored)
}

/// 409 when `body` names a resourceVersion other than the stored one.
pub(super) fn precondition(stored: &Value, body: &Value) -> Option<Response<FakeBody>> {
    let want = body["metadata"]["resourceVersion"].as_str()?;
    (Some(want) != stored["metadata"]["resourceVersion"].as_str())
        .then(|| status_error(StatusCode::CONFLICT, "the object has been modified"))
}

/// RFC 7386 JSON merge patch.
pub(super) fn merge(target: &mut Value, patch: &Value) {
    let Some(fields) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    for (k, v) in fields {
        if v.is_null() {
            target.as_object_mut().map(|t| t.remove(k));
        } else {
            merge(&mut target[k], v);
        }
    }
}

/// Now in whole seconds, cut (not rounded) as a real API server stores it: never later than now.
pub(super) fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

pub(super) fn reply(code: StatusCode, v: &Value) -> Response<FakeBody> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(
            Full::new(Bytes::from(v.to_string()))
                .map_err(|e| match e {})
                .boxed(),
        )
        .unwrap()
}

pub(super) fn status_error(code: StatusCode, message: &str) -> Response<FakeBody> {
    let reason = match code.as_u16() {
        404 => "NotFound",
        409 if message.ends_with("already exists") => "AlreadyExists",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        _ => "InternalError",
    };
    reply(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason, "code": code.as_u16()}),
    )
}

pub(super) fn not_found(path: &str) -> Response<FakeBody> {
    status_error(StatusCode::NOT_FOUND, &format!("{path} not found"))
}
