//! The limits that are more than a number compared: lines over `max_line_bytes` taken out of
//! a body without renumbering the others, and queries run within `max_concurrent_queries`
//! slots and `query_timeout`. (Body size and read time are in [`crate::body`], the series
//! limit in [`crate::routes::write`].)

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ganzhi_engine::RejectedLine;
use tokio::runtime::RuntimeFlavor;
use tokio::sync::Semaphore;

use crate::http::ApiError;

/// Replaces every line longer than `max` by an empty line (keeping the numbering), and
/// returns them as rejected. Copies the body only when there is such a line.
pub fn blank_long_lines(body: Bytes, max: usize) -> (Bytes, Vec<RejectedLine>) {
    if body.len() <= max {
        return (body, Vec::new());
    }
    let mut long = Vec::new();
    let mut start = 0;
    for (i, end) in memchr::memchr_iter(b'\n', &body)
        .chain(std::iter::once(body.len()))
        .enumerate()
    {
        if end - start > max {
            long.push((i + 1, start, end));
        }
        start = end + 1;
    }
    if long.is_empty() {
        return (body, Vec::new());
    }
    let mut out = Vec::with_capacity(body.len());
    let mut copied = 0;
    let mut rejected = Vec::with_capacity(long.len());
    for &(line, start, end) in &long {
        out.extend_from_slice(&body[copied..start]);
        copied = end;
        rejected.push(RejectedLine::InvalidPoint {
            line,
            reason: format!(
                "line is {} bytes, longer than the limit of {max} (max_line_bytes)",
                end - start
            ),
        });
    }
    out.extend_from_slice(&body[copied..]);
    (Bytes::from(out), rejected)
}

/// Why [`run_limited`] did not return a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Every slot was taken; nothing ran.
    Busy { slots: usize },
    /// The work did not finish in time. On the blocking pool it goes on running (the engine
    /// cannot be interrupted) and keeps its slot until it ends, so runaway queries still
    /// count against the limit; run in place, it is refused when it ends past the limit.
    TimedOut(Duration),
    /// The work panicked.
    Panicked,
}

impl Refused {
    pub fn into_error(self) -> ApiError {
        match self {
            Refused::Busy { slots } => ApiError::busy(format!(
                "too many queries running (max_concurrent_queries = {slots}); retry later"
            )),
            Refused::TimedOut(limit) => ApiError::busy(format!(
                "query timed out after {limit:?} (query_timeout); it holds a query slot until \
                 it ends"
            )),
            Refused::Panicked => ApiError::internal("internal error running the query"),
        }
    }
}

/// Runs `work` if one of `slots` is free at once, holding it until `work` ends, within
/// `timeout` (zero: no limit).
///
/// On a multi-threaded runtime (the server's), `work` runs on the calling worker thread
/// itself: `block_in_place` first hands the worker's other tasks to another thread. That
/// saves the two thread hand-offs of the blocking pool, to it and back, which cost about
/// 40 µs of CPU and 50 µs of latency per query. The engine stops at its own time limit
/// (the same `timeout`), and work that still ends past it is refused as timed out. On a
/// single-threaded runtime, `work` goes to the blocking pool and is waited for at most
/// `timeout`.
pub async fn run_limited<T: Send + 'static>(
    slots: &Arc<Semaphore>,
    total_slots: usize,
    timeout: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Refused> {
    let slot = slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| Refused::Busy { slots: total_slots })?;
    if tokio::runtime::Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        let started = Instant::now();
        let result = tokio::task::block_in_place(|| catch_unwind(AssertUnwindSafe(work)));
        drop(slot);
        let value = result.map_err(|_| Refused::Panicked)?;
        if !timeout.is_zero() && started.elapsed() > timeout {
            return Err(Refused::TimedOut(timeout));
        }
        return Ok(value);
    }
    let task = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    });
    let joined = if timeout.is_zero() {
        task.await
    } else {
        tokio::time::timeout(timeout, task)
            .await
            .map_err(|_| Refused::TimedOut(timeout))?
    };
    joined.map_err(|_| Refused::Panicked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn long_lines_are_blanked_and_named() {
        let body = Bytes::from_static(b"a v=1\nbbbbbbbbbbbb\nc v=2\ndddddddddd");
        let (out, rejected) = blank_long_lines(body, 8);
        assert_eq!(&out[..], b"a v=1\n\nc v=2\n");
        let lines: Vec<usize> = rejected.iter().map(RejectedLine::line).collect();
        assert_eq!(lines, vec![2, 4]);
        let (same, none) = blank_long_lines(Bytes::from_static(b"a v=1\n"), 8);
        assert_eq!(&same[..], b"a v=1\n");
        assert!(none.is_empty());
    }

    /// On the server's multi-threaded runtime the work runs in place: it gives its value, a
    /// panic becomes `Panicked`, work ending past the limit is refused, the slot is free again
    /// afterwards each time, and the runtime's other tasks keep running meanwhile (one worker
    /// thread: the task that unblocks the work could not run otherwise).
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn in_place_work_keeps_the_runtime_serving_and_frees_its_slot() {
        let slots = Arc::new(Semaphore::new(1));
        let (tx, rx) = mpsc::channel::<u32>();
        tokio::spawn(async move { tx.send(7).unwrap() });
        let r = run_limited(&slots, 1, Duration::from_secs(60), move || {
            rx.recv().unwrap()
        });
        assert_eq!(r.await, Ok(7));
        let r = run_limited::<()>(&slots, 1, Duration::ZERO, || panic!("boom")).await;
        assert_eq!(r.unwrap_err(), Refused::Panicked);
        let limit = Duration::from_millis(5);
        // The work itself is slow (a stand-in for a long query), nothing waits on it.
        let slow = || std::thread::sleep(Duration::from_millis(30));
        let r = run_limited(&slots, 1, limit, slow).await;
        assert_eq!(r.unwrap_err(), Refused::TimedOut(limit));
        let held = slots.clone().try_acquire_owned().unwrap();
        let r = run_limited(&slots, 1, Duration::ZERO, || 1).await;
        assert_eq!(r.unwrap_err(), Refused::Busy { slots: 1 });
        drop(held);
        assert_eq!(run_limited(&slots, 1, Duration::ZERO, || 2).await, Ok(2));
    }

    #[tokio::test]
    async fn slots_are_held_until_the_work_really_ends() {
        let slots = Arc::new(Semaphore::new(1));
        let (release, wait) = mpsc::channel::<()>();
        // Times out, but keeps running and keeps its slot...
        let r = run_limited(&slots, 1, Duration::from_millis(20), move || wait.recv()).await;
        assert_eq!(r.unwrap_err(), Refused::TimedOut(Duration::from_millis(20)));
        // ...so the next query is refused at once.
        let r = run_limited(&slots, 1, Duration::ZERO, || 1).await;
        assert_eq!(r.unwrap_err(), Refused::Busy { slots: 1 });
        // Once it ends, the slot is free again.
        release.send(()).unwrap();
        let permit = tokio::time::timeout(Duration::from_secs(60), slots.acquire())
            .await
            .unwrap()
            .unwrap();
        drop(permit);
        assert_eq!(run_limited(&slots, 1, Duration::ZERO, || 2).await, Ok(2));
        let r = run_limited::<()>(&slots, 1, Duration::ZERO, || panic!("boom")).await;
        assert_eq!(r.unwrap_err(), Refused::Panicked);
    }
}
