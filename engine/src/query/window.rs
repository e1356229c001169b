//! Time windows of `GROUP BY time(interval, offset)`, aligned as InfluxDB aligns them: window
//! starts are `offset + k·interval` for integer `k`, counted from the Unix epoch, so the same
//! query gives the same windows whatever its time range.

/// The windows covering `[min, max]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub interval: i64,
    pub offset: i64,
    /// Start of the first window (the one holding `min`).
    pub first: i64,
    pub count: usize,
}

impl Windows {
    /// `None` when the interval is not positive or the range is empty.
    pub fn new(interval: i64, offset: i64, min: i64, max: i64) -> Option<Windows> {
        if interval <= 0 || max < min {
            return None;
        }
        let offset = offset.rem_euclid(interval);
        let first = start_of(min, interval, offset);
        let last = start_of(max, interval, offset);
        let count = ((last as i128 - first as i128) / interval as i128 + 1) as usize;
        Some(Windows {
            interval,
            offset,
            first,
            count,
        })
    }

    /// The index of the window holding `t` (which must lie in the covered range).
    pub fn index(&self, t: i64) -> usize {
        match t.checked_sub(self.first) {
            // The usual case, in 64 bits (a 128-bit division is a library call).
            Some(d) if d >= 0 => (d / self.interval) as usize,
            _ => ((t as i128 - self.first as i128) / self.interval as i128) as usize,
        }
    }

    pub fn start(&self, i: usize) -> i64 {
        (self.first as i128 + i as i128 * self.interval as i128) as i64
    }

    /// The last nanosecond of window `i`.
    pub fn end(&self, i: usize) -> i64 {
        (self.start(i) as i128 + self.interval as i128 - 1).min(i64::MAX as i128) as i64
    }
}

/// The start of the window (of `interval`, shifted by `offset`) that holds `t`.
pub(crate) fn start_of(t: i64, interval: i64, offset: i64) -> i64 {
    let shifted = t as i128 - offset as i128;
    (shifted.div_euclid(interval as i128) * interval as i128 + offset as i128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000_000;

    #[test]
    fn windows_align_to_the_epoch() {
        // 00:07 .. 00:31 in 10-minute windows: 00:00, 00:10, 00:20, 00:30.
        let w = Windows::new(10 * MIN, 0, 7 * MIN, 31 * MIN).unwrap();
        assert_eq!(w.first, 0);
        assert_eq!(w.count, 4);
        assert_eq!(w.index(7 * MIN), 0);
        assert_eq!(w.index(20 * MIN), 2);
        assert_eq!(w.end(0), 10 * MIN - 1);
    }

    #[test]
    fn offsets_shift_the_grid() {
        let w = Windows::new(10 * MIN, 3 * MIN, 7 * MIN, 31 * MIN).unwrap();
        assert_eq!(w.first, 3 * MIN);
        assert_eq!(w.count, 3); // 00:03, 00:13, 00:23 (holding 00:31)
                                // A negative offset is the same grid as interval minus it.
        assert_eq!(
            Windows::new(10 * MIN, -7 * MIN, 7 * MIN, 31 * MIN)
                .unwrap()
                .first,
            3 * MIN
        );
    }

    #[test]
    fn negative_times_and_bad_input() {
        let w = Windows::new(10, 0, -15, -1).unwrap();
        assert_eq!((w.first, w.count), (-20, 2));
        assert!(Windows::new(0, 0, 0, 10).is_none());
        assert!(Windows::new(10, 0, 5, 4).is_none());
    }
}
