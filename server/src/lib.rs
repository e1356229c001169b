//! Placeholder: the HTTP server arrives with issue 5.
