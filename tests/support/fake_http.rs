//! The fake API server over real HTTP on 127.0.0.1, for an operator in another process (the
//! footprint benchmark measures that process alone). Notes when each LIST was answered.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use kube::client::Body;

use super::fake_api::FakeApi;
use super::fake_api::watch::{Collection, query_param};

/// A served fake: its base URL and the LISTs answered so far (path, when).
pub struct Served {
    pub url: String,
    lists: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Served {
    /// When the first LIST of each collection path was answered.
    pub fn first_lists(&self) -> Vec<(String, Instant)> {
        let lists = self.lists.lock().unwrap();
        let mut firsts: Vec<(String, Instant)> = Vec::new();
        for (path, at) in lists.iter() {
            if !firsts.iter().any(|(p, _)| p == path) {
                firsts.push((path.clone(), *at));
            }
        }
        firsts
    }
}

/// Serves `api` on an ephemeral port until the runtime ends.
pub async fn serve(api: FakeApi) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let lists = Arc::new(Mutex::new(Vec::new()));
    let noted = lists.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (api, noted) = (api.clone(), noted.clone());
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (api, noted) = (api.clone(), noted.clone());
                async move {
                    let (parts, body) = req.into_parts();
                    let bytes = body
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let is_list = parts.method == http::Method::GET
                        && Collection::parse(parts.uri.path(), parts.uri.query()).is_some()
                        && query_param(parts.uri.query(), "watch").is_none();
                    let path = parts.uri.path().to_string();
                    let reply = api
                        .handle(Request::from_parts(parts, Body::from(bytes)))
                        .await;
                    if is_list {
                        noted.lock().unwrap().push((path, Instant::now()));
                    }
                    Ok::<_, Infallible>(reply)
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Served { url, lists }
}
