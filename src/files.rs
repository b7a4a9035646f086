//! Every file the user names, read bounded and written atomically: the one reader and the one
//! writer of the tool (the inspected system's files go through `probe::rootfs`, which reads
//! the same way under `--root`).
//!
//! Nothing the tool reads is trusted, whoever named it: a profile, a feed, the feed cache, a
//! report, a bundle, a chain or an anchor may be `/dev/zero`, a FIFO nobody writes to, a
//! directory or a gigabyte. So a read opens without blocking, takes regular files only, and
//! stops at a cap of the file's kind; anything else is one line naming the file. A write goes
//! to a temporary file in the target's directory, is synced, then renamed over the target:
//! the rename replaces a symlink planted at the name instead of following it, and a full disk
//! or an interrupted write leaves the previous file as it was. A name that leads to a stream
//! the user may mean (`/dev/null`, `/dev/stdout`, a FIFO, a terminal) is written through
//! instead: renaming over it would replace the device node itself.

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::error::InputError;

/// What a file is for, which bounds its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A profile (TOML).
    Profile,
    /// A Zscaler feed (`--cidrs`, `feed update --from`): the real ones are under 1 MiB.
    Feed,
    /// The feed cache `feed update` wrote.
    FeedCache,
    /// A JSON report (`explain`): 200,000 names make about 60 MiB.
    Report,
    /// A support bundle (gzip'd tar).
    Bundle,
    /// A certificate chain or a pasted transcript (`explain --chain`).
    Chain,
    /// PEM anchors (`--trust`, `feed update --ca`).
    Anchor,
}

impl Kind {
    /// The most bytes a file of this kind may hold.
    pub const fn cap(self) -> u64 {
        const MIB: u64 = 1024 * 1024;
        match self {
            Kind::Profile | Kind::Chain | Kind::Anchor => MIB,
            Kind::Feed | Kind::FeedCache => 16 * MIB,
            Kind::Report => 128 * MIB,
            Kind::Bundle => 64 * MIB,
        }
    }

    /// What the error calls it.
    pub const fn noun(self) -> &'static str {
        match self {
            Kind::Profile => "a profile",
            Kind::Feed => "a feed",
            Kind::FeedCache => "a cached feed",
            Kind::Report => "a report",
            Kind::Bundle => "a bundle",
            Kind::Chain => "a certificate chain",
            Kind::Anchor => "a CA file",
        }
    }
}

/// The bytes of `path`, a regular file of at most `kind`'s cap.
pub fn read_bytes(path: &Path, kind: Kind) -> Result<Vec<u8>, InputError> {
    let shown = path.display().to_string();
    let read_error = |source| InputError::Read {
        file: shown.clone(),
        source,
    };
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    let file_type = meta.file_type();
    if !file_type.is_file() {
        let what = if file_type.is_dir() {
            "a directory"
        } else if file_type.is_fifo() {
            "a pipe"
        } else if file_type.is_char_device() || file_type.is_block_device() {
            "a device"
        } else if file_type.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        };
        return Err(InputError::invalid(
            shown,
            format!(
                "is {what}, not a regular file: {} must be a file",
                kind.noun()
            ),
        ));
    }
    too_large(&shown, meta.len(), kind)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow after the stat: the cap holds whatever it does.
    file.take(kind.cap() + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    too_large(&shown, bytes.len() as u64, kind)?;
    Ok(bytes)
}

/// The text of `path`, as [`read_bytes`] reads it, which must be UTF-8.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, InputError> {
    let bytes = read_bytes(path, kind)?;
    String::from_utf8(bytes).map_err(|e| {
        InputError::invalid(
            path.display().to_string(),
            format!(
                "is not UTF-8 text (byte {} is not): {} is text",
                e.utf8_error().valid_up_to(),
                kind.noun()
            ),
        )
    })
}

fn too_large(shown: &str, len: u64, kind: Kind) -> Result<(), InputError> {
    if len > kind.cap() {
        return Err(InputError::invalid(
            shown,
            format!(
                "is larger than {} MiB, more than {} can be",
                kind.cap() / (1024 * 1024),
                kind.noun()
            ),
        ));
    }
    Ok(())
}

