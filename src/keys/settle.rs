//! When a changed key file may enter service: at once if its encoding is
//! self-checked, else once its bytes have stayed the same for a settle
//! window. Shared by [`FileKey`](crate::FileKey) and
//! [`DirectoryKeyRing`](crate::client::DirectoryKeyRing); their module
//! docs give the rule and its limits to users.
//!
//! A read records the file's SHA-256 and a stamp of its metadata (length,
//! modification time and, on Unix, device, inode and change time, which no
//! unprivileged writer can set back). A file that is not self-checked is
//! admitted when two reads at least the window apart saw the same digest
//! and the same stamp: the stamp makes "the same" mean "not written in
//! between", so a writer that keeps producing the same torn content (a
//! periodic rewrite torn at the same offset) cannot pass as stable.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
use crate::keys::PrivateKey;

/// The default settle window of a key file that is not self-checked.
pub(crate) const DEFAULT_SETTLE_WINDOW: Duration = Duration::from_secs(1);

/// The longest check interval or settle window a key source takes: longer
/// settings are taken as one day (no time arithmetic can overflow).
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(86_400);

/// `wait`, at most [`MAX_WAIT`].
pub(crate) fn bounded(wait: Duration) -> Duration {
    wait.min(MAX_WAIT)
}

/// What the file system says of a file; equal stamps mean no write between
/// the two reads (down to the file system's timestamp granularity).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    unix: (u64, u64, i64, i64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            unix: (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// One read of a key file: its bytes (zeroized on drop), their SHA-256 and
/// the file's stamp taken after reading.
pub(crate) struct FileRead {
    pub(crate) digest: [u8; 32],
    stamp: Stamp,
    bytes: Zeroizing<Vec<u8>>,
}

/// The largest key file read (an 8192-bit RSA key is under 8 KiB in any
/// encoding): a larger file is refused after reading one byte more.
pub(crate) const MAX_KEY_FILE_LEN: usize = 64 * 1024;

/// Reads `path`, at most [`MAX_KEY_FILE_LEN`] bytes, into one buffer
/// allocated up front (no reallocation leaves key bytes behind).
///
/// # Errors
/// [`ErrorKind::Io`] (with the I/O error as source) when the file cannot
/// be opened or read; [`ErrorKind::InvalidKey`] when it is longer than
/// [`MAX_KEY_FILE_LEN`].
pub(crate) fn read(path: &Path) -> Result<FileRead, Error> {
    let io = |e| Error::with_source(ErrorKind::Io, e);
    let mut file = File::open(path).map_err(io)?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_LEN + 1));
    (&mut file)
        .take(MAX_KEY_FILE_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > MAX_KEY_FILE_LEN {
        return Err(Error::detail(
            ErrorKind::InvalidKey,
            "the key file is longer than 64 KiB",
        ));
    }
    let stamp = Stamp::of(&file.metadata().map_err(io)?);
    Ok(FileRead {
        digest: Sha256::digest(&*bytes).into(),
        stamp,
        bytes,
    })
}

/// Parses a read, as the first load of a source does (there is no key to
/// keep, so the content is taken as it is, settled or not).
///
/// # Errors
/// As [`PrivateKey::from_bytes`] and [`PrivateKey::with_backend`].
pub(crate) fn parse(read: &FileRead, backend: Backend) -> Result<(PrivateKey, bool), Error> {
    let (key, checked) = PrivateKey::from_bytes_self_checked(&read.bytes)?;
    Ok((key.with_backend(backend)?, checked))
}

/// What a changed file may do.
pub(crate) enum Admission {
    /// Self-checked, or settled: put it in service.
    Admit(Arc<PrivateKey>),
    /// A usable key, not yet stable: keep the key in service. `started` is
    /// true for the first read of this content.
    Settling { started: bool },
    /// Not a usable key.
    Refused(Error),
}

struct Candidate {
    digest: [u8; 32],
    stamp: Stamp,
    since: SystemTime,
    key: Arc<PrivateKey>,
}

/// The settle state of one key file: the content waiting to settle.
#[derive(Default)]
pub(crate) struct Settler {
    candidate: Option<Candidate>,
}

impl Settler {
    /// Forgets the content waiting to settle (the file went back to the
    /// content in service, or vanished).
    pub(crate) fn reset(&mut self) {
        self.candidate = None;
    }

    /// When the content waiting to settle may be admitted, if any.
    pub(crate) fn due(&self, window: Duration) -> Option<SystemTime> {
        self.candidate.as_ref().map(|c| c.since + window)
    }

    /// Decides on `read`, a content that differs from the one in service:
    /// self-checked content is admitted at once, other content once two
    /// reads at least `window` apart saw it with the same stamp.
    pub(crate) fn admit(
        &mut self,
        read: &FileRead,
        now: SystemTime,
        window: Duration,
        backend: Backend,
    ) -> Admission {
        if let Some(c) = &self.candidate {
            if c.digest == read.digest && c.stamp == read.stamp {
                if now.duration_since(c.since).unwrap_or_default() >= window {
                    let key = Arc::clone(&c.key);
                    self.candidate = None;
                    return Admission::Admit(key);
                }
                return Admission::Settling { started: false };
            }
        }
        self.candidate = None;
        match parse(read, backend) {
            Err(error) => Admission::Refused(error),
            Ok((key, true)) => Admission::Admit(Arc::new(key)),
            Ok((key, false)) if window.is_zero() => Admission::Admit(Arc::new(key)),
            Ok((key, false)) => {
                self.candidate = Some(Candidate {
                    digest: read.digest,
                    stamp: read.stamp,
                    since: now,
                    key: Arc::new(key),
                });
                Admission::Settling { started: true }
            }
        }
    }

    /// Converts the key waiting to settle to `backend`.
    pub(crate) fn convert(&mut self, backend: Backend) -> Result<(), Error> {
        if let Some(c) = &mut self.candidate {
            c.key = Arc::new(c.key.clone_key().with_backend(backend)?);
        }
        Ok(())
    }
}
