//! The files the CLI writes (exports, rejects): never the database or an input of the
//! command, readable by the owner only, and all or nothing.
//!
//! [`Protected`] holds the files a command must not write: the database with its
//! `-wal`, `-shm` and `-journal` files, and the command's inputs. An output is compared
//! with each by device and inode (so a hard link is caught) and by its resolved path
//! (so a symbolic link is caught, and a `-wal` that does not exist yet).
//!
//! [`OutFile`] writes a regular file through a temporary file in the same directory,
//! created with mode 0600, and renames it into place only when [`OutFile::commit`] is
//! called: a failed command leaves the old file (or none), never a truncated one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};

/// The files SQLite keeps beside a database `x.db`, named `x.db` + suffix, and what
/// each is.
pub const SIDE_FILES: [(&str, &str); 3] = [
    ("-wal", "the database's write-ahead log"),
    ("-shm", "the database's shared-memory file"),
    ("-journal", "the database's rollback journal"),
];

/// The side file of `db` with `suffix` (`x.db-wal`).
pub fn side_file(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Refuses a database path that SQLite would take for the side file of another
/// database: opening `a.db` deletes a leftover `a.db-wal` after folding it in, and
/// `a.db-journal` is a rollback journal SQLite replays into `a.db`, so a database kept
/// under such a name could vanish, or be written into `a.db`, without a word.
pub fn refuse_side_file_name(db: &Path) -> Result<()> {
    let name = db
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    for (suffix, _) in SIDE_FILES {
        if name.len() > suffix.len()
            && name
                .get(name.len() - suffix.len()..)
                .is_some_and(|end| end.eq_ignore_ascii_case(suffix))
        {
            bail!(
                "--db {}: a name ending in '{suffix}' is where SQLite keeps a side file of another database, \
                 which SQLite may delete or fold into that database; choose a name without it",
                db.display()
            );
        }
    }
    Ok(())
}

/// The file name of the user's own books in the [data directory](data_dir).
pub const BOOKS_FILE: &str = "books.db";

/// The file name of `solocrm demo`'s sample books in the [data directory](data_dir).
pub const DEMO_FILE: &str = "demo.db";

/// Where solocrm keeps its books when neither `--db` nor `SOLOCRM_DB` says: the
/// platform's local data directory for the application `solocrm` (the `directories`
/// crate): `$XDG_DATA_HOME/solocrm`, else `~/.local/share/solocrm` on Linux and the
/// other XDG systems, `~/Library/Application Support/solocrm` on macOS,
/// `%LOCALAPPDATA%\solocrm\data` on Windows. See ADR 0012.
///
/// # Errors
///
/// If the platform gives no home directory (no `HOME`).
pub fn data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "solocrm")
        .map(|dirs| dirs.data_local_dir().to_owned())
        .ok_or_else(|| {
            anyhow!(
                "cannot tell where your data directory is (is HOME set?); \
                 name the database with --db PATH or SOLOCRM_DB"
            )
        })
}

/// Creates `dir` and its missing parents, each readable by the owner only (0700 on
/// Unix, as the XDG specification asks of the directories it creates). An existing
/// directory is left as it is.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| anyhow!("cannot create the directory {}: {e}", dir.display()))
}

/// How many symbolic links in a row [`resolve`] follows.
const MAX_LINKS: usize = 40;

/// A file an output must not be.
#[derive(Debug, Clone)]
struct Guarded {
    /// What it is, for the message: "the database itself", "the input file".
    what: String,
    /// Its resolved path.
    path: PathBuf,
    /// Its device and inode, if it exists.
    id: Option<(u64, u64)>,
}

/// The files a command must not write.
#[derive(Debug, Clone, Default)]
pub struct Protected {
    files: Vec<Guarded>,
}

impl Protected {
    /// The database `db` and the files SQLite keeps beside it.
    pub fn database(db: &Path) -> Protected {
        let mut p = Protected::default();
        // SQLite names its files after the path as given and, on Unix, after the
        // file a symbolic link points to: guard both spellings.
        let given = absolute(db);
        let real = resolve(db);
        for base in [given, real] {
            p.add(&base, "the database itself");
            for (suffix, what) in SIDE_FILES {
                p.add(&side_file(&base, suffix), what);
            }
        }
        p
    }

    /// Also guards `input`, described as `what` ("the input file").
    pub fn with_input(mut self, input: &Path, what: &str) -> Protected {
        self.add(input, what);
        self
    }

