//! The limits that are more than a number compared: lines over `max_line_bytes` taken out of
//! a body without renumbering the others, and queries run within `max_concurrent_queries`
//! slots and `query_timeout`. (Body size and read time are in [`crate::body`], the series
//! limit in [`crate::routes::write`].)

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ganzhi_engine::RejectedLine;
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
    /// The work did not finish in time. It goes on running on the blocking pool (the engine
    /// cannot be interrupted) and keeps its slot until it ends, so runaway queries still
    /// count against the limit.
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

/// Runs `work` on the blocking pool if one of `slots` is free at once, holding it until
/// `work` ends, and waits for it at most `timeout` (zero: no limit).
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
