//! Where a message waits between the final dot and its delivery.
//!
//! Small messages stay in memory. Past a threshold the message streams into a temporary
//! file under the spool directory, which is then memory-mapped, so a 50 MB message is held
//! once, by the page cache, and handed to the backend as one `&[u8]`. The file is removed
//! when the [`Spooled`] message is dropped, and when a client vanishes mid-DATA.
//!
//! Writes are plain blocking `std::fs` writes from the connection task: they land in the
//! page cache and nothing here fsyncs (durability is the sink's job), so they do not stall
//! the runtime in practice, and they work on any tokio runtime flavour.

use memmap2::Mmap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// File name prefix of spool files; anything with it in the spool directory is ours.
pub const SPOOL_PREFIX: &str = "imipd-lmtp-";

/// Writes to the spool file go through a buffer this large.
const FILE_BUFFER: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct SpoolConfig {
    pub dir: PathBuf,
    /// Messages up to this many bytes stay in memory.
    pub memory_threshold: usize,
    /// Messages over this many bytes are refused (552 5.3.4).
    pub max_size: usize,
}

/// Why a message could not be spooled.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("message exceeds the size limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error(
        "cannot write spool file in {dir}: {source} (check that the spool directory exists, is writable and has free space)"
    )]
    Io {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// A message being received.
pub struct SpoolWriter<'c> {
    config: &'c SpoolConfig,
    size: usize,
    memory: Vec<u8>,
    file: Option<BufWriter<NamedTempFile>>,
    failure: Option<SpoolError>,
}

impl<'c> SpoolWriter<'c> {
    pub fn new(config: &'c SpoolConfig) -> Self {
        SpoolWriter {
            config,
            size: 0,
            memory: Vec::new(),
            file: None,
            failure: None,
        }
    }

    /// Adds message bytes. Once the message is too large or the file cannot be written,
    /// further bytes are counted and dropped, so the caller can read on to the final dot.
    pub fn write(&mut self, bytes: &[u8]) {
        self.size = self.size.saturating_add(bytes.len());
        if self.failure.is_some() {
            return;
        }
        if self.size > self.config.max_size {
            self.fail(SpoolError::TooLarge {
                limit: self.config.max_size,
            });
            return;
        }
        if self.file.is_none() && self.size <= self.config.memory_threshold {
            self.memory.extend_from_slice(bytes);
            return;
        }
        if let Err(source) = self.write_file(bytes) {
            self.fail(SpoolError::Io {
                dir: self.config.dir.clone(),
                source,
            });
        }
    }

    fn write_file(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let temp = tempfile::Builder::new()
                    .prefix(SPOOL_PREFIX)
                    .tempfile_in(&self.config.dir)?;
                let mut file = BufWriter::with_capacity(FILE_BUFFER, temp);
                file.write_all(&self.memory)?;
                self.memory = Vec::new();
                self.file.insert(file)
            }
        };
        file.write_all(bytes)
    }

    fn fail(&mut self, failure: SpoolError) {
        self.failure = Some(failure);
        self.memory = Vec::new();
        // Dropping the temporary file removes it.
        self.file = None;
    }

    /// Bytes received so far, counting those dropped after a failure.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Ends the message: the spooled message, or why there is none.
    pub fn finish(self) -> Result<Spooled, SpoolError> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        let Some(file) = self.file else {
            return Ok(Spooled(Storage::Memory(self.memory)));
        };
        let io_error = |source| SpoolError::Io {
            dir: self.config.dir.clone(),
            source,
        };
        let temp = file.into_inner().map_err(|e| io_error(e.into_error()))?;
        // SAFETY: the file was created by this process with a unique name and mode 0600 in
        // the spool directory and is never written after this point; only someone able to
        // write the spool directory's files could change it under the map.
        let map = unsafe { Mmap::map(temp.as_file()) }.map_err(io_error)?;
        Ok(Spooled(Storage::File { map, temp }))
    }
}

/// A received message, in memory or in a mapped spool file.
pub struct Spooled(Storage);

enum Storage {
    Memory(Vec<u8>),
    File { map: Mmap, temp: NamedTempFile },
}

impl Spooled {
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Storage::Memory(bytes) => bytes,
            Storage::File { map, .. } => map,
        }
    }

    /// The spool file holding the message, if it went to disk.
    pub fn path(&self) -> Option<&Path> {
        match &self.0 {
            Storage::Memory(_) => None,
            Storage::File { temp, .. } => Some(temp.path()),
        }
    }
}

/// Creates the spool directory and removes files a previous run left behind (a crash
/// between DATA and delivery); returns how many were removed.
pub fn prepare_dir(dir: &Path) -> io::Result<usize> {
    fs::create_dir_all(dir)?;
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(SPOOL_PREFIX)
            && entry.file_type()?.is_file()
        {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool_files(dir: &Path) -> usize {
        fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn memory_file_and_too_large() {
        let dir = tempfile::tempdir().unwrap();
        let config = SpoolConfig {
            dir: dir.path().to_owned(),
            memory_threshold: 10,
            max_size: 30,
        };
        // (chunks written, expected message or None for too large, expect a spool file)
        let cases: &[(&[&str], Option<&str>, bool)] = &[
            (&["hello"], Some("hello"), false),
            (&["0123456789"], Some("0123456789"), false),
            (&["01234", "56789", "x"], Some("0123456789x"), true),
            (
                &["0123456789abcdef", "ghij"],
                Some("0123456789abcdefghij"),
                true,
            ),
            (
                &["0123456789", "0123456789", "0123456789", "!"],
                None,
                false,
            ),
        ];
        for &(chunks, expected, on_disk) in cases {
            let mut writer = SpoolWriter::new(&config);
            for chunk in chunks {
                writer.write(chunk.as_bytes());
            }
            match (writer.finish(), expected) {
                (Ok(spooled), Some(message)) => {
                    assert_eq!(spooled.as_bytes(), message.as_bytes(), "chunks {chunks:?}");
                    assert_eq!(spooled.path().is_some(), on_disk, "chunks {chunks:?}");
                    assert_eq!(spool_files(dir.path()), usize::from(on_disk));
                }
                (Err(SpoolError::TooLarge { limit: 30 }), None) => {}
                (got, _) => panic!(
                    "chunks {chunks:?}: expected {expected:?}, got {:?}",
                    got.map(|s| s.as_bytes().to_vec())
                ),
            }
            assert_eq!(spool_files(dir.path()), 0, "chunks {chunks:?} left a file");
        }
    }

    #[test]
    fn unwritable_spool_dir_is_an_error_naming_the_dir() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let config = SpoolConfig {
            dir: missing.clone(),
            memory_threshold: 1,
            max_size: 100,
        };
        let mut writer = SpoolWriter::new(&config);
        writer.write(b"hello");
        let err = writer
            .finish()
            .err()
            .expect("spooling into a missing dir fails");
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(format!("{SPOOL_PREFIX}old")), b"x").unwrap();
        fs::write(dir.path().join("other"), b"x").unwrap();
        assert_eq!(prepare_dir(dir.path()).unwrap(), 1);
        assert_eq!(spool_files(dir.path()), 1);
    }
}
