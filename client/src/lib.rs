//! Placeholder: the HTTP client arrives with issue 5.
