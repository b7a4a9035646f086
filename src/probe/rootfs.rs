//! The inspected system's files, read as a chroot would see them.
//!
//! `--root` may be a mounted disk image or a fixture tree, and nothing in it is trusted: an
//! absolute symlink there (`etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf`, or a
//! hostile `etc/os-release -> /etc/shadow`) means a path inside the image, never one on the host
//! running the tool. So every path is resolved component by component under the root: an
//! absolute link target starts again at the root, `..` never climbs above it, and a chain of
//! links is cut after 40 (the kernel's own limit). Only regular files are read (a FIFO would
//! block, `/dev/zero` never end), and never more than a cap that suits what is read.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// Links followed in one resolution, at most (Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// Configuration files: far more than any real one.
pub const CONFIG_CAP: u64 = 1 << 20;

/// Logs: the newest part is what matters; read from the end.
pub const LOG_CAP: u64 = 8 << 20;

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not there (or a dangling link).
    #[error("no such file")]
    Missing,
    /// Not a regular file.
    #[error("not a regular file ({0}): not read")]
    NotRegular(&'static str),
    /// More links than a resolution may follow.
    #[error("too many symbolic links")]
    TooManyLinks,
    /// The OS refused.
    #[error("{0}")]
    Io(String),
}

/// The host path to open for `path`: resolved inside its root as a chroot would (a link in an
/// image never reaches a host file), or as given for a file of this host.
pub fn host_path(path: &crate::vm::VmPath) -> Result<PathBuf, Refusal> {
    if path.is_host() || path.root == Path::new("/") {
        return Ok(path.joined());
    }
    RootFs::new(&path.root).resolve(&path.rel)
}

/// The inspected system's tree.
#[derive(Debug, Clone, Copy)]
pub struct RootFs<'a> {
    root: &'a Path,
}

impl<'a> RootFs<'a> {
    /// The tree under `root` (`/` for this system).
    pub fn new(root: &'a Path) -> RootFs<'a> {
        RootFs { root }
    }

    /// `rel` (relative to the root, or absolute as the inspected system writes it) resolved
    /// inside the root: the host path to open.
    pub fn resolve(&self, rel: impl AsRef<Path>) -> Result<PathBuf, Refusal> {
        let start = rel.as_ref();
        // Components still to walk, in reverse order, owned (link targets add their own).
        let mut todo: Vec<std::ffi::OsString> = start
            .components()
            .rev()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_os_string()),
                Component::ParentDir => Some("..".into()),
                _ => None,
            })
            .collect();
        let mut resolved: Vec<std::ffi::OsString> = Vec::new();
        let mut links = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            let candidate = self.host_path(&resolved).join(&part);
            match std::fs::symlink_metadata(&candidate) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(Refusal::TooManyLinks);
                    }
                    let target =
                        std::fs::read_link(&candidate).map_err(|e| Refusal::Io(e.to_string()))?;
                    if target.is_absolute() {
                        // As a chroot would: an absolute target starts at the root again.
                        resolved.clear();
                    }
                    todo.extend(target.components().rev().filter_map(|c| match c {
                        Component::Normal(n) => Some(n.to_os_string()),
                        Component::ParentDir => Some("..".into()),
                        _ => None,
                    }));
                }
                Ok(_) => resolved.push(part),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Refusal::Missing),
                Err(e) => return Err(Refusal::Io(e.to_string())),
            }
        }
        Ok(self.host_path(&resolved))
    }

    fn host_path(&self, parts: &[std::ffi::OsString]) -> PathBuf {
        let mut path = self.root.to_path_buf();
        path.extend(parts);
        path
    }

    /// At most `cap` bytes of the regular file `rel`, as text.
    pub fn read(&self, rel: impl AsRef<Path>, cap: u64) -> Result<String, Refusal> {
        let rel = rel.as_ref();
        let path = self.resolve(rel)?;
        let file = open_regular(&path)?;
        record(rel);
        let mut bytes = Vec::new();
        file.take(cap)
            .read_to_end(&mut bytes)
            .map_err(|e| Refusal::Io(e.to_string()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Whether `rel` exists inside the root (as anything).
    pub fn exists(&self, rel: impl AsRef<Path>) -> bool {
        self.resolve(rel).is_ok()
    }
}

/// The files read under a root by this process, as the inspected system names them.
static READ: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

fn record(rel: &Path) {
    let name = rel.to_string_lossy().trim_start_matches('/').to_string();
    if let Ok(mut read) = READ.lock() {
        read.insert(name);
    }
}

/// Every file this process has read under a root (relative, sorted): the report lists them,
/// so a security team sees what was read, and a test holds the bundle to collecting each
/// configuration file among them ([`crate::vm::CONFIG_FILES`]).
pub fn files_read() -> Vec<String> {
    READ.lock()
        .map(|read| read.iter().cloned().collect())
        .unwrap_or_default()
}

/// Opens `path` if it is a regular file: asked before opening, since opening a FIFO blocks.
fn open_regular(path: &Path) -> Result<std::fs::File, Refusal> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Refusal::Missing,
        _ => Refusal::Io(e.to_string()),
    })?;
    let kind = meta.file_type();
    if !kind.is_file() {
        use std::os::unix::fs::FileTypeExt;
        return Err(Refusal::NotRegular(if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_block_device() || kind.is_char_device() {
            "a device"
        } else {
            "not a file"
        }));
    }
    std::fs::File::open(path).map_err(|e| Refusal::Io(e.to_string()))
}

/// How long a pipe handed in with `--log` is read when the caller has no deadline of its own.
pub const PIPE_WINDOW: std::time::Duration = std::time::Duration::from_secs(5);

