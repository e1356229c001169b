//! Handing results to their consumer as they are produced: series by series, a long series
//! cut into chunks of `chunk_rows` rows.
//!
//! A statement's producer opens a series ([`Emitter::begin`]), pushes its rows in output order
//! ([`Emitter::push`]) and closes it ([`Emitter::finish`]). The emitter applies the
//! statement's paging on the way: `SOFFSET`/`SLIMIT` count series that have points in range
//! ([`Emitter::admit`]) or a row, `OFFSET`/`LIMIT` count the rows of each series. It tells the producer when the rest of a
//! series, or of the statement, would be thrown away, so the producer can stop reading.
//!
//! Invariants, which [`Collector`] and the chunked HTTP response rely on:
//! - a series is sent only with at least one row; its chunks follow one another with no other
//!   series between them, every chunk but the last marked `partial`;
//! - a chunk is marked `partial` only when another chunk of the same series follows (a full
//!   chunk is held back until the next row arrives), unless the statement fails meanwhile:
//!   then the statement's `End` with its error follows instead;
//! - every statement ends with exactly one [`QueryEvent::End`], after all its series (unless
//!   the consumer stopped the query: then nothing more is sent).

use std::ops::ControlFlow;

use super::output::StatementOutcome;
use super::statement::{QueryError, ResultSeries};
use crate::model::OwnedFieldValue;

/// What a streaming query ([`crate::Db::query_stream`]) hands its consumer, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryEvent {
    /// Rows of one series of statement `statement` (ids count from 0). With `partial`, the
    /// next event carries more rows of the same series.
    Series {
        statement: usize,
        series: ResultSeries,
        partial: bool,
    },
    /// Statement `statement` ended: with an error if it failed (after any series it sent).
    End {
        statement: usize,
        error: Option<QueryError>,
    },
}

/// Receives a streaming query's events; [`ControlFlow::Break`] stops the query (a client
/// that went away), which then ends without further events.
pub type Consumer<'c> = dyn FnMut(QueryEvent) -> ControlFlow<()> + 'c;

/// What the producer of a series should do after a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Go on.
    More,
    /// The rest of this series would be dropped (`LIMIT` reached, or skipped by `SOFFSET`):
    /// go to the next series.
    NextSeries,
    /// Everything else this statement produces would be dropped (`SLIMIT` reached).
    Done,
}

/// Paging of one statement's series and rows (0: none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Paging {
    pub soffset: u64,
    pub slimit: u64,
    pub offset: u64,
    pub limit: u64,
}

impl Paging {
    pub fn of(s: &crate::influxql::SelectStatement) -> Paging {
        Paging {
            soffset: s.soffset,
            slimit: s.slimit,
            offset: s.offset,
            limit: s.limit,
        }
    }
}

/// The series being produced.
struct Open {
    series: ResultSeries,
    /// Rows seen so far (before `OFFSET`).
    seen: u64,
    /// Whether it counts as one of the statement's series (it had a row).
    counted: bool,
    /// Whether `SOFFSET`/`SLIMIT` let its rows through.
    visible: bool,
    /// Whether a chunk of it was sent already.
    sent: bool,
}

/// One statement's output, feeding a [`Consumer`].
pub(crate) struct Emitter<'e, 'c> {
    consumer: &'e mut Consumer<'c>,
    statement: usize,
    chunk_rows: usize,
    paging: Paging,
    /// Series with at least one row so far.
    series_seen: u64,
    open: Option<Open>,
    stopped: bool,
}

/// The error a statement ends with once the consumer stopped the query.
pub(crate) fn stopped() -> QueryError {
    QueryError::Engine("the query was stopped by its consumer".into())
}

impl<'e, 'c> Emitter<'e, 'c> {
    /// `chunk_rows` 0: each series in one event.
    pub fn new(
        consumer: &'e mut Consumer<'c>,
        statement: usize,
        chunk_rows: usize,
        paging: Paging,
    ) -> Self {
        Emitter {
            consumer,
            statement,
            chunk_rows,
            paging,
            series_seen: 0,
            open: None,
            stopped: false,
        }
    }

    /// Whether the consumer takes a series in chunks, holding one at a time (so the producer
    /// should not hold a whole series either).
    pub fn streams(&self) -> bool {
        self.chunk_rows > 0
    }

    /// Whether the consumer stopped the query.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Whether `SLIMIT` is already reached: nothing more of this statement would be sent.
    pub fn is_full(&self) -> bool {
        self.paging.slimit > 0 && self.series_seen >= self.paging.soffset + self.paging.slimit
    }

    /// Opens a series (closing the open one).
    pub fn begin(
        &mut self,
        name: String,
        tags: Vec<(String, String)>,
        columns: Vec<String>,
    ) -> Result<(), QueryError> {
        self.finish()?;
        self.open = Some(Open {
            series: ResultSeries {
                name,
                tags,
                columns,
                rows: Vec::new(),
            },
            seen: 0,
            counted: false,
            visible: false,
            sent: false,
        });
        Ok(())
    }

