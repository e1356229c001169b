//! Authentication and authorization.
//!
//! Off by default: then every request is [`Access::Open`]. With `--auth`, each request except
//! `/ping` and `/health` must carry credentials, in any of InfluxDB's ways:
//! `Authorization: Token <token>` (2.x clients; `Token user:password` as InfluxDB 1.8 accepts
//! too), `Authorization: Basic …`, or the `u` and `p` parameters. Missing or wrong credentials
//! get 401, a known principal lacking a permission 403.
//!
//! Password checks run Argon2id on the blocking pool (tens of milliseconds, on purpose); a
//! successful check is remembered, as a SHA-256 of a per-process secret, the user name and
//! the password, so a client sending the same credentials with every request pays it once.
//! Failures are never remembered. `SIGHUP` reloads the users file (and forgets the cache).

pub mod statements;
pub mod users;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine as _;
use hyper::header::{HeaderMap, AUTHORIZATION};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::{AuthConfig, ConfigError};
use crate::http::ApiError;
use crate::params::Params;
use users::{decode_hex32, token_digest, Grant, UsersFile};

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Access {
    /// Authentication is off: everything is allowed.
    Open,
    Principal(Arc<Principal>),
}

/// A user or token and its permissions.
#[derive(Debug)]
pub struct Principal {
    pub name: String,
    grant: Grant,
}

fn listed(list: &[String], db: &str) -> bool {
    list.iter().any(|d| d == "*" || d == db)
}

impl Access {
    pub fn is_admin(&self) -> bool {
        match self {
            Access::Open => true,
            Access::Principal(p) => p.grant.admin,
        }
    }

    pub fn can_read(&self, db: &str) -> bool {
        match self {
            Access::Open => true,
            Access::Principal(p) => p.grant.admin || listed(&p.grant.read, db),
        }
    }

    pub fn can_write(&self, db: &str) -> bool {
        match self {
            Access::Open => true,
            Access::Principal(p) => p.grant.admin || listed(&p.grant.write, db),
        }
    }

    /// Whether the principal may see that database exists (read or write on it).
    pub fn can_see(&self, db: &str) -> bool {
        self.can_read(db) || self.can_write(db)
    }

    fn name(&self) -> &str {
        match self {
            Access::Open => "anonymous",
            Access::Principal(p) => &p.name,
        }
    }

    /// 403 unless admin.
    pub fn require_admin(&self, what: &str) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} is not authorized to {what}: admin privilege required",
                self.name()
            )))
        }
    }

    pub fn require_write(&self, db: &str) -> Result<(), ApiError> {
        if self.can_write(db) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} is not authorized to write to database {db:?}",
                self.name()
            )))
        }
    }

    pub fn require_read(&self, db: &str) -> Result<(), ApiError> {
        if self.can_read(db) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} is not authorized to read database {db:?}",
                self.name()
            )))
        }
    }
}

/// The users and tokens in force, indexed.
#[derive(Debug, Default)]
struct Store {
    /// name → (Argon2 PHC hash, principal).
    users: HashMap<String, (String, Arc<Principal>)>,
    /// SHA-256 of the token → principal.
    tokens: HashMap<[u8; 32], Arc<Principal>>,
}

impl Store {
    fn from_file(file: UsersFile) -> Store {
        let mut store = Store::default();
        for u in file.users {
            let principal = Arc::new(Principal {
                name: u.name.clone(),
                grant: u.grant(),
            });
            store.users.insert(u.name, (u.password_hash, principal));
        }
        for t in file.tokens {
            if let Some(digest) = decode_hex32(&t.token_sha256) {
                let principal = Arc::new(Principal {
                    name: t.name.clone(),
                    grant: t.grant(),
                });
                store.tokens.insert(digest, principal);
            }
        }
        store
    }
}

/// At most this many remembered password checks; the set is emptied when full.
const CACHE_ENTRIES: usize = 4096;

/// The server's authenticator.
#[derive(Debug)]
pub struct Auth {
    enabled: bool,
    users_file: PathBuf,
    store: RwLock<Arc<Store>>,
    /// Keys of password checks that succeeded (see the module docs).
    verified: Mutex<HashSet<[u8; 32]>>,
    secret: [u8; 32],
}

/// Credentials as a request carries them.
enum Credentials {
    None,
    Token(String),
    Password { user: String, password: String },
}

impl Auth {
    /// Loads the users file if auth is on. An enabled server with no users file, or an empty
    /// one, refuses to start: it could answer nothing but 401.
    pub fn new(config: &AuthConfig) -> Result<Auth, ConfigError> {
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let auth = Auth {
            enabled: config.enabled,
            users_file: config.users_file.clone(),
            store: RwLock::default(),
            verified: Mutex::default(),
            secret,
        };
        if auth.enabled {
            auth.reload()?;
        }
        Ok(auth)
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Re-reads the users file; on error the users in force stay.
    pub fn reload(&self) -> Result<(), ConfigError> {
        if !self.users_file.exists() {
            return Err(ConfigError(format!(
                "auth is on but there is no users file {}: create a user with \
                 `ganzhi user add NAME --admin --users-file {}`",
                self.users_file.display(),
                self.users_file.display()
            )));
        }
        let file = UsersFile::load(&self.users_file)?;
        if file.users.is_empty() && file.tokens.is_empty() {
            return Err(ConfigError(format!(
                "auth is on but {} has no users or tokens",
                self.users_file.display()
            )));
        }
        let store = Arc::new(Store::from_file(file));
        *self.store.write().unwrap_or_else(|e| e.into_inner()) = store;
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }

    /// Who sent this request: `Open` when auth is off, else the principal its credentials
    /// name, or 401.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        params: &Params,
    ) -> Result<Access, ApiError> {
        if !self.enabled {
            return Ok(Access::Open);
        }
        let store = self.store.read().unwrap_or_else(|e| e.into_inner()).clone();
        match credentials(headers, params)? {
            Credentials::None => Err(ApiError::unauthorized(
                "authentication required: send Authorization: Token <token>, \
                 Authorization: Basic, or the u and p parameters",
            )),
            Credentials::Token(token) => {
                if let Some(p) = store.tokens.get(&token_digest(&token)) {
                    return Ok(Access::Principal(p.clone()));
                }
                // InfluxDB 1.8 takes `Token user:password` on its 2.x-compatible endpoints.
                match token.split_once(':') {
                    Some((user, password)) => {
                        self.check_password(&store, user.to_owned(), password.to_owned())
                            .await
                    }
                    None => Err(failed()),
                }
            }
            Credentials::Password { user, password } => {
                self.check_password(&store, user, password).await
            }
        }
    }

