//! What the network sources and `pack publish` share: TLS set-up, the
//! runtime that drives the asynchronous HTTP clients, loopback detection,
//! and private, size-capped files for downloaded archives.
//!
//! A downloaded archive is written to a file in a directory only this
//! process can read and write (mode 0700), then offered to the activator
//! like any other archive: the activator extracts it into a private copy
//! and checks everything there. The cap on a download is the extraction
//! limits' own ([`ExtractLimits::max_archive_bytes`]), so a server cannot
//! fill the disk with an archive the activator would refuse anyway.
//!
//! [`ExtractLimits::max_archive_bytes`]: qorgan::pack::archive::ExtractLimits::max_archive_bytes

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use qorgan::source::RemoteProblem;

/// Makes sure rustls has a crypto provider: the HTTP clients are built
/// without one of their own. When the process has installed none, ring's
/// is installed as the process default; one installed before is kept.
pub(crate) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may install one in between: then theirs stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A runtime on the calling thread, for a source's blocking calls into an
/// asynchronous client. It must not be used from inside another tokio
/// runtime: sources are polled from their own thread ([`Watcher`](qorgan::source::Watcher))
/// or from synchronous code.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Whether `host` (with or without a port) names this machine's loopback
/// interface: `localhost`, `127.0.0.0/8` or `[::1]`. Only there is plain
/// HTTP to a registry allowed.
pub(crate) fn is_loopback(host: &str) -> bool {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A private directory for downloaded archives, removed with the source.
#[derive(Debug)]
pub(crate) struct Downloads {
    dir: tempfile::TempDir,
    next: u64,
}

impl Downloads {
    /// A new private directory in the system's temporary directory.
    pub(crate) fn new(prefix: &str) -> std::io::Result<Downloads> {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(Downloads { dir, next: 0 })
    }

    /// The directory.
    #[cfg(test)]
    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A new file for the next archive, capped at `max` bytes.
    pub(crate) fn create(&mut self, max: u64) -> Result<CappedFile, RemoteProblem> {
        self.next = self.next.saturating_add(1);
        let path = self
            .dir
            .path()
            .join(format!("download-{}.qpack", self.next));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| RemoteProblem::Io {
                path: path.clone(),
                source,
            })?;
        Ok(CappedFile {
            file,
            path,
            written: 0,
            max,
            over: false,
        })
    }

    /// Removes every download but `keep`.
    pub(crate) fn remove_all_but(&self, keep: Option<&Path>) {
        let Ok(entries) = std::fs::read_dir(self.dir.path()) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if Some(path.as_path()) != keep {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// A file that refuses to grow past its cap: a write that would take it
/// over fails, and [`CappedFile::over`] says so.
#[derive(Debug)]
pub(crate) struct CappedFile {
    file: std::fs::File,
    path: PathBuf,
    written: u64,
    max: u64,
    over: bool,
}

impl CappedFile {
    /// Where it is.
    #[cfg(test)]
    fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a write was refused for the cap.
    #[cfg(test)]
    fn over(&self) -> bool {
        self.over
    }

    /// Flushes the file to disk and closes it; its path.
    pub(crate) fn finish(self) -> Result<PathBuf, RemoteProblem> {
        self.file.sync_all().map_err(|source| RemoteProblem::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.path)
    }

    /// Removes the file (a failed or refused download).
    pub(crate) fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }

    /// The problem of a write that failed: the cap, or the disk.
    pub(crate) fn problem(&self, error: std::io::Error) -> RemoteProblem {
        if self.over {
            RemoteProblem::TooLarge { max: self.max }
        } else {
            RemoteProblem::Io {
                path: self.path.clone(),
                source: error,
            }
        }
    }
}

impl Write for CappedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let after = self.written.saturating_add(buf.len() as u64);
        if after > self.max {
            self.over = true;
            return Err(std::io::Error::other(format!(
                "the archive is larger than {} bytes",
                self.max
            )));
        }
        let n = self.file.write(buf)?;
        self.written = self.written.saturating_add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The asynchronous clients write downloads through this; the writes are
/// to a local file, done at once.
impl tokio::io::AsyncWrite for CappedFile {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Write::write(self.get_mut(), buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Write::flush(self.get_mut()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Write::flush(self.get_mut()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_with_and_without_ports() {
        for host in [
            "localhost",
            "LOCALHOST:5000",
            "127.0.0.1",
            "127.0.0.1:5000",
            "127.8.9.10:80",
            "[::1]",
            "[::1]:5000",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "registry.afm.kz",
            "registry.afm.kz:5000",
            "10.0.0.7:5000",
            "localhost.afm.kz",
            "[2001:db8::1]:443",
            "",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn a_download_past_its_cap_is_refused_and_named_too_large() {
        let mut downloads = match Downloads::new("qorgan-test-") {
            Ok(d) => d,
            Err(e) => panic!("downloads: {e}"),
        };
        let mut file = match downloads.create(10) {
            Ok(f) => f,
            Err(e) => panic!("create: {e}"),
        };
        assert!(file.write_all(b"0123456789").is_ok());
        let error = match file.write_all(b"x") {
            Ok(()) => panic!("wrote past the cap"),
            Err(e) => e,
        };
        assert!(file.over());
        assert!(matches!(
            file.problem(error),
            RemoteProblem::TooLarge { max: 10 }
        ));
        let path = file.path().to_path_buf();
        file.discard();
        assert!(!path.exists());

        let kept = match downloads.create(10).and_then(CappedFile::finish) {
            Ok(p) => p,
            Err(e) => panic!("create: {e}"),
        };
        let other = match downloads.create(10).and_then(CappedFile::finish) {
            Ok(p) => p,
            Err(e) => panic!("create: {e}"),
        };
        downloads.remove_all_but(Some(&kept));
        assert!(kept.exists() && !other.exists());
        assert!(kept.starts_with(downloads.path()));
    }
}
