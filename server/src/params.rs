//! Request parameters: the URL's query string, plus a form-encoded body where InfluxDB
//! accepts one (`POST /query` with `q=…`). The first occurrence of a name wins.

use std::borrow::Cow;

#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses `a=1&b=x%20y` (a missing query string is no parameters).
    pub fn from_query(query: Option<&str>) -> Params {
        let mut p = Params::default();
        if let Some(q) = query {
            p.extend_form(q.as_bytes());
        }
        p
    }

    /// Adds the pairs of a form-encoded body after the existing ones.
    pub fn extend_form(&mut self, form: &[u8]) {
        self.pairs.extend(
            form_urlencoded::parse(form)
                .map(|(k, v): (Cow<str>, Cow<str>)| (k.into_owned(), v.into_owned())),
        );
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or `None` when it is absent or empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// `true` for `true`/`1`/`yes` (any case), as InfluxDB reads `pretty` and `chunked`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| {
            v.eq_ignore_ascii_case("true") || v == "1" || v.eq_ignore_ascii_case("yes")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_form() {
        let mut p = Params::from_query(Some("db=city&q=SELECT%20*%20FROM%20air&pretty=true&u="));
        p.extend_form(b"q=ignored&epoch=ms");
        assert_eq!(p.get("db"), Some("city"));
        assert_eq!(p.get("q"), Some("SELECT * FROM air"));
        assert_eq!(p.get("epoch"), Some("ms"));
        assert!(p.flag("pretty"));
        assert!(!p.flag("chunked"));
        assert_eq!(p.non_empty("u"), None);
        assert_eq!(Params::from_query(None).get("db"), None);
    }
}