    async fn check_password(
        &self,
        store: &Arc<Store>,
        user: String,
        password: String,
    ) -> Result<Access, ApiError> {
        let Some((hash, principal)) = store.users.get(&user) else {
            return Err(failed());
        };
        let key = self.cache_key(&user, &password);
        let cached = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key);
        if !cached {
            let hash = hash.clone();
            let ok = tokio::task::spawn_blocking(move || users::verify_password(&password, &hash))
                .await
                .unwrap_or(false);
            if !ok {
                return Err(failed());
            }
            let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if verified.len() >= CACHE_ENTRIES {
                verified.clear();
            }
            verified.insert(key);
        }
        Ok(Access::Principal(principal.clone()))
    }

    fn cache_key(&self, user: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update((user.len() as u64).to_le_bytes());
        h.update(user.as_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }
}

fn failed() -> ApiError {
    ApiError::unauthorized("authorization failed")
}

fn credentials(headers: &HeaderMap, params: &Params) -> Result<Credentials, ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("unable to parse authentication credentials"))?;
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("token") {
            return Ok(Credentials::Token(rest.to_owned()));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::unauthorized("unable to parse Basic credentials"))?;
            let (user, password) = decoded
                .split_once(':')
                .ok_or_else(|| ApiError::unauthorized("unable to parse Basic credentials"))?;
            return Ok(Credentials::Password {
                user: user.to_owned(),
                password: password.to_owned(),
            });
        }
        return Err(ApiError::unauthorized(format!(
            "unsupported authorization scheme {scheme:?}: use Token or Basic"
        )));
    }
    match (params.non_empty("u"), params.get("p")) {
        (Some(user), Some(password)) => Ok(Credentials::Password {
            user: user.to_owned(),
            password: password.to_owned(),
        }),
        (Some(_), None) => Err(ApiError::unauthorized("parameter u given without p")),
        _ => Ok(Credentials::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn setup() -> (tempfile::TempDir, Auth, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        let mut f = UsersFile::default();
        f.add_user(
            "reader",
            "pw",
            Grant {
                read: vec!["city".into()],
                ..Grant::default()
            },
        )
        .unwrap();
        let token = f
            .add_token(
                "ingest",
                Grant {
                    write: vec!["*".into()],
                    ..Grant::default()
                },
            )
            .unwrap();
        f.store(&path).unwrap();
        let auth = Auth::new(&AuthConfig {
            enabled: true,
            users_file: path,
        })
        .unwrap();
        (dir, auth, token)
    }

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        h
    }

    #[tokio::test]
    async fn every_way_of_sending_credentials() {
        let (_dir, auth, token) = setup();
        let none = Params::default();
        let a = auth
            .authenticate(&headers(&format!("Token {token}")), &none)
            .await
            .unwrap();
        assert!(a.can_write("anything") && !a.can_read("city") && !a.is_admin());

        let basic = base64::engine::general_purpose::STANDARD.encode("reader:pw");
        let a = auth
            .authenticate(&headers(&format!("Basic {basic}")), &none)
            .await
            .unwrap();
        assert!(a.can_read("city") && !a.can_read("other") && !a.can_write("city"));
        // Again, from the cache.
        assert!(auth
            .authenticate(&headers(&format!("Basic {basic}")), &none)
            .await
            .is_ok());

        let a = auth
            .authenticate(
                &HeaderMap::new(),
                &Params::from_query(Some("u=reader&p=pw")),
            )
            .await
            .unwrap();
        assert!(a.can_read("city"));
        assert!(auth
            .authenticate(&headers("Token reader:pw"), &none)
            .await
            .is_ok());

        for bad in ["Token nope", "Token reader:wrong", "Basic !!!", "Bearer x"] {
            let e = auth.authenticate(&headers(bad), &none).await.unwrap_err();
            assert_eq!(e.status, hyper::StatusCode::UNAUTHORIZED, "{bad}");
        }
        let e = auth
            .authenticate(&HeaderMap::new(), &none)
            .await
            .unwrap_err();
        assert_eq!(e.status, hyper::StatusCode::UNAUTHORIZED);
        let e = auth
            .authenticate(
                &HeaderMap::new(),
                &Params::from_query(Some("u=reader&p=no")),
            )
            .await
            .unwrap_err();
        assert_eq!(e.status, hyper::StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn auth_without_users_refuses_to_start() {
        let dir = tempfile::tempdir().unwrap();
        let e = Auth::new(&AuthConfig {
            enabled: true,
            users_file: dir.path().join("missing.toml"),
        })
        .unwrap_err();
        assert!(e.0.contains("ganzhi user add"), "{e}");
    }
}