/// The last `cap` bytes of a log the user named (`--log`, any path): a regular file is read
/// from its end; a pipe (`--log <(journalctl …)`) up to `cap`, and for `window` at most — a
/// pipe that never ends (`journalctl -f`) gives what it wrote by then. A FIFO nobody writes to
/// would block, so only a pipe handed to this process is read, never a named one.
pub fn read_log(path: &Path, cap: u64, window: std::time::Duration) -> Result<String, Refusal> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Refusal::Missing,
        _ => Refusal::Io(e.to_string()),
    })?;
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    let is_handed_pipe = kind.is_fifo()
        && (path.starts_with("/dev/fd")
            || path.starts_with("/proc/self/fd")
            || path == Path::new("/dev/stdin"));
    let mut file = if kind.is_file() || is_handed_pipe {
        std::fs::File::open(path).map_err(|e| Refusal::Io(e.to_string()))?
    } else {
        return open_regular(path).map(|_| String::new());
    };
    let mut bytes = Vec::new();
    if kind.is_file() && meta.len() > cap {
        file.seek(SeekFrom::Start(meta.len() - cap))
            .map_err(|e| Refusal::Io(e.to_string()))?;
        file.take(cap)
            .read_to_end(&mut bytes)
            .map_err(|e| Refusal::Io(e.to_string()))?;
        // Start at a whole line.
        if let Some(newline) = bytes.iter().position(|&b| b == b'\n') {
            bytes.drain(..=newline);
        }
    } else {
        let mut tail = read_pipe(file, cap.saturating_mul(4), window)?;
        let keep = tail
            .len()
            .saturating_sub(usize::try_from(cap).unwrap_or(usize::MAX));
        bytes = tail.split_off(keep);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Up to `limit` bytes of a pipe, for `window` at most. A blocking read cannot be cut short, so
/// a thread reads and this side stops listening at the deadline; the thread ends with the
/// process (or when the writer closes).
fn read_pipe(
    file: std::fs::File,
    limit: u64,
    window: std::time::Duration,
) -> Result<Vec<u8>, Refusal> {
    let (chunks, received) = std::sync::mpsc::channel::<std::io::Result<Vec<u8>>>();
    std::thread::spawn(move || {
        let mut file = file.take(limit);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if chunks.send(Ok(buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = chunks.send(Err(e));
                    break;
                }
            }
        }
    });
    let deadline = std::time::Instant::now() + window;
    let mut bytes = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match received.recv_timeout(left) {
            Ok(Ok(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(Err(e)) => return Err(Refusal::Io(e.to_string())),
            // The writer closed (or the limit was read), or the window is over.
            Err(_) => return Ok(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::create_dir_all(r.join("run/systemd/resolve")).unwrap();
        std::fs::write(
            r.join("run/systemd/resolve/stub-resolv.conf"),
            "nameserver 127.0.0.53\n",
        )
        .unwrap();
        symlink(
            "/run/systemd/resolve/stub-resolv.conf",
            r.join("etc/resolv.conf"),
        )
        .unwrap();
        symlink("/etc/shadow", r.join("etc/os-release")).unwrap();
        symlink("../../../../../../etc/passwd", r.join("etc/climb")).unwrap();
        symlink("loop-b", r.join("etc/loop-a")).unwrap();
        symlink("loop-a", r.join("etc/loop-b")).unwrap();
        std::fs::write(r.join("etc/big"), vec![b'x'; 4096]).unwrap();
        nix::unistd::mkfifo(&r.join("etc/fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        dir
    }

    #[test]
    fn links_resolve_inside_the_root() {
        let dir = tree();
        let fs = RootFs::new(dir.path());
        // The image's own resolver file, not the host's.
        assert_eq!(
            fs.read("etc/resolv.conf", CONFIG_CAP).unwrap(),
            "nameserver 127.0.0.53\n"
        );
        // Never the host's /etc/shadow or /etc/passwd.
        assert_eq!(fs.read("etc/os-release", CONFIG_CAP), Err(Refusal::Missing));
        assert_eq!(fs.read("etc/climb", CONFIG_CAP), Err(Refusal::Missing));
        assert_eq!(
            fs.read("/etc/../../etc/climb", CONFIG_CAP),
            Err(Refusal::Missing)
        );
        assert_eq!(
            fs.read("etc/loop-a", CONFIG_CAP),
            Err(Refusal::TooManyLinks)
        );
    }

    #[test]
    fn only_regular_files_and_never_more_than_the_cap() {
        let dir = tree();
        let fs = RootFs::new(dir.path());
        assert_eq!(
            fs.read("etc/fifo", CONFIG_CAP),
            Err(Refusal::NotRegular("a FIFO"))
        );
        assert_eq!(
            fs.read("etc", CONFIG_CAP),
            Err(Refusal::NotRegular("a directory"))
        );
        assert_eq!(fs.read("etc/big", 100).unwrap().len(), 100);
        let log = dir.path().join("etc/big");
        assert_eq!(
            read_log(&log, 100, PIPE_WINDOW).unwrap().len(),
            100,
            "the newest 100 bytes"
        );
        std::fs::write(&log, "old\n".repeat(100) + "new line\n").unwrap();
        assert!(
            read_log(&log, 20, PIPE_WINDOW)
                .unwrap()
                .ends_with("new line\n")
        );
        assert_eq!(
            read_log(&dir.path().join("etc/fifo"), 100, PIPE_WINDOW),
            Err(Refusal::NotRegular("a FIFO"))
        );
    }

    #[test]
    fn the_root_itself_is_this_system() {
        let fs = RootFs::new(Path::new("/"));
        assert!(fs.exists("proc/self"));
    }
}
