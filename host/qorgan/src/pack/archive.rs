//! `.qpack` files: a pack directory in one file, for transport.
//!
//! A `.qpack` is a tar stream of the pack directory's regular files
//! (`pack.toml`, components, lists, test cases, `signatures/`), gzip-
//! compressed by default. It adds nothing to the pack: what is trusted is
//! the signatures inside, checked after extraction.
//!
//! **Writing is deterministic**, so the same pack gives the same bytes on
//! any machine: entries in path order (byte order), regular files only (no
//! directory entries), GNU headers, mode 0644, uid and gid 0, no user or
//! group names, mtime 0; the gzip header has mtime 0, no file name and OS
//! 255 ("unknown").
//!
//! **Extraction treats the archive as hostile.** It refuses absolute paths,
//! `..`, names that are not portable text, symbolic and hard links,
//! devices, FIFOs, sparse files and pax global headers; caps the number of
//! entries, the size of each file and the total size (the uncompressed
//! stream included, so a decompression bomb stops at the cap); refuses a
//! truncated or corrupted stream, a path that appears twice and data after
//! the end of the archive. It writes into a fresh temporary directory next
//! to the destination and renames it into place only when everything was
//! read, so a refused archive leaves nothing behind.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::MANIFEST;
use super::errors::{ArchiveError, ArchiveLimit};
use super::files::{PackFile, WalkError, portable_component, regular_files};
use super::sha256_hex;

/// The file extension of pack archives.
pub const EXTENSION: &str = "qpack";

/// The longest path in an archive, in bytes.
const MAX_PATH: u64 = 4096;
/// The largest pax extended header read.
const MAX_PAX_HEADER: u64 = 64 * 1024;
/// Tar's block size.
const BLOCK: u64 = 512;

/// How an archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// gzip (the default).
    #[default]
    Gzip,
    /// A plain tar stream.
    None,
}

/// The caps extraction applies to an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Entries (files and directories).
    pub max_entries: u64,
    /// Bytes in one file.
    pub max_file_bytes: u64,
    /// Bytes in all files together.
    pub max_total_bytes: u64,
}

impl Default for ExtractLimits {
    /// 10,000 entries, 256 MiB per file, 1 GiB in total: far above any rule
    /// pack (a component is a few hundred KiB), far below what would hurt a
    /// host.
    fn default() -> Self {
        ExtractLimits {
            max_entries: 10_000,
            max_file_bytes: 256 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
        }
    }
}

impl ExtractLimits {
    /// The most bytes an archive within these limits can take as a plain
    /// tar stream: the files' data, plus per entry at most three header
    /// blocks and their padding (a long name, a pax header and the entry's
    /// own), plus a tar record of trailing zeros. Extraction caps the
    /// uncompressed stream at this; a download caps the archive itself at
    /// it (compression only makes an archive smaller than its stream).
    pub fn max_archive_bytes(&self) -> u64 {
        self.max_total_bytes
            .saturating_add(self.max_entries.saturating_add(2).saturating_mul(6 * BLOCK))
            .saturating_add(20 * BLOCK)
    }
}

/// What was written by [`write_archive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSummary {
    /// Files in the archive.
    pub files: usize,
    /// Their bytes, uncompressed.
    pub content_bytes: u64,
    /// The archive's bytes.
    pub archive_bytes: u64,
    /// The archive's sha256, hex.
    pub sha256: String,
}

/// What an extraction wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extracted {
    /// Files written.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// An archive extracted into a private temporary directory, removed when
/// this is dropped.
#[derive(Debug)]
pub struct ExtractedPack {
    dir: crate::scratch::ScratchDir,
    /// What was written.
    pub summary: Extracted,
}

