//! The accept loop: one task per connection (HTTP/1.1 with keep-alive), at most
//! `max_connections` at once, and the graceful shutdown that stops accepting, lets every
//! in-flight request finish (up to `shutdown_timeout`), then returns.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::routes;
use crate::state::State;

/// Serves `listener` until `shutdown` resolves, then drains the connections.
pub async fn run(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let limits = &state.config.limits;
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            p = state.connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break, // never closed
            },
        };
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little for some to close.
                    eprintln!("ganzhi: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let for_service = state.clone();
        let service = service_fn(move |req| routes::handle(for_service.clone(), req));
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // An error here is a client that went away or broke the protocol; hyper has
            // already answered what could be answered.
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let open = state.gauges().connections;
    if open > 0 {
        eprintln!("ganzhi: waiting for {open} connections to finish their requests");
    }
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!(
            "ganzhi: connections still busy after {:?} (shutdown_timeout); closing them",
            limits.shutdown_timeout
        );
    }
}
