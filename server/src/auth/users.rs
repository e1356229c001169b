//! The users file: users (name + Argon2id password hash) and API tokens (name + SHA-256 of
//! the token), each with what it may do. TOML, written atomically with mode 0600:
//!
//! ```toml
//! [[user]]
//! name = "alice"
//! password_hash = "$argon2id$v=19$m=19456,t=2,p=1$…"
//! read = ["city"]
//! write = ["city"]
//!
//! [[token]]
//! name = "ingest"
//! token_sha256 = "9f86d0…"
//! write = ["*"]
//! admin = false
//! ```
//!
//! A secret is never stored: passwords are salted and hashed with Argon2id (memory-hard, so a
//! stolen file resists guessing), tokens are 256 random bits, for which a plain SHA-256 is
//! enough (they cannot be guessed from their hash).

use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ConfigError;

/// Permissions: `admin` may do everything; `read`/`write` list database names, `*` for all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub read: Vec<String>,
    #[serde(default)]
    pub write: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub name: String,
    /// PHC string of an Argon2id hash.
    pub password_hash: String,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub read: Vec<String>,
    #[serde(default)]
    pub write: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub name: String,
    /// Lowercase hex SHA-256 of the token.
    pub token_sha256: String,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub read: Vec<String>,
    #[serde(default)]
    pub write: Vec<String>,
}

impl UserEntry {
    pub fn grant(&self) -> Grant {
        Grant {
            admin: self.admin,
            read: self.read.clone(),
            write: self.write.clone(),
        }
    }
}

impl TokenEntry {
    pub fn grant(&self) -> Grant {
        Grant {
            admin: self.admin,
            read: self.read.clone(),
            write: self.write.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersFile {
    #[serde(default, rename = "user", skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserEntry>,
    #[serde(default, rename = "token", skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<TokenEntry>,
}

/// The prefix of every token this server makes (so a leaked one is easy to recognise).
pub const TOKEN_PREFIX: &str = "gz_";

impl UsersFile {
    pub fn load(path: &Path) -> Result<UsersFile, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("reading users file {}: {e}", path.display())))?;
        let file: UsersFile = toml::from_str(&text)
            .map_err(|e| ConfigError(format!("users file {}: {e}", path.display())))?;
        for u in &file.users {
            PasswordHash::new(&u.password_hash).map_err(|e| {
                ConfigError(format!(
                    "users file {}: user {:?} has an invalid password_hash: {e}",
                    path.display(),
                    u.name
                ))
            })?;
        }
        for t in &file.tokens {
            if decode_hex32(&t.token_sha256).is_none() {
                return Err(ConfigError(format!(
                    "users file {}: token {:?} has an invalid token_sha256 (64 hex digits)",
                    path.display(),
                    t.name
                )));
            }
        }
        Ok(file)
    }

    /// The file, or an empty one if it does not exist yet.
    pub fn load_or_empty(path: &Path) -> Result<UsersFile, ConfigError> {
        if path.exists() {
            UsersFile::load(path)
        } else {
            Ok(UsersFile::default())
        }
    }

    /// Writes the file atomically (temporary file, fsync, rename), readable by its owner only.
    pub fn store(&self, path: &Path) -> Result<(), ConfigError> {
        let err = |e: std::io::Error| ConfigError(format!("writing {}: {e}", path.display()));
        let text = toml::to_string(self).map_err(|e| ConfigError(e.to_string()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let tmp = path.with_extension("toml.tmp");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options.open(&tmp).map_err(err)?;
            f.write_all(text.as_bytes()).map_err(err)?;
            f.sync_all().map_err(err)?;
        }
        std::fs::rename(&tmp, path).map_err(err)
    }

    /// Adds `name`, or replaces its password and grant.
    pub fn add_user(
        &mut self,
        name: &str,
        password: &str,
        grant: Grant,
    ) -> Result<(), ConfigError> {
        check_name(name)?;
        let entry = UserEntry {
            name: name.to_owned(),
            password_hash: hash_password(password)?,
            admin: grant.admin,
            read: grant.read,
            write: grant.write,
        };
        match self.users.iter_mut().find(|u| u.name == name) {
            Some(u) => *u = entry,
            None => self.users.push(entry),
        }
        Ok(())
    }

    /// Makes a token named `name` (replacing one of that name) and returns it: the only time
    /// it is seen.
    pub fn add_token(&mut self, name: &str, grant: Grant) -> Result<String, ConfigError> {
        check_name(name)?;
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let token = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
        );
        let entry = TokenEntry {
            name: name.to_owned(),
            token_sha256: hex(&token_digest(&token)),
            admin: grant.admin,
            read: grant.read,
            write: grant.write,
        };
        match self.tokens.iter_mut().find(|t| t.name == name) {
            Some(t) => *t = entry,
            None => self.tokens.push(entry),
        }
        Ok(token)
    }

    /// Removes users and tokens named `name`; whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.users.len() + self.tokens.len();
        self.users.retain(|u| u.name != name);
        self.tokens.retain(|t| t.name != name);
        before != self.users.len() + self.tokens.len()
    }

    /// One line per user and token, without secrets.
    pub fn describe(&self) -> Vec<String> {
        let grant = |g: &Grant| {
            format!(
                "admin={} read=[{}] write=[{}]",
                g.admin,
                g.read.join(","),
                g.write.join(",")
            )
        };
        let users = self
            .users
            .iter()
            .map(|u| format!("user  {} {}", u.name, grant(&u.grant())));
        let tokens = self
            .tokens
            .iter()
            .map(|t| format!("token {} {}", t.name, grant(&t.grant())));
        users.chain(tokens).collect()
    }
}

fn check_name(name: &str) -> Result<(), ConfigError> {
    if name.is_empty() || name.len() > 256 || name.chars().any(|c| c.is_control() || c == ':') {
        return Err(ConfigError(format!(
            "invalid name {name:?}: 1 to 256 characters, no ':' or control characters"
        )));
    }
    Ok(())
}

/// An Argon2id PHC string with a fresh 128-bit salt (parameters: the crate's defaults,
/// OWASP's recommendation of m=19 MiB, t=2, p=1).
pub fn hash_password(password: &str) -> Result<String, ConfigError> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| ConfigError(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ConfigError(format!("hashing the password: {e}")))
}

/// Whether `password` matches the PHC string `hash` (constant time in the password).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let digit = |c: u8| (c as char).to_digit(16);
        *o = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_tokens_round_trip_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        let mut f = UsersFile::default();
        let grant = Grant {
            read: vec!["city".into()],
            ..Grant::default()
        };
        f.add_user("alice", "s3cret", grant.clone()).unwrap();
        let token = f.add_token("ingest", grant).unwrap();
        f.store(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("s3cret") && !text.contains(&token), "{text}");
        let back = UsersFile::load(&path).unwrap();
        assert_eq!(back, f);
        assert!(verify_password("s3cret", &back.users[0].password_hash));
        assert!(!verify_password("s3cret!", &back.users[0].password_hash));
        assert_eq!(
            decode_hex32(&back.tokens[0].token_sha256),
            Some(token_digest(&token))
        );
        assert!(f.remove("alice") && !f.remove("alice"));
        assert!(f.add_user("a:b", "x", Grant::default()).is_err());
    }
}