impl ExtractedPack {
    /// The pack directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The archive of the pack in `dir`, in memory.
pub fn archive_bytes(dir: &Path, compression: Compression) -> Result<Vec<u8>, ArchiveError> {
    let files = pack_files(dir)?;
    let (bytes, _) = write_to(&files, Vec::new(), compression)?;
    Ok(bytes)
}

/// Writes the archive of the pack in `dir` to `out` (replacing it only once
/// the whole archive is written).
pub fn write_archive(
    dir: &Path,
    out: &Path,
    compression: Compression,
) -> Result<ArchiveSummary, ArchiveError> {
    let files = pack_files(dir)?;
    let (bytes, content_bytes) = write_to(&files, Vec::new(), compression)?;
    crate::atomic::replace(out, &bytes).map_err(|e| ArchiveError::io(e.path, e.source))?;
    Ok(ArchiveSummary {
        files: files.len(),
        content_bytes,
        archive_bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
    })
}

/// The files an archive of `dir` carries: all of them, checked against the
/// default extraction limits so that no archive is written that a host
/// would refuse.
fn pack_files(dir: &Path) -> Result<Vec<PackFile>, ArchiveError> {
    let files = regular_files(dir, &[]).map_err(|e| match e {
        WalkError::Io { path, source } => ArchiveError::io(path, source),
        WalkError::Unsupported { path, problem } => ArchiveError::UnsupportedFile {
            path,
            problem: problem.into(),
        },
    })?;
    if !files.iter().any(|f| f.relative == MANIFEST) {
        return Err(ArchiveError::NotAPack);
    }
    let limits = ExtractLimits::default();
    if files.len() as u64 > limits.max_entries {
        return Err(ArchiveError::LimitExceeded {
            limit: ArchiveLimit::Entries,
            max: limits.max_entries,
            path: None,
        });
    }
    Ok(files)
}

fn write_to<W: Write>(
    files: &[PackFile],
    out: W,
    compression: Compression,
) -> Result<(W, u64), ArchiveError> {
    match compression {
        Compression::None => write_tar(files, out),
        Compression::Gzip => {
            let encoder = flate2::GzBuilder::new()
                .mtime(0)
                .operating_system(255)
                .write(out, flate2::Compression::default());
            let (encoder, total) = write_tar(files, encoder)?;
            let out = encoder
                .finish()
                .map_err(|e| ArchiveError::io("<archive>", e))?;
            Ok((out, total))
        }
    }
}

fn write_tar<W: Write>(files: &[PackFile], out: W) -> Result<(W, u64), ArchiveError> {
    let limits = ExtractLimits::default();
    let mut builder = tar::Builder::new(out);
    let mut total: u64 = 0;
    for file in files {
        let bytes = std::fs::read(&file.path).map_err(|e| ArchiveError::io(&file.path, e))?;
        let size = bytes.len() as u64;
        if size > limits.max_file_bytes {
            return Err(ArchiveError::LimitExceeded {
                limit: ArchiveLimit::FileBytes,
                max: limits.max_file_bytes,
                path: Some(file.relative.clone()),
            });
        }
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(ArchiveError::LimitExceeded {
                limit: ArchiveLimit::TotalBytes,
                max: limits.max_total_bytes,
                path: Some(file.relative.clone()),
            });
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(size);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        builder
            .append_data(&mut header, &file.relative, bytes.as_slice())
            .map_err(|e| ArchiveError::io(&file.path, e))?;
    }
    let out = builder
        .into_inner()
        .map_err(|e| ArchiveError::io("<archive>", e))?;
    Ok((out, total))
}

/// Extracts the archive file `archive` into the new directory `out`.
pub fn extract(
    archive: &Path,
    out: &Path,
    limits: &ExtractLimits,
) -> Result<Extracted, ArchiveError> {
    let file = std::fs::File::open(archive).map_err(|e| ArchiveError::io(archive, e))?;
    extract_from(file, out, limits)
}

/// Extracts an archive read from `reader` into the new directory `out`:
/// into a temporary directory beside it first, renamed into place once the
/// whole archive was read and found to be a pack.
pub fn extract_from<R: Read>(
    reader: R,
    out: &Path,
    limits: &ExtractLimits,
) -> Result<Extracted, ArchiveError> {
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(ArchiveError::DestinationExists {
            path: out.to_path_buf(),
        });
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| ArchiveError::io(&parent, e))?;
    let temp = crate::scratch::ScratchDir::new_in(&parent, ".qpack-extract-")
        .map_err(|e| ArchiveError::io(&parent, e))?;
    let summary = unpack(reader, temp.path(), limits)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| ArchiveError::io(temp.path(), e))?;
    }
    let kept = temp.keep();
    if let Err(e) = std::fs::rename(&kept, out) {
        let _ = std::fs::remove_dir_all(&kept);
        return Err(ArchiveError::io(out, e));
    }
    Ok(summary)
}

/// Extracts the archive file `archive` into a private temporary directory.
pub fn extract_to_temp(
    archive: &Path,
    limits: &ExtractLimits,
) -> Result<ExtractedPack, ArchiveError> {
    let file = std::fs::File::open(archive).map_err(|e| ArchiveError::io(archive, e))?;
    let dir = crate::scratch::ScratchDir::new("qorgan-pack-")
        .map_err(|e| ArchiveError::io(std::env::temp_dir(), e))?;
    let summary = unpack(file, dir.path(), limits)?;
    Ok(ExtractedPack { dir, summary })
}

