//! What an InfluxQL statement needs permission for, as InfluxDB 1.x decides it: reading a
//! database for `SELECT` and `SHOW …` about it; writing for `DELETE` and `DROP SERIES`; admin
//! for creating and dropping databases and measurements, and for any statement this table
//! does not know (so a statement added to the engine later is safe by default).

use ganzhi_engine::influxql::{Source, Statement};

use super::Access;
use crate::http::ApiError;

/// One permission a statement needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    Read(String),
    Write(String),
    Admin,
    /// Any authenticated principal (`SHOW DATABASES`, whose answer is then filtered).
    Nothing,
}

/// The permissions `statement` needs when the request's `db` parameter is `default_db`.
pub fn needs(statement: &Statement, default_db: &str) -> Vec<Need> {
    let db = |on: &Option<String>| on.clone().unwrap_or_else(|| default_db.to_owned());
    let of_sources = |sources: &[Source]| -> Vec<String> {
        let mut dbs: Vec<String> = sources.iter().map(|s| db(&s.database)).collect();
        if dbs.is_empty() {
            dbs.push(default_db.to_owned());
        }
        dbs.sort();
        dbs.dedup();
        dbs
    };
    match statement {
        Statement::Select(s) => of_sources(&s.sources).into_iter().map(Need::Read).collect(),
        Statement::ShowDatabases => vec![Need::Nothing],
        Statement::ShowMeasurements { database, .. }
        | Statement::ShowRetentionPolicies { database } => vec![Need::Read(db(database))],
        Statement::ShowTagKeys {
            database, sources, ..
        }
        | Statement::ShowTagValues {
            database, sources, ..
        }
        | Statement::ShowFieldKeys {
            database, sources, ..
        }
        | Statement::ShowSeries {
            database, sources, ..
        } => {
            let mut dbs = of_sources(sources);
            if database.is_some() {
                dbs = vec![db(database)];
            }
            dbs.into_iter().map(Need::Read).collect()
        }
        Statement::DropSeries { .. } | Statement::Delete { .. } => {
            vec![Need::Write(default_db.to_owned())]
        }
        Statement::CreateDatabase { .. }
        | Statement::DropDatabase { .. }
        | Statement::DropMeasurement { .. } => vec![Need::Admin],
        #[allow(unreachable_patterns)]
        _ => vec![Need::Admin],
    }
}

/// 403 unless `access` holds every permission each statement needs.
pub fn authorize(
    access: &Access,
    statements: &[Statement],
    default_db: &str,
) -> Result<(), ApiError> {
    for s in statements {
        for need in needs(s, default_db) {
            match need {
                Need::Read(db) => access.require_read(&db)?,
                Need::Write(db) => access.require_write(&db)?,
                Need::Admin => access.require_admin(&format!(
                    "run {}",
                    s.to_string()
                        .split_whitespace()
                        .take(2)
                        .collect::<Vec<_>>()
                        .join(" ")
                ))?,
                Need::Nothing => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ganzhi_engine::influxql::parse_query;

    fn check(q: &str, expected: &[Need]) {
        let query = parse_query(q).unwrap();
        assert_eq!(needs(&query.statements[0], "city"), expected, "{q}");
    }

    #[test]
    fn permissions_per_statement() {
        check("SELECT * FROM air", &[Need::Read("city".into())]);
        check(
            "SELECT * FROM other..air, air",
            &[Need::Read("city".into()), Need::Read("other".into())],
        );
        check("SHOW DATABASES", &[Need::Nothing]);
        check("SHOW MEASUREMENTS ON x", &[Need::Read("x".into())]);
        check("SHOW TAG KEYS FROM air", &[Need::Read("city".into())]);
        check("CREATE DATABASE x", &[Need::Admin]);
        check("DROP DATABASE x", &[Need::Admin]);
        check("DELETE FROM air", &[Need::Write("city".into())]);
    }
}