    /// Adds a row to the open series, in output order.
    pub fn push(
        &mut self,
        time: i64,
        values: Vec<Option<OwnedFieldValue>>,
    ) -> Result<Flow, QueryError> {
        match self.admit()? {
            Flow::More => {}
            other => return Ok(other),
        }
        let paging = self.paging;
        let Some(open) = self.open.as_mut() else {
            return Err(QueryError::Engine("a row outside of a series".into()));
        };
        open.seen += 1;
        if open.seen <= paging.offset {
            return Ok(Flow::More);
        }
        if self.chunk_rows > 0 && open.series.rows.len() >= self.chunk_rows {
            let rows = std::mem::take(&mut open.series.rows);
            self.send_chunk(rows, true)?;
        }
        let Some(open) = self.open.as_mut() else {
            return Err(stopped());
        };
        open.series.rows.push((time, values));
        let taken = open.seen - paging.offset;
        Ok(if paging.limit > 0 && taken >= paging.limit {
            Flow::NextSeries
        } else {
            Flow::More
        })
    }

    /// Counts the open series as one of the statement's series, if it is not yet: what a
    /// series with points in range is, even when a row filter then drops every row (as
    /// InfluxDB pages series before filtering their rows). A series that gets a row is
    /// admitted by [`Emitter::push`]. Says whether its rows would be kept.
    pub fn admit(&mut self) -> Result<Flow, QueryError> {
        let full = self.is_full();
        let soffset = self.paging.soffset;
        let Some(open) = self.open.as_mut() else {
            return Err(QueryError::Engine("a row outside of a series".into()));
        };
        if !open.counted {
            if full {
                return Ok(Flow::Done);
            }
            open.counted = true;
            open.visible = self.series_seen >= soffset;
            self.series_seen += 1;
        }
        Ok(if open.visible {
            Flow::More
        } else {
            Flow::NextSeries
        })
    }

    /// Adds a whole series (rows in output order), with the statement's paging.
    pub fn series(&mut self, mut s: ResultSeries) -> Result<Flow, QueryError> {
        // Without row paging, and within one chunk, the rows go through whole: what pushing
        // them one by one would do, without copying them.
        let whole = self.paging.offset == 0
            && self.paging.limit == 0
            && (self.chunk_rows == 0 || s.rows.len() <= self.chunk_rows);
        if whole && !s.rows.is_empty() {
            let rows = std::mem::take(&mut s.rows);
            self.begin(s.name, s.tags, s.columns)?;
            let flow = self.admit()?;
            if flow == Flow::More {
                if let Some(open) = &mut self.open {
                    open.seen = rows.len() as u64;
                    open.series.rows = rows;
                }
            }
            self.finish()?;
            return Ok(flow);
        }
        self.begin(s.name, s.tags, s.columns)?;
        if let Some(open) = &mut self.open {
            let n = match self.chunk_rows {
                0 => s.rows.len(),
                c => s.rows.len().min(c),
            };
            open.series.rows.reserve(n);
        }
        let mut flow = Flow::More;
        for (t, v) in s.rows {
            flow = self.push(t, v)?;
            if flow != Flow::More {
                break;
            }
        }
        self.finish()?;
        Ok(flow)
    }

    /// Sends a series as it is, without paging, even without rows (SHOW results).
    pub fn series_unpaged(&mut self, s: ResultSeries) -> Result<(), QueryError> {
        self.finish()?;
        self.send(s, false)
    }

    /// Closes the open series, sending what it holds.
    pub fn finish(&mut self) -> Result<(), QueryError> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        if open.series.rows.is_empty() {
            // A chunk held back at the chunk size is always followed by a row, so a series
            // that sent a chunk never ends here empty.
            debug_assert!(!open.sent);
            return Ok(());
        }
        self.send(open.series, false)
    }

    /// Ends the statement: closes its series and sends `End` with `error`.
    pub fn end(mut self, error: Option<QueryError>) {
        let error = match (self.finish(), error) {
            (_, Some(e)) => Some(e),
            (Err(e), None) => Some(e),
            (Ok(()), None) => None,
        };
        if !self.stopped {
            let _ = (self.consumer)(QueryEvent::End {
                statement: self.statement,
                error,
            });
        }
    }

    fn send_chunk(
        &mut self,
        rows: Vec<(i64, Vec<Option<OwnedFieldValue>>)>,
        partial: bool,
    ) -> Result<(), QueryError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        open.sent = true;
        let series = ResultSeries {
            name: open.series.name.clone(),
            tags: open.series.tags.clone(),
            columns: open.series.columns.clone(),
            rows,
        };
        self.send(series, partial)
    }

    fn send(&mut self, series: ResultSeries, partial: bool) -> Result<(), QueryError> {
        if self.stopped {
            return Err(stopped());
        }
        let event = QueryEvent::Series {
            statement: self.statement,
            series,
            partial,
        };
        if (self.consumer)(event).is_break() {
            self.stopped = true;
            self.open = None;
            return Err(stopped());
        }
        Ok(())
    }
}

/// A consumer that collects every statement's series whole (joining the chunks of a
/// series), as the non-streaming API returns them; a failed statement's series are dropped
/// for its error, as InfluxDB answers.
#[derive(Debug, Default)]
pub struct Collector {
    results: Vec<StatementOutcome>,
    /// Whether the last series received continues in the next event.
    continues: bool,
}

