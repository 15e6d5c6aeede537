//! `solocrm serve`: the local web workspace over the books (crate `solocrm-web`).

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context as _, Result};

use super::Ctx;

/// Serves the books until Ctrl-C. The first line on standard output is the link to
/// open, `http://127.0.0.1:PORT/?token=TOKEN`. `automation` runs the rules inside the
/// server (every minute and after each write made through it).
pub fn run(
    ctx: &mut Ctx,
    port: u16,
    bind: Option<IpAddr>,
    open: bool,
    automation: bool,
) -> Result<()> {
    let books = ctx.open()?;
    let bind = bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if !bind.is_loopback() {
        super::warn(&t!("serve.exposed", addr = bind));
    }
    // Without a data directory (no HOME) the books are still served, without a feed.
    let feed_token_file = match feed_token_file(&books) {
        Ok(path) => Some(path),
        Err(e) => {
            super::warn(&t!("serve.no_feed", error = format!("{e:#}")));
            None
        }
    };
    let options = solocrm_web::ServeOptions {
        bind,
        port,
        automation,
        feed_token_file,
    };
    solocrm_web::serve(&books, &options, |started| {
        // The link goes out at once, unbuffered: scripts wait for this line.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", started.url);
        let _ = out.flush();
        if open && let Err(e) = open_browser(&started.url) {
            super::warn(&t!("serve.cannot_open", error = e));
        }
    })
    .with_context(|| format!("cannot serve on {bind}:{port}"))?;
    // The server's runtime is gone; the books are closed here, on this thread.
    drop(books);
    super::note(t!("serve.stopped"));
    Ok(())
}

/// Where the calendar feed's token of `books` is kept: `feed-token-BOOKID` in the data
/// directory (made 0700 if absent); the file itself is written 0600 by the server.
fn feed_token_file(books: &solocrm_app::Books) -> Result<std::path::PathBuf> {
    let dir = crate::paths::data_dir()?;
    crate::paths::create_private_dir(&dir)?;
    Ok(dir.join(format!("feed-token-{}", books.book_id()?)))
}

/// Opens `url` in the desktop's browser.
fn open_browser(url: &str) -> std::io::Result<()> {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(program)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
}
