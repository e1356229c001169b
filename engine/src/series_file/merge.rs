//! Merging a file's series with new ones into one key-sorted stream, to write the next file.
//!
//! ```ignore
//! let mut new: Vec<(u64, Arc<str>)> = /* series created since the file was written */;
//! new.sort_by(|a, b| a.1.cmp(&b.1));
//! SeriesFile::write(&next_path, merge_sorted(&current, new))?;
//! ```

use std::cmp::Ordering;
use std::iter::Peekable;

use super::SeriesFile;

/// A key from either side of [`merge_sorted`]: borrowed from the file or one of the new ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergedKey<'a, K> {
    File(&'a str),
    New(K),
}

impl<K: AsRef<str>> AsRef<str> for MergedKey<'_, K> {
    fn as_ref(&self) -> &str {
        match self {
            MergedKey::File(k) => k,
            MergedKey::New(k) => k.as_ref(),
        }
    }
}

/// The series of `file` and `new` (which must be sorted by key) in one stream sorted by key,
/// ready for [`SeriesFile::write`]. A key on both sides with the same id comes once. A key on
/// both sides with different ids comes twice (the file's first), and so does anything out of
/// order in `new`: `write` then refuses the stream with `InvalidInput` rather than losing a
/// mapping silently.
pub fn merge_sorted<'a, K: AsRef<str>>(
    file: &'a SeriesFile,
    new: impl IntoIterator<Item = (u64, K)>,
) -> impl Iterator<Item = (u64, MergedKey<'a, K>)> {
    Merge {
        file: file.iter().peekable(),
        new: new.into_iter().peekable(),
    }
}

struct Merge<A: Iterator, B: Iterator> {
    file: Peekable<A>,
    new: Peekable<B>,
}

impl<'a, A, B, K> Iterator for Merge<A, B>
where
    A: Iterator<Item = (u64, &'a str)>,
    B: Iterator<Item = (u64, K)>,
    K: AsRef<str>,
{
    type Item = (u64, MergedKey<'a, K>);

    fn next(&mut self) -> Option<Self::Item> {
        let order = match (self.file.peek(), self.new.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((file_id, file_key)), Some((new_id, new_key))) => {
                match (*file_key).cmp(new_key.as_ref()) {
                    Ordering::Equal if file_id == new_id => {
                        self.new.next();
                        Ordering::Less
                    }
                    Ordering::Equal => Ordering::Less,
                    o => o,
                }
            }
        };
        if order == Ordering::Greater {
            self.new.next().map(|(id, k)| (id, MergedKey::New(k)))
        } else {
            self.file.next().map(|(id, k)| (id, MergedKey::File(k)))
        }
    }
}
