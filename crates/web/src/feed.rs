//! The calendar feed: open tasks and birthdays as iCalendar, at a URL that a phone's
//! calendar can subscribe to (`/feed/TOKEN/solocrm.ics`).
//!
//! A calendar app sends no cookies, so the URL itself carries the secret: the feed
//! token, 32 random bytes kept in a file of their own (mode 0600) so that the
//! subscription outlives the server, separate from the login token (which changes at
//! every start) and from the session. It only reads (GET), so there is nothing to
//! forge; it is compared in constant time, and a wrong token is a plain 404. A new
//! token ([`Feed::regenerate`]) cuts off every calendar that knew the old one.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use crate::security;

/// The feed's secret and where it is kept.
#[derive(Debug)]
pub struct Feed {
    path: PathBuf,
    token: RwLock<String>,
}

/// Why the feed token could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The token file could not be read or written.
    #[error("feed token file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The token file holds something that is not a token.
    #[error("feed token file {0}: not a token (64 hex digits); delete it to make a new one")]
    Malformed(PathBuf),
    /// No randomness for a new token.
    #[error("no randomness for a feed token: {0}")]
    Random(getrandom::Error),
}

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Feed {
    /// The feed whose token is kept at `path`: read if the file exists, else made and
    /// written there (mode 0600 on Unix).
    ///
    /// # Errors
    ///
    /// [`FeedError`] if the file cannot be read or written, or holds no token.
    pub fn open(path: &Path) -> Result<Feed, FeedError> {
        let token = match std::fs::read_to_string(path) {
            Ok(text) => {
                let t = text.trim();
                if !is_token(t) {
                    return Err(FeedError::Malformed(path.to_owned()));
                }
                t.to_owned()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let t = security::random_secret().map_err(FeedError::Random)?;
                write_token(path, &t)?;
                t
            }
            Err(source) => {
                return Err(FeedError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Ok(Feed {
            path: path.to_owned(),
            token: RwLock::new(token),
        })
    }

    /// The token in force.
    pub fn token(&self) -> String {
        self.token
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// True if `candidate` is the token in force (constant time).
    pub fn admits(&self, candidate: &str) -> bool {
        security::same_secret(candidate, &self.token())
    }

    /// Makes a new token, writes it to the file, and puts it in force: the old URL
    /// stops working. The file is written first, so a failure leaves the old token.
    ///
    /// # Errors
    ///
    /// [`FeedError`] if there is no randomness or the file cannot be written.
    pub fn regenerate(&self) -> Result<String, FeedError> {
        let t = security::random_secret().map_err(FeedError::Random)?;
        write_token(&self.path, &t)?;
        *self
            .token
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = t.clone();
        Ok(t)
    }
}

/// Writes `token` to `path` through a temporary file renamed over it, mode 0600.
fn write_token(path: &Path, token: &str) -> Result<(), FeedError> {
    let io = |source| FeedError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    #[cfg(unix)]
    {
        // An older temporary file keeps its mode through `open`: set it again.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    file.write_all(format!("{token}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_kept_private_and_survives_a_restart_until_regenerated() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("feed-token");
        let feed = Feed::open(&path).expect("feed");
        let first = feed.token();
        assert!(is_token(&first));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(Feed::open(&path).expect("again").token(), first);
        let second = feed.regenerate().expect("new");
        assert_ne!(second, first);
        assert!(feed.admits(&second));
        assert!(!feed.admits(&first));
        assert_eq!(Feed::open(&path).expect("reread").token(), second);
    }

    #[test]
    fn a_file_that_holds_no_token_is_refused_not_replaced() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("feed-token");
        std::fs::write(&path, "hello").expect("write");
        assert!(matches!(Feed::open(&path), Err(FeedError::Malformed(_))));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "hello");
    }
}