    fn add(&mut self, path: &Path, what: &str) {
        let path = resolve(path);
        let id = identity(&path);
        self.files.push(Guarded {
            what: what.to_owned(),
            path,
            id,
        });
    }

    /// Refuses `out` (given as option `flag`) if it is one of the guarded files.
    pub fn check(&self, flag: &str, out: &Path) -> Result<()> {
        let path = resolve(out);
        let id = identity(&path);
        if let Some(g) = self
            .files
            .iter()
            .find(|g| g.path == path || (id.is_some() && g.id == id))
        {
            bail!(
                "{flag} {} is {}; choose another file",
                out.display(),
                g.what
            );
        }
        Ok(())
    }
}

impl Protected {
    /// Refuses standard output if it is one of the guarded files (`>> x.db`).
    pub fn check_stdout(&self) -> Result<()> {
        if let Some(id) = stdout_identity()
            && let Some(g) = self.files.iter().find(|g| g.id == Some(id))
        {
            bail!("standard output is {}; choose another file", g.what);
        }
        Ok(())
    }
}

/// The device and inode of the file standard output writes to.
#[cfg(unix)]
fn stdout_identity() -> Option<(u64, u64)> {
    use std::os::fd::AsFd as _;
    use std::os::unix::fs::MetadataExt as _;
    let fd = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
    let m = File::from(fd).metadata().ok()?;
    Some((m.dev(), m.ino()))
}

/// Without inodes, standard output cannot be compared.
#[cfg(not(unix))]
fn stdout_identity() -> Option<(u64, u64)> {
    None
}

/// `path` made absolute, without touching the file system.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Where `path` really is: symbolic links followed (also a link to a file that does
/// not exist yet), its directory canonical. Falls back to the absolute path where the
/// file system cannot tell.
fn resolve(path: &Path) -> PathBuf {
    let mut p = absolute(path);
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => match fs::read_link(&p) {
                Ok(target) => {
                    let dir = p.parent().map(Path::to_owned).unwrap_or_default();
                    p = dir.join(target);
                }
                Err(_) => break,
            },
            _ => break,
        }
    }
    if let Ok(real) = fs::canonicalize(&p) {
        return real;
    }
    match (p.parent(), p.file_name()) {
        (Some(dir), Some(name)) => fs::canonicalize(dir).map_or(p.clone(), |d| d.join(name)),
        _ => p,
    }
}

/// The device and inode of the file at `path`, if it exists.
#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Without inodes, files are compared by their resolved paths only.
#[cfg(not(unix))]
fn identity(_path: &Path) -> Option<(u64, u64)> {
    None
}

/// Opens a new file for writing with mode 0600 (owner only).
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// Where an [`OutFile`] writes.
enum Sink {
    /// A temporary file, renamed onto `target` by [`OutFile::commit`].
    Temp {
        file: BufWriter<File>,
        temp: PathBuf,
        target: PathBuf,
    },
    /// A device or pipe (`/dev/stdout`, a FIFO), written directly.
    Direct(BufWriter<File>),
    /// Committed or failed.
    Done,
}

/// An output file, checked against the [`Protected`] files and written all or
/// nothing. Dropped without [`OutFile::commit`], it leaves no trace.
pub struct OutFile {
    /// The path as the user gave it, for messages.
    shown: PathBuf,
    sink: Sink,
}

