//! The Prometheus endpoint (`--metrics-port`): `GET /metrics` over HTTP/1.1 answers the
//! figures [`collect`] reads at each scrape, in the OpenMetrics text format Prometheus reads,
//! encoded by the Prometheus project's own client (`prometheus-client`); hyper serves HTTP.
//!
//! Nothing is counted for the endpoint's sake: every figure is one the server keeps anyway
//! (`INFO`, `SLUICE ROUTES|POLICIES`, the log's stats), read when scraped. Encoding walks the
//! keyspace once for the streams routes and policies use, so it runs on a blocking thread.
//!
//! # Layout
//! - `mod.rs`: the listener and the HTTP answers.
//! - [`collect`]: the collector, which names and reads every metric.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::registry::Registry;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::shared::Shared;

pub mod collect;
mod streams;

/// The content type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `/metrics` on `listener` until `stop` turns true.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let registry = Arc::new(collect::registry(shared));
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    tokio::spawn(serve_connection(socket, registry.clone(), stop.clone()));
                }
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!("metrics endpoint: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
}

/// One HTTP connection (keep-alive: Prometheus reuses it between scrapes).
async fn serve_connection(
    socket: TcpStream,
    registry: Arc<Registry>,
    mut stop: watch::Receiver<bool>,
) {
    let service = service_fn(move |request: Request<Incoming>| {
        let registry = registry.clone();
        async move { Ok::<_, Infallible>(answer(&request, registry).await) }
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(socket), service);
    tokio::select! {
        served = connection => {
            if let Err(e) = served {
                tracing::debug!("metrics endpoint: connection ended: {e}");
            }
        }
        _ = stop.changed() => {}
    }
}

/// `GET`/`HEAD /metrics`: the figures; another path: 404; another method: 405.
async fn answer(request: &Request<Incoming>, registry: Arc<Registry>) -> Response<Full<Bytes>> {
    if request.uri().path() != "/metrics" {
        return plain(
            StatusCode::NOT_FOUND,
            "Not Found: the metrics are at /metrics\n",
        );
    }
    let head = match *request.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
            response
                .headers_mut()
                .insert(ALLOW, hyper::header::HeaderValue::from_static("GET, HEAD"));
            return response;
        }
    };
    let encoded = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).map(|()| text)
    })
    .await;
    match encoded {
        Ok(Ok(text)) => {
            let body = if head {
                Bytes::new()
            } else {
                Bytes::from(text)
            };
            let mut response = Response::new(Full::new(body));
            response.headers_mut().insert(
                CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(OPENMETRICS),
            );
            response
        }
        _ => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the metrics could not be encoded\n",
        ),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
