//! A pack offered for activation: where it is, not yet what it is.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::pack::archive::EXTENSION;

/// A pack offered to the [`super::Activator`]. Nothing about it is trusted
/// until the activation pipeline has checked it.
///
/// Sources that fetch packs from elsewhere (HTTP, an OCI registry) store
/// what they fetched in a private local file and offer it as
/// [`Candidate::Fetched`], which remembers where the bytes came from: the
/// activated pack's `origin` then names the URL or registry reference, not a
/// temporary file. The enum is non-exhaustive so that kinds of candidates can
/// be added.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Candidate {
    /// A pack directory.
    Dir(PathBuf),
    /// A `.qpack` archive of a pack.
    Archive(PathBuf),
    /// A `.qpack` archive a source downloaded into `path`, from `from` (a
    /// URL or a registry reference with its digest).
    Fetched {
        /// The local copy.
        path: PathBuf,
        /// Where it was fetched from.
        from: String,
    },
}

impl Candidate {
    /// The candidate at `path`: a directory is a pack directory, anything
    /// else an archive (extraction refuses what is not one).
    pub fn from_path(path: impl Into<PathBuf>) -> Candidate {
        let path = path.into();
        if path.is_dir() {
            Candidate::Dir(path)
        } else {
            Candidate::Archive(path)
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        match self {
            Candidate::Dir(path) | Candidate::Archive(path) | Candidate::Fetched { path, .. } => {
                path
            }
        }
    }

    /// Whether `path` names a pack archive by its extension.
    pub fn is_archive_name(path: &Path) -> bool {
        path.extension().is_some_and(|e| e == EXTENSION)
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Candidate::Dir(path) => write!(f, "pack directory {}", path.display()),
            Candidate::Archive(path) => write!(f, "pack archive {}", path.display()),
            Candidate::Fetched { from, .. } => write!(f, "pack archive from {from}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_a_pack_directory_and_a_file_an_archive() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        assert!(matches!(
            Candidate::from_path(dir.path()),
            Candidate::Dir(_)
        ));
        let file = dir.path().join("kz-afm.qpack");
        assert!(matches!(Candidate::from_path(&file), Candidate::Archive(_)));
        assert!(Candidate::is_archive_name(&file));
        assert!(!Candidate::is_archive_name(Path::new("kz-afm.tar")));
        assert_eq!(
            Candidate::Archive(file.clone()).to_string(),
            format!("pack archive {}", file.display())
        );
    }

    #[test]
    fn a_fetched_archive_names_where_it_came_from_not_its_local_copy() {
        let fetched = Candidate::Fetched {
            path: PathBuf::from("/var/tmp/qorgan-download-1.qpack"),
            from: "oci://127.0.0.1:5000/afm/kz-afm@sha256:ab12".into(),
        };
        assert_eq!(
            fetched.to_string(),
            "pack archive from oci://127.0.0.1:5000/afm/kz-afm@sha256:ab12"
        );
        assert_eq!(
            fetched.path(),
            Path::new("/var/tmp/qorgan-download-1.qpack")
        );
    }
}