impl OutFile {
    /// Checks `out` (given as option `flag`) against `protected` and prepares to write
    /// it. Fails before anything is written if `out` is guarded, or its directory does
    /// not exist or cannot be written.
    pub fn create(flag: &str, out: &Path, protected: &Protected) -> Result<OutFile> {
        protected.check(flag, out)?;
        let shown = out.to_owned();
        let target = resolve(out);
        let cannot = |e: io::Error| anyhow!("cannot write {}: {e}", shown.display());
        match fs::metadata(&target) {
            Ok(m) if m.is_dir() => bail!("cannot write {}: it is a directory", shown.display()),
            Ok(m) if !m.is_file() => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(cannot)?;
                return Ok(OutFile {
                    shown,
                    sink: Sink::Direct(BufWriter::new(file)),
                });
            }
            Ok(_) => {
                // Replacing a file is refused where writing it would be: a
                // read-only file stays as it is. Opened without truncating, it is
                // not changed by the test.
                OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(cannot)?;
            }
            Err(_) => {}
        }
        let dir = target
            .parent()
            .map(Path::to_owned)
            .unwrap_or_else(|| PathBuf::from("."));
        // The temporary name stays within the file system's limit for a name.
        let name: String = target
            .file_name()
            .map(|n| n.to_string_lossy().chars().take(100).collect())
            .unwrap_or_else(|| "out".to_owned());
        let mut attempt = 0;
        let (file, temp) = loop {
            let temp = dir.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
            match create_private(&temp) {
                Ok(file) => break (file, temp),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => return Err(cannot(e)),
            }
        };
        Ok(OutFile {
            shown,
            sink: Sink::Temp {
                file: BufWriter::new(file),
                temp,
                target,
            },
        })
    }

    /// The path as given, for messages.
    pub fn path(&self) -> &Path {
        &self.shown
    }

    /// Finishes the file: flushes it to disk and moves it into place.
    pub fn commit(self) -> Result<()> {
        let shown = self.shown.clone();
        self.finish()
            .map_err(|e| anyhow!("cannot write {}: {e}", shown.display()))
    }

    /// [`OutFile::commit`], with the bare I/O error.
    fn finish(mut self) -> io::Result<()> {
        match std::mem::replace(&mut self.sink, Sink::Done) {
            Sink::Temp { file, temp, target } => {
                let finish = || -> io::Result<()> {
                    let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                    file.sync_all()?;
                    drop(file);
                    fs::rename(&temp, &target)
                };
                if let Err(e) = finish() {
                    let _ = fs::remove_file(&temp);
                    return Err(e);
                }
                Ok(())
            }
            Sink::Direct(mut file) => file.flush(),
            Sink::Done => Ok(()),
        }
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Temp { file, .. } | Sink::Direct(file) => file.write(buf),
            Sink::Done => Err(io::Error::other("the file is closed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Temp { file, .. } | Sink::Direct(file) => file.flush(),
            Sink::Done => Ok(()),
        }
    }
}

impl solocrm_app::exchange::Output for OutFile {
    fn name(&self) -> String {
        self.shown.display().to_string()
    }

    fn commit(self: Box<Self>) -> io::Result<()> {
        (*self).finish()
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if let Sink::Temp { temp, .. } = &self.sink {
            let _ = fs::remove_file(temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_journals_of_the_database_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("x.db");
        fs::write(&db, b"db").expect("db");
        fs::create_dir(dir.path().join("sub")).expect("sub dir");
        let protected = Protected::database(&db);
        assert!(protected.check("--out", &db).is_err());
        assert!(
            protected
                .check("--out", &dir.path().join("x.db-wal"))
                .is_err()
        );
        assert!(
            protected
                .check("--out", &dir.path().join("sub/../x.db"))
                .is_err()
        );
        assert!(protected.check("--out", &dir.path().join("y.db")).is_ok());
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&db, &link).expect("symlink");
            assert!(protected.check("--out", &link).is_err());
            let hard = dir.path().join("hard");
            fs::hard_link(&db, &hard).expect("hard link");
            assert!(protected.check("--out", &hard).is_err());
            let dangling = dir.path().join("dangling");
            std::os::unix::fs::symlink(dir.path().join("x.db-journal"), &dangling)
                .expect("symlink");
            assert!(protected.check("--out", &dangling).is_err());
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_file_is_not_replaced() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("keep.csv");
        fs::write(&out, b"keep").expect("write");
        fs::set_permissions(&out, fs::Permissions::from_mode(0o400)).expect("chmod");
        // Root may write anything: the test means something only for other users.
        if OpenOptions::new().write(true).open(&out).is_err() {
            assert!(OutFile::create("--out", &out, &Protected::default()).is_err());
        }
        assert_eq!(fs::read(&out).expect("read"), b"keep");
        let long = dir.path().join("x".repeat(250));
        let mut f = OutFile::create("--out", &long, &Protected::default()).expect("create");
        f.write_all(b"data").expect("write");
        f.commit().expect("commit");
        assert_eq!(fs::read(&long).expect("read"), b"data");
    }

    #[test]
    fn an_uncommitted_file_leaves_no_trace() {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("out.csv");
        fs::write(&out, b"old").expect("old");
        let mut f = OutFile::create("--out", &out, &Protected::default()).expect("create");
        f.write_all(b"new").expect("write");
        drop(f);
        assert_eq!(fs::read(&out).expect("read"), b"old");
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1);
    }
}