/// Copies the pack directory `dir` into a private temporary directory, with
/// the refusals and caps of extraction: a symbolic link, device or FIFO, a
/// name that is not portable text, more entries, bigger files or more bytes
/// than `limits` allow, and a directory without `pack.toml`.
///
/// A directory that others can write may change between the moment its
/// signatures are verified and the moment its files are loaded; a private
/// copy cannot, so verifying and loading the copy loads what was verified.
pub fn copy_to_temp(dir: &Path, limits: &ExtractLimits) -> Result<ExtractedPack, ArchiveError> {
    let files = regular_files(dir, &[]).map_err(|e| match e {
        WalkError::Io { path, source } => ArchiveError::io(path, source),
        WalkError::Unsupported { path, problem } => ArchiveError::UnsupportedFile {
            path,
            problem: problem.into(),
        },
    })?;
    if !files.iter().any(|f| f.relative == MANIFEST) {
        return Err(ArchiveError::NotAPack);
    }
    if files.len() as u64 > limits.max_entries {
        return Err(ArchiveError::LimitExceeded {
            limit: ArchiveLimit::Entries,
            max: limits.max_entries,
            path: None,
        });
    }
    let temp = crate::scratch::ScratchDir::new("qorgan-pack-")
        .map_err(|e| ArchiveError::io(std::env::temp_dir(), e))?;
    let mut summary = Extracted { files: 0, bytes: 0 };
    for file in &files {
        if file.relative.len() as u64 > MAX_PATH {
            return Err(ArchiveError::LimitExceeded {
                limit: ArchiveLimit::PathBytes,
                max: MAX_PATH,
                path: Some(file.relative.clone()),
            });
        }
        let target = temp.path().join(&file.relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ArchiveError::io(parent, e))?;
        }
        let source =
            std::fs::File::open(&file.path).map_err(|e| ArchiveError::io(&file.path, e))?;
        let mut out = std::fs::File::create(&target).map_err(|e| ArchiveError::io(&target, e))?;
        // One byte more than allowed tells a file over the cap from one at it.
        let copied = std::io::copy(
            &mut source.take(limits.max_file_bytes.saturating_add(1)),
            &mut out,
        )
        .map_err(|e| ArchiveError::io(&file.path, e))?;
        if copied > limits.max_file_bytes {
            return Err(ArchiveError::LimitExceeded {
                limit: ArchiveLimit::FileBytes,
                max: limits.max_file_bytes,
                path: Some(file.relative.clone()),
            });
        }
        summary.files += 1;
        summary.bytes = summary.bytes.saturating_add(copied);
        if summary.bytes > limits.max_total_bytes {
            return Err(ArchiveError::LimitExceeded {
                limit: ArchiveLimit::TotalBytes,
                max: limits.max_total_bytes,
                path: Some(file.relative.clone()),
            });
        }
    }
    Ok(ExtractedPack { dir: temp, summary })
}

/// Unpacks into the existing, empty directory `dest`, then checks that a
/// pack came out.
fn unpack<R: Read>(
    reader: R,
    dest: &Path,
    limits: &ExtractLimits,
) -> Result<Extracted, ArchiveError> {
    let mut input = BufReader::new(reader);
    let gzip = input
        .fill_buf()
        .map_err(|e| ArchiveError::io("<archive>", e))?
        .starts_with(&[0x1f, 0x8b]);
    let summary = if gzip {
        let (decoder, summary) = unpack_tar(flate2::bufread::GzDecoder::new(input), dest, limits)?;
        let mut rest = decoder.into_inner();
        let trailing = rest
            .fill_buf()
            .map_err(|e| ArchiveError::io("<archive>", e))?;
        if !trailing.is_empty() {
            return Err(corrupt("data after the end of the gzip stream"));
        }
        summary
    } else {
        unpack_tar(input, dest, limits)?.1
    };
    if !dest.join(MANIFEST).is_file() {
        return Err(ArchiveError::NotAPack);
    }
    Ok(summary)
}

fn corrupt(problem: impl Into<String>) -> ArchiveError {
    ArchiveError::Corrupt {
        problem: problem.into(),
    }
}

/// A reader that fails once more than `remaining` bytes are asked of it,
/// raising `hit`: the cap on the uncompressed stream.
struct Capped<R> {
    inner: R,
    remaining: u64,
    hit: Rc<Cell<bool>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.hit.set(true);
            return Err(std::io::Error::other("the archive exceeds its size limit"));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        self.remaining = self.remaining.saturating_sub(n as u64);
        Ok(n)
    }
}