impl Collector {
    pub fn new() -> Self {
        Collector::default()
    }

    /// Takes one event; never stops the query.
    pub fn take(&mut self, event: QueryEvent) -> ControlFlow<()> {
        match event {
            QueryEvent::Series {
                statement,
                series,
                partial,
            } => {
                self.reach(statement);
                if let Ok(list) = &mut self.results[statement] {
                    match list.last_mut() {
                        Some(last) if self.continues => last.rows.extend(series.rows),
                        _ => list.push(series),
                    }
                }
                self.continues = partial;
            }
            QueryEvent::End { statement, error } => {
                self.reach(statement);
                if let Some(e) = error {
                    self.results[statement] = Err(e);
                }
                self.continues = false;
            }
        }
        ControlFlow::Continue(())
    }

    fn reach(&mut self, statement: usize) {
        while self.results.len() <= statement {
            self.results.push(Ok(Vec::new()));
        }
    }

    pub fn into_results(self) -> Vec<StatementOutcome> {
        self.results
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldValue;

    fn run(
        chunk_rows: usize,
        paging: Paging,
        series: &[(&str, usize)],
    ) -> (Vec<QueryEvent>, Vec<Flow>) {
        let mut events = Vec::new();
        let mut flows = Vec::new();
        let mut consumer = |e: QueryEvent| {
            events.push(e);
            ControlFlow::Continue(())
        };
        let mut out = Emitter::new(&mut consumer, 0, chunk_rows, paging);
        'all: for (name, rows) in series {
            out.begin(name.to_string(), vec![], vec!["time".into(), "v".into()])
                .unwrap();
            for t in 0..*rows {
                let flow = out
                    .push(t as i64, vec![Some(FieldValue::Integer(t as i64))])
                    .unwrap();
                flows.push(flow);
                match flow {
                    Flow::More => {}
                    Flow::NextSeries => break,
                    Flow::Done => break 'all,
                }
            }
        }
        out.end(None);
        (events, flows)
    }

    fn shape(events: &[QueryEvent]) -> Vec<(String, Vec<i64>, bool)> {
        events
            .iter()
            .filter_map(|e| match e {
                QueryEvent::Series {
                    series, partial, ..
                } => Some((
                    series.name.clone(),
                    series.rows.iter().map(|r| r.0).collect(),
                    *partial,
                )),
                QueryEvent::End { .. } => None,
            })
            .collect()
    }

    #[test]
    fn long_series_are_cut_and_only_cut_chunks_are_partial() {
        let (events, _) = run(2, Paging::default(), &[("a", 4), ("b", 0), ("c", 3)]);
        assert_eq!(
            shape(&events),
            vec![
                ("a".into(), vec![0, 1], true),
                ("a".into(), vec![2, 3], false),
                ("c".into(), vec![0, 1], true),
                ("c".into(), vec![2], false),
            ]
        );
        assert_eq!(
            events.last(),
            Some(&QueryEvent::End {
                statement: 0,
                error: None
            })
        );
    }

    #[test]
    fn paging_counts_series_with_rows_and_rows_per_series() {
        let paging = Paging {
            soffset: 1,
            slimit: 2,
            offset: 1,
            limit: 2,
        };
        let (events, flows) = run(
            0,
            paging,
            &[("a", 3), ("e", 0), ("b", 5), ("c", 1), ("d", 4)],
        );
        // a is skipped by SOFFSET, e has no rows, c loses its only row to OFFSET, d is past
        // SLIMIT (b and c were the two series).
        assert_eq!(shape(&events), vec![("b".into(), vec![1, 2], false)]);
        assert_eq!(flows.first(), Some(&Flow::NextSeries));
        assert_eq!(flows.last(), Some(&Flow::Done));
    }

    #[test]
    fn the_collector_joins_chunks_and_keeps_errors() {
        let (mut events, _) = run(2, Paging::default(), &[("a", 5), ("b", 1)]);
        events.push(QueryEvent::End {
            statement: 1,
            error: Some(QueryError::Invalid("bad".into())),
        });
        let mut c = Collector::new();
        for e in events {
            assert!(c.take(e).is_continue());
        }
        let results = c.into_results();
        let first = results[0].as_ref().unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].rows.len(), 5);
        assert_eq!(first[1].rows.len(), 1);
        assert_eq!(results[1], Err(QueryError::Invalid("bad".into())));
    }

    #[test]
    fn a_consumer_that_stops_ends_the_statement() {
        let mut sent = 0;
        let mut consumer = |_e: QueryEvent| {
            sent += 1;
            ControlFlow::Break(())
        };
        let mut out = Emitter::new(&mut consumer, 0, 1, Paging::default());
        out.begin("a".into(), vec![], vec!["time".into()]).unwrap();
        out.push(1, vec![]).unwrap();
        assert!(out.push(2, vec![]).is_err());
        assert!(out.is_stopped());
        out.end(None);
        assert_eq!(sent, 1, "nothing is sent after the consumer stopped");
    }
}