/// A reader that fails, instead of ending, once more than `cap` bytes came through: a
/// decompressor's output is bounded by what it expands to, not by the attachment's size.
pub struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Capped<R> {
    /// `inner`, allowed to yield `cap` bytes.
    pub fn new(inner: R, cap: u64) -> Capped<R> {
        Capped {
            inner,
            left: cap,
            cap,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One byte more means the cap was passed; exactly `cap` bytes is fine.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(format!(
                    "expands past {} MiB",
                    self.cap / (1024 * 1024)
                ))),
            };
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Writes `path` atomically with what `write` produces: a temporary file in the same
/// directory, synced, then renamed over `path`. On any failure the temporary file is removed
/// and whatever was at `path` before is left as it was. `mode` is the new file's permissions.
pub fn write_atomic(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // This process's own standard streams, by the names a shell gives them: written to the
    // stream itself. Resolved as a path, `/dev/stdout` redirected to a file is that file, and
    // renaming over the name would replace the `/dev/stdout` symlink.
    let own = |fd: u32| {
        [format!("/dev/fd/{fd}"), format!("/proc/self/fd/{fd}")]
            .iter()
            .any(|p| path == Path::new(p))
    };
    if path == Path::new("/dev/stdout") || own(1) {
        let mut out = std::io::stdout().lock();
        write(&mut out)?;
        return out.flush();
    }
    if path == Path::new("/dev/stderr") || own(2) {
        let mut out = std::io::stderr().lock();
        write(&mut out)?;
        return out.flush();
    }
    if path.starts_with("/dev/fd") || path.starts_with("/proc/self/fd") {
        return Err(std::io::Error::other(
            "a descriptor other than stdout or stderr: name the file itself",
        ));
    }
    write_to(path, mode, true, write)
}

/// Writes a file the tool names itself (the feed cache, a spool): always replaced atomically,
/// whatever was planted at the name (a FIFO too: it is never opened, so never waited on).
pub fn replace_atomic(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_to(path, mode, false, write)
}

fn write_to(
    path: &Path,
    mode: u32,
    streams: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // What the name leads to decides: a stream (`--output /dev/null`, `/dev/stdout` on a
    // pipe or a terminal, a FIFO) is written through, since renaming a file over it would
    // replace the device node itself; a directory or any other device is refused; a regular
    // file, or nothing, is replaced atomically.
    // The name itself decides, never what a symlink planted there points at: a symlink is
    // always replaced (one aimed at a FIFO would hand an owner-only report to its reader).
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && streams
        && !meta.file_type().is_symlink()
        && let Some(stream) = stream(path, &meta)?
    {
        let mut out = std::io::BufWriter::new(stream);
        write(&mut out)?;
        return out.flush();
    }
    let temp = tempfile::Builder::new()
        .prefix(".zpa-preflight-")
        .tempfile_in(dir)?;
    let mut out = std::io::BufWriter::new(temp);
    write(&mut out)?;
    out.flush()?;
    let temp = out.into_inner().map_err(|e| e.into_error())?;
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    temp.as_file().sync_all()?;
    // rename(2) replaces the name itself: a symlink planted at `path` is replaced, never
    // followed, so the file it points to is untouched.
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The stream `path` leads to, opened for writing, when it is one the user may mean to write
/// to: a FIFO, `/dev/null`, or a terminal. `None` for a regular file; an error for anything
/// else (a directory, a disk, `/dev/mem`).
fn stream(path: &Path, meta: &std::fs::Metadata) -> std::io::Result<Option<std::fs::File>> {
    use std::os::unix::fs::MetadataExt;
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(None);
    }
    if kind.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    // Non-blocking: a FIFO nobody reads is an error at once (ENXIO), not a wait forever. The
    // writes that follow are to a reader that is there.
    let open = || {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
            .open(path)?;
        nix::fcntl::fcntl(
            &file,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
        )
        .map_err(std::io::Error::from)?;
        Ok::<_, std::io::Error>(file)
    };
    // /dev/null is character device 1:3 on Linux.
    let dev_null = kind.is_char_device() && meta.rdev() == libc::makedev(1, 3);
    if kind.is_fifo() || kind.is_socket() || dev_null {
        return open().map(Some);
    }
    if kind.is_char_device() {
        let file = open()?;
        if std::io::IsTerminal::is_terminal(&file) {
            return Ok(Some(file));
        }
    }
    Err(std::io::Error::other(
        "is a device: only a regular file, a FIFO, /dev/null or a terminal is written",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fine = dir.path().join("fine.toml");
        std::fs::write(&fine, "name = 'x'\n").unwrap();
        assert_eq!(read_text(&fine, Kind::Profile).unwrap(), "name = 'x'\n");

        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'a'; Kind::Chain.cap() as usize + 1]).unwrap();
        let error = read_bytes(&big, Kind::Chain).unwrap_err().to_string();
        assert!(error.contains("larger than 1 MiB"), "{error}");

        let exact = dir.path().join("exact.pem");
        std::fs::write(&exact, vec![b'a'; Kind::Chain.cap() as usize]).unwrap();
        assert!(read_bytes(&exact, Kind::Chain).is_ok());

        let error = read_bytes(dir.path(), Kind::Report)
            .unwrap_err()
            .to_string();
        assert!(error.contains("is a directory"), "{error}");

        // A FIFO nobody writes to: refused at once, never waited on.
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let error = read_bytes(&fifo, Kind::FeedCache).unwrap_err().to_string();
        assert!(error.contains("is a pipe"), "{error}");

        let error = read_bytes(Path::new("/dev/zero"), Kind::Feed)
            .unwrap_err()
            .to_string();
        assert!(error.contains("is a device"), "{error}");

        let latin1 = dir.path().join("latin1.toml");
        std::fs::write(&latin1, b"name = '\xe9'\n").unwrap();
        let error = read_text(&latin1, Kind::Profile).unwrap_err().to_string();
        assert!(error.contains("not UTF-8"), "{error}");
    }

    #[test]
    fn a_capped_reader_fails_past_its_cap() {
        let mut out = Vec::new();
        Capped::new(&[1u8; 10][..], 10)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len(), 10);
        let error = Capped::new(&[1u8; 11][..], 10)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(error.to_string().contains("expands past"), "{error}");
    }

    /// Found by the hostile round: `--output /dev/null` as root turned the device node into a
    /// regular file. A stream is written through; the node stays what it was.
    #[test]
    fn dev_null_and_a_fifo_are_written_through_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        write_atomic(Path::new("/dev/null"), 0o600, |w| w.write_all(b"report")).unwrap();
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // Nobody reads: an error at once, never a wait.
        assert!(write_atomic(&fifo, 0o600, |w| w.write_all(b"x")).is_err());
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        write_atomic(&fifo, 0o600, |w| w.write_all(b"through")).unwrap();
        let mut got = [0u8; 16];
        let n = reader.read(&mut got).unwrap();
        assert_eq!(&got[..n], b"through");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        // A FIFO planted where the tool keeps its own file is replaced, never opened.
        replace_atomic(&fifo, 0o644, |w| w.write_all(b"cache")).unwrap();
        assert_eq!(std::fs::read(&fifo).unwrap(), b"cache");
        let error = write_atomic(dir.path(), 0o600, |w| w.write_all(b"x")).unwrap_err();
        assert!(error.to_string().contains("directory"), "{error}");
    }

    #[test]
    fn an_atomic_write_replaces_a_symlink_and_keeps_the_old_file_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("passwd");
        std::fs::write(&victim, "root:x:0:0\n").unwrap();
        let out = dir.path().join("bundle.tar.gz");
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        write_atomic(&out, 0o600, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root:x:0:0\n");
        assert!(!std::fs::symlink_metadata(&out).unwrap().is_symlink());
        assert_eq!(std::fs::read(&out).unwrap(), b"new");

        // A writer that fails halfway (a full disk): the previous file stays whole.
        let error = write_atomic(&out, 0o600, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("No space left on device"))
        });
        assert!(error.is_err());
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 2, "no temporary file left: {left:?}");
    }
}