/// Reads the tar stream; returns the underlying reader, drained to its
/// end, for the caller's own trailing checks.
fn unpack_tar<R: Read>(
    reader: R,
    dest: &Path,
    limits: &ExtractLimits,
) -> Result<(R, Extracted), ArchiveError> {
    let hit = Rc::new(Cell::new(false));
    let stream_cap = limits.max_archive_bytes();
    let capped = Capped {
        inner: reader,
        remaining: stream_cap,
        hit: Rc::clone(&hit),
    };
    let total_limit = |path: Option<String>| ArchiveError::LimitExceeded {
        limit: ArchiveLimit::TotalBytes,
        max: limits.max_total_bytes,
        path,
    };
    let stream_error = |e: std::io::Error| {
        if hit.get() {
            total_limit(None)
        } else {
            corrupt(e.to_string())
        }
    };

    let mut archive = tar::Archive::new(capped);
    let mut summary = Extracted { files: 0, bytes: 0 };
    {
        let entries = archive.entries().map_err(stream_error)?.raw(true);
        let mut state = State {
            dest,
            limits,
            seen_files: BTreeSet::new(),
            seen_dirs: BTreeSet::new(),
            entries: 0,
            total: 0,
            pending_path: None,
            pending_size: None,
            pending_pax: false,
        };
        for entry in entries {
            let entry = entry.map_err(stream_error)?;
            state.entry(entry, &stream_error)?;
        }
        if state.pending_path.is_some() || state.pending_pax {
            return Err(corrupt("an extension header with no entry after it"));
        }
        summary.files = state.seen_files.len() as u64;
        summary.bytes = state.total;
    }
    // Whatever follows the end-of-archive blocks must be zero padding; the
    // gzip decoder checks its CRC only when read to its end.
    let mut capped = archive.into_inner();
    let mut buf = [0u8; 8192];
    loop {
        let n = capped.read(&mut buf).map_err(stream_error)?;
        if n == 0 {
            break;
        }
        if buf.get(..n).is_some_and(|b| b.iter().any(|&x| x != 0)) {
            return Err(corrupt("data after the end of the archive"));
        }
    }
    Ok((capped.inner, summary))
}

struct State<'a> {
    dest: &'a Path,
    limits: &'a ExtractLimits,
    seen_files: BTreeSet<String>,
    seen_dirs: BTreeSet<String>,
    entries: u64,
    total: u64,
    pending_path: Option<Vec<u8>>,
    pending_size: Option<u64>,
    pending_pax: bool,
}

impl State<'_> {
    fn entry<R: Read>(
        &mut self,
        mut entry: tar::Entry<'_, R>,
        stream_error: &dyn Fn(std::io::Error) -> ArchiveError,
    ) -> Result<(), ArchiveError> {
        let kind = entry.header().entry_type();
        let size = entry
            .header()
            .entry_size()
            .map_err(|e| corrupt(e.to_string()))?;
        if kind.is_gnu_longname() {
            if self.pending_path.is_some() {
                return Err(corrupt("two long names for one entry"));
            }
            if size > MAX_PATH {
                return Err(ArchiveError::LimitExceeded {
                    limit: ArchiveLimit::PathBytes,
                    max: MAX_PATH,
                    path: None,
                });
            }
            let mut name = self.read_extension(&mut entry, size, stream_error)?;
            while name.last() == Some(&0) {
                name.pop();
            }
            self.pending_path = Some(name);
            return Ok(());
        }
        if kind.is_pax_local_extensions() {
            if size > MAX_PAX_HEADER {
                return Err(corrupt(format!(
                    "a pax header of {size} bytes (at most {MAX_PAX_HEADER})"
                )));
            }
            let data = self.read_extension(&mut entry, size, stream_error)?;
            return self.pax(&data);
        }

        let raw_path = match self.pending_path.take() {
            Some(path) => path,
            None => entry.header().path_bytes().into_owned(),
        };
        let shown = String::from_utf8_lossy(&raw_path).into_owned();
        let unsupported = |what: &str| ArchiveError::UnsupportedEntry {
            path: shown.clone(),
            kind: what.to_owned(),
        };
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Directory => {}
            tar::EntryType::Symlink => return Err(unsupported("symbolic link")),
            tar::EntryType::Link => return Err(unsupported("hard link")),
            tar::EntryType::Char => return Err(unsupported("character device")),
            tar::EntryType::Block => return Err(unsupported("block device")),
            tar::EntryType::Fifo => return Err(unsupported("FIFO")),
            tar::EntryType::GNUSparse => return Err(unsupported("sparse file")),
            tar::EntryType::GNULongLink => return Err(unsupported("GNU long link name")),
            tar::EntryType::XGlobalHeader => return Err(unsupported("pax global header")),
            other => {
                return Err(unsupported(&format!(
                    "entry of type `{}`",
                    char::from(other.as_byte()).escape_default()
                )));
            }
        }
        self.pending_pax = false;
        if let Some(pax_size) = self.pending_size.take()
            && pax_size != size
        {
            return Err(corrupt(format!(
                "`{shown}`: its pax size {pax_size} differs from its header's {size}"
            )));
        }
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(ArchiveError::LimitExceeded {
                limit: ArchiveLimit::Entries,
                max: self.limits.max_entries,
                path: Some(shown),
            });
        }
        let Some(relative) = safe_relative(&raw_path)? else {
            // `./` or `/`-only names the destination itself.
            return if kind == tar::EntryType::Directory {
                Ok(())
            } else {
                Err(ArchiveError::BadPath {
                    path: shown,
                    problem: "an empty path".into(),
                })
            };
        };
        let target = self.dest.join(&relative);
        if kind == tar::EntryType::Directory {
            if self.seen_files.contains(&relative) {
                return Err(ArchiveError::Duplicate { path: relative });
            }
            std::fs::create_dir_all(&target).map_err(|e| ArchiveError::io(&target, e))?;
            self.seen_dirs.insert(relative);
            return Ok(());
        }
        if self.seen_dirs.contains(&relative) || !self.seen_files.insert(relative.clone()) {
            return Err(ArchiveError::Duplicate { path: relative });
        }
        if size > self.limits.max_file_bytes {
            return Err(ArchiveError::LimitExceeded {
                limit: ArchiveLimit::FileBytes,
                max: self.limits.max_file_bytes,
                path: Some(relative),
            });
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total_bytes {
            return Err(ArchiveError::LimitExceeded {
                limit: ArchiveLimit::TotalBytes,
                max: self.limits.max_total_bytes,
                path: Some(relative),
            });
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ArchiveError::io(parent, e))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| ArchiveError::io(&target, e))?;
        let mut copied: u64 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = entry.read(&mut buf).map_err(stream_error)?;
            if n == 0 {
                break;
            }
            copied += n as u64;
            file.write_all(buf.get(..n).unwrap_or_default())
                .map_err(|e| ArchiveError::io(&target, e))?;
        }
        if copied != size {
            return Err(corrupt(format!(
                "`{relative}` is truncated: {copied} of {size} bytes"
            )));
        }
        Ok(())
    }

    /// Reads a GNU long name or pax header (its size already checked);
    /// counted in the total.
    fn read_extension<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        size: u64,
        stream_error: &dyn Fn(std::io::Error) -> ArchiveError,
    ) -> Result<Vec<u8>, ArchiveError> {
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total_bytes {
            return Err(ArchiveError::LimitExceeded {
                limit: ArchiveLimit::TotalBytes,
                max: self.limits.max_total_bytes,
                path: None,
            });
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(stream_error)?;
        if data.len() as u64 != size {
            return Err(corrupt("an extension header is truncated"));
        }
        Ok(data)
    }

    /// Applies a pax header to the next entry: its `path` and `size`.
    /// Sparse-file records are refused; other records (times, owners,
    /// extended attributes) are ignored, as extraction sets none of them.
    fn pax(&mut self, data: &[u8]) -> Result<(), ArchiveError> {
        if self.pending_pax {
            return Err(corrupt("two pax headers for one entry"));
        }
        self.pending_pax = true;
        for extension in tar::PaxExtensions::new(data) {
            let extension = extension.map_err(|e| corrupt(format!("pax header: {e}")))?;
            let key = extension
                .key()
                .map_err(|_| corrupt("pax header: a key that is not UTF-8"))?;
            match key {
                "path" => {
                    if self.pending_path.is_some() {
                        return Err(corrupt("two long names for one entry"));
                    }
                    self.pending_path = Some(extension.value_bytes().to_vec());
                }
                "size" => {
                    let size = extension
                        .value()
                        .ok()
                        .and_then(|v| v.parse::<u64>().ok())
                        .ok_or_else(|| corrupt("pax header: a size that is not a number"))?;
                    self.pending_size = Some(size);
                }
                key if key.starts_with("GNU.sparse.") => {
                    return Err(ArchiveError::UnsupportedEntry {
                        path: "(pax header)".into(),
                        kind: "sparse file".into(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The relative, `/`-separated path of an entry, refusing anything that
/// could leave the destination; `None` for the destination itself (`./`).
fn safe_relative(raw: &[u8]) -> Result<Option<String>, ArchiveError> {
    let shown = String::from_utf8_lossy(raw).into_owned();
    let bad = |problem: &str| ArchiveError::BadPath {
        path: shown.clone(),
        problem: problem.to_owned(),
    };
    if raw.len() as u64 > MAX_PATH {
        return Err(ArchiveError::LimitExceeded {
            limit: ArchiveLimit::PathBytes,
            max: MAX_PATH,
            path: None,
        });
    }
    let text = std::str::from_utf8(raw).map_err(|_| bad("not UTF-8"))?;
    if text.starts_with('/') {
        return Err(bad("an absolute path"));
    }
    let mut parts = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(bad("`..` would leave the pack")),
            part => {
                portable_component(part).map_err(bad)?;
                parts.push(part);
            }
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{tempdir, write};

    const LONG: &str = "tests/a-directory-with-a-rather-long-name/and-another-one-below-it/case-file-whose-path-exceeds-one-hundred-bytes.yaml";

    fn pack() -> tempfile::TempDir {
        let dir = tempdir();
        write(dir.path(), MANIFEST, b"name = \"p\"\n");
        write(dir.path(), "plugins/a.wasm", b"\0asm");
        write(dir.path(), "lists/l.txt", b"okx\n");
        write(dir.path(), "signatures/0123456789abcdef.sig", b"sig\n");
        write(dir.path(), LONG, b"cases: []\n");
        dir
    }

    fn bytes_of(dir: &Path, compression: Compression) -> Vec<u8> {
        match archive_bytes(dir, compression) {
            Ok(b) => b,
            Err(e) => panic!("archive: {e}"),
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = encoder.write_all(bytes);
        encoder.finish().unwrap_or_default()
    }

    /// A tar entry written by hand, with whatever name and type a hostile
    /// archive would use.
    fn raw_entry(out: &mut Vec<u8>, name: &[u8], kind: u8, data: &[u8], link: &[u8]) {
        let mut header = tar::Header::new_gnu();
        header.as_mut_bytes()[..name.len()].copy_from_slice(name);
        header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        header.set_mode(0o644);
        header.set_size(data.len() as u64);
        header.set_entry_type(tar::EntryType::new(kind));
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }

    /// A hand-made archive: a manifest, then the given entry, then the end.
    fn hostile(name: &[u8], kind: u8, data: &[u8], link: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        raw_entry(&mut out, b"pack.toml", b'0', b"name = \"p\"\n", b"");
        raw_entry(&mut out, name, kind, data, link);
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    fn refusal(archive: &[u8], limits: &ExtractLimits) -> (ArchiveError, tempfile::TempDir) {
        let root = tempdir();
        let out = root.path().join("out");
        match extract_from(archive, &out, limits) {
            Ok(summary) => panic!("extracted {summary:?}"),
            Err(e) => {
                assert!(!out.exists(), "a refused archive left {}", out.display());
                let left: Vec<_> = std::fs::read_dir(root.path())
                    .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
                    .unwrap_or_default();
                assert!(left.is_empty(), "a refused archive left {left:?}");
                (e, root)
            }
        }
    }

    #[test]
    fn the_same_pack_archives_to_the_same_bytes() {
        let first = pack();
        let second = pack();
        for compression in [Compression::Gzip, Compression::None] {
            let a = bytes_of(first.path(), compression);
            assert_eq!(a, bytes_of(first.path(), compression));
            assert_eq!(a, bytes_of(second.path(), compression));
        }
    }

    #[test]
    fn an_archive_round_trips_every_file_of_the_pack() {
        let source = pack();
        for compression in [Compression::Gzip, Compression::None] {
            let root = tempdir();
            let archive = root.path().join("p.qpack");
            let out = root.path().join("p");
            let written = write_archive(source.path(), &archive, compression);
            assert!(written.as_ref().is_ok_and(|s| s.files == 5), "{written:?}");
            let extracted = extract(&archive, &out, &ExtractLimits::default());
            assert!(extracted.is_ok_and(|e| e.files == 5), "{compression:?}");
            for name in [
                MANIFEST,
                "plugins/a.wasm",
                LONG,
                "signatures/0123456789abcdef.sig",
            ] {
                assert_eq!(
                    std::fs::read(out.join(name)).ok(),
                    std::fs::read(source.path().join(name)).ok(),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn a_directory_without_a_manifest_is_not_archived() {
        let dir = tempdir();
        write(dir.path(), "x.txt", b"x");
        assert!(matches!(
            archive_bytes(dir.path(), Compression::Gzip),
            Err(ArchiveError::NotAPack)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_in_the_pack_is_not_archived() {
        let dir = pack();
        let _ = std::os::unix::fs::symlink("/etc/passwd", dir.path().join("lists/passwd"));
        match archive_bytes(dir.path(), Compression::Gzip) {
            Err(ArchiveError::UnsupportedFile { path, .. }) => assert_eq!(path, "lists/passwd"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_path_that_climbs_out_of_the_destination_is_refused() {
        let archive = hostile(b"../evil.txt", b'0', b"x", b"");
        let (err, root) = refusal(&archive, &ExtractLimits::default());
        assert!(
            matches!(&err, ArchiveError::BadPath { path, .. } if path == "../evil.txt"),
            "{err}"
        );
        assert!(!root.path().join("evil.txt").exists());
        let archive = hostile(b"tests/../../evil.txt", b'0', b"x", b"");
        let (err, _) = refusal(&gzip(&archive), &ExtractLimits::default());
        assert!(
            err.to_string().contains("`..` would leave the pack"),
            "{err}"
        );
    }

    #[test]
    fn a_climbing_path_hidden_in_a_gnu_long_name_is_refused() {
        let mut archive = Vec::new();
        raw_entry(&mut archive, b"pack.toml", b'0', b"name = \"p\"\n", b"");
        let name = format!("{}/../../../evil.txt", "a/".repeat(60));
        raw_entry(&mut archive, b"././@LongLink", b'L', name.as_bytes(), b"");
        raw_entry(&mut archive, b"short", b'0', b"x", b"");
        archive.extend_from_slice(&[0u8; 1024]);
        let (err, _) = refusal(&archive, &ExtractLimits::default());
        assert!(matches!(err, ArchiveError::BadPath { .. }), "{err}");
    }

    #[test]
    fn an_absolute_path_is_refused() {
        let (err, _) = refusal(
            &hostile(b"/tmp/evil.txt", b'0', b"x", b""),
            &ExtractLimits::default(),
        );
        assert!(err.to_string().contains("an absolute path"), "{err}");
    }

    #[test]
    fn a_symbolic_link_entry_is_refused() {
        let archive = hostile(b"lists/l.txt", b'2', b"", b"/etc/passwd");
        let (err, _) = refusal(&archive, &ExtractLimits::default());
        assert_eq!(
            err.to_string(),
            "archive entry `lists/l.txt` is a symbolic link; a pack archive holds only files and directories"
        );
    }

    #[test]
    fn a_hard_link_entry_is_refused() {
        let (err, _) = refusal(
            &hostile(b"lists/l.txt", b'1', b"", b"/etc/passwd"),
            &ExtractLimits::default(),
        );
        assert!(err.to_string().contains("is a hard link"), "{err}");
    }

    #[test]
    fn device_and_fifo_entries_are_refused() {
        for (kind, what) in [
            (b'3', "character device"),
            (b'4', "block device"),
            (b'6', "FIFO"),
        ] {
            let (err, _) = refusal(&hostile(b"dev", kind, b"", b""), &ExtractLimits::default());
            assert!(err.to_string().contains(what), "{err}");
        }
    }

    #[test]
    fn a_path_that_appears_twice_is_refused() {
        let (err, _) = refusal(
            &hostile(b"pack.toml", b'0', b"x", b""),
            &ExtractLimits::default(),
        );
        assert!(matches!(err, ArchiveError::Duplicate { .. }), "{err}");
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_total_size_limit() {
        let limits = ExtractLimits {
            max_total_bytes: 1024 * 1024,
            ..ExtractLimits::default()
        };
        let mut tar = Vec::new();
        raw_entry(&mut tar, b"pack.toml", b'0', b"name = \"p\"\n", b"");
        for i in 0..4 {
            let name = format!("lists/zeros-{i}.txt");
            raw_entry(&mut tar, name.as_bytes(), b'0', &vec![0u8; 512 * 1024], b"");
        }
        tar.extend_from_slice(&[0u8; 1024]);
        let bomb = gzip(&tar);
        assert!(bomb.len() < 16 * 1024, "{} bytes", bomb.len());
        let (err, _) = refusal(&bomb, &limits);
        assert!(
            matches!(
                err,
                ArchiveError::LimitExceeded {
                    limit: ArchiveLimit::TotalBytes,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("1048576 bytes in total"), "{err}");
    }

    #[test]
    fn zeros_after_the_end_of_the_archive_stop_at_the_total_size_limit() {
        let limits = ExtractLimits {
            max_entries: 10,
            max_total_bytes: 64 * 1024,
            ..ExtractLimits::default()
        };
        let mut tar = hostile(b"x.txt", b'0', b"x", b"");
        tar.extend_from_slice(&vec![0u8; 8 * 1024 * 1024]);
        let (err, _) = refusal(&gzip(&tar), &limits);
        assert!(
            matches!(
                err,
                ArchiveError::LimitExceeded {
                    limit: ArchiveLimit::TotalBytes,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn an_oversized_file_hits_the_per_file_limit() {
        let limits = ExtractLimits {
            max_file_bytes: 1024,
            ..ExtractLimits::default()
        };
        let (err, _) = refusal(
            &hostile(b"lists/big.txt", b'0', &[b'x'; 2048], b""),
            &limits,
        );
        assert_eq!(
            err.to_string(),
            "archive exceeds the limit of 1024 bytes in one file at `lists/big.txt`"
        );
    }

    #[test]
    fn too_many_entries_hit_the_entry_limit() {
        let limits = ExtractLimits {
            max_entries: 1,
            ..ExtractLimits::default()
        };
        let (err, _) = refusal(&hostile(b"x.txt", b'0', b"x", b""), &limits);
        assert!(
            matches!(
                err,
                ArchiveError::LimitExceeded {
                    limit: ArchiveLimit::Entries,
                    max: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_truncated_archive_is_refused() {
        let source = pack();
        let plain = bytes_of(source.path(), Compression::None);
        let cut = &plain[..plain.len() / 2 + 100];
        let (err, _) = refusal(cut, &ExtractLimits::default());
        assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
        let gz = bytes_of(source.path(), Compression::Gzip);
        let (err, _) = refusal(&gz[..gz.len() - 20], &ExtractLimits::default());
        assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn a_corrupted_gzip_stream_is_refused() {
        let source = pack();
        let mut gz = bytes_of(source.path(), Compression::Gzip);
        // The CRC of the uncompressed data, in the trailer: only reading
        // the stream to its end finds it.
        let at = gz.len() - 8;
        gz[at] ^= 0xff;
        let (err, _) = refusal(&gz, &ExtractLimits::default());
        assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
        let mut gz = bytes_of(source.path(), Compression::Gzip);
        let middle = gz.len() / 2;
        gz[middle] ^= 0x55;
        let (err, _) = refusal(&gz, &ExtractLimits::default());
        assert!(
            matches!(
                err,
                ArchiveError::Corrupt { .. } | ArchiveError::BadPath { .. }
            ),
            "{err}"
        );
    }

    #[test]
    fn data_after_the_end_of_the_archive_is_refused() {
        let source = pack();
        let mut plain = bytes_of(source.path(), Compression::None);
        plain.extend_from_slice(b"hidden");
        let (err, _) = refusal(&plain, &ExtractLimits::default());
        assert!(
            err.to_string()
                .contains("data after the end of the archive"),
            "{err}"
        );
        let mut gz = bytes_of(source.path(), Compression::Gzip);
        gz.extend_from_slice(&gzip(b"more"));
        let (err, _) = refusal(&gz, &ExtractLimits::default());
        assert!(
            err.to_string().contains("after the end of the gzip stream"),
            "{err}"
        );
    }

    #[test]
    fn bytes_that_are_not_an_archive_are_refused() {
        let (err, _) = refusal(&[b'x'; 2000], &ExtractLimits::default());
        assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn an_archive_without_a_manifest_is_refused() {
        let mut tar = Vec::new();
        raw_entry(&mut tar, b"x.txt", b'0', b"x", b"");
        tar.extend_from_slice(&[0u8; 1024]);
        let (err, _) = refusal(&tar, &ExtractLimits::default());
        assert!(matches!(err, ArchiveError::NotAPack), "{err}");
    }

    #[test]
    fn an_existing_destination_is_not_replaced() {
        let source = pack();
        let root = tempdir();
        let out = root.path().join("out");
        write(&out, "keep.txt", b"mine");
        let result = extract_from(
            bytes_of(source.path(), Compression::Gzip).as_slice(),
            &out,
            &ExtractLimits::default(),
        );
        assert!(matches!(
            result,
            Err(ArchiveError::DestinationExists { .. })
        ));
        assert!(out.join("keep.txt").exists());
    }

    #[test]
    fn a_pack_directory_is_copied_whole_into_a_private_directory() {
        let source = pack();
        let copy = match copy_to_temp(source.path(), &ExtractLimits::default()) {
            Ok(c) => c,
            Err(e) => panic!("copy: {e}"),
        };
        assert_eq!(copy.summary.files, 5);
        for name in [
            MANIFEST,
            "plugins/a.wasm",
            "signatures/0123456789abcdef.sig",
            LONG,
        ] {
            assert_eq!(
                std::fs::read(copy.path().join(name)).ok(),
                std::fs::read(source.path().join(name)).ok(),
                "{name}"
            );
        }
        let kept = copy.path().to_path_buf();
        drop(copy);
        assert!(!kept.exists(), "the private copy outlived its owner");
    }

    #[test]
    fn copying_a_pack_directory_keeps_the_caps_of_extraction() {
        let source = pack();
        let limits = ExtractLimits {
            max_file_bytes: 4,
            ..ExtractLimits::default()
        };
        match copy_to_temp(source.path(), &limits) {
            Err(ArchiveError::LimitExceeded {
                limit: ArchiveLimit::FileBytes,
                ..
            }) => {}
            other => panic!("expected the file cap, got {other:?}"),
        }
        let empty = tempdir();
        assert!(matches!(
            copy_to_temp(empty.path(), &ExtractLimits::default()),
            Err(ArchiveError::NotAPack)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn copying_a_pack_directory_refuses_a_symbolic_link() {
        let source = pack();
        if let Err(e) = std::os::unix::fs::symlink("/etc/passwd", source.path().join("lists/x.txt"))
        {
            panic!("symlink: {e}");
        }
        match copy_to_temp(source.path(), &ExtractLimits::default()) {
            Err(ArchiveError::UnsupportedFile { path, .. }) => assert_eq!(path, "lists/x.txt"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
