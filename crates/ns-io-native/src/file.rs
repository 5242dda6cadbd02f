use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ns_io::{Bytes, Error, ReadAt, Result, check_range};

/// A local file, read with positional reads (no shared cursor).
pub struct FileSource {
    file: File,
    path: PathBuf,
    len: u64,
}

impl FileSource {
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let io_err = |e: std::io::Error| Error::Io {
            location: path.display().to_string(),
            message: e.to_string(),
        };
        let file = File::open(&path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if meta.is_dir() {
            return Err(Error::Io {
                location: path.display().to_string(),
                message: "is a directory, not a file".into(),
            });
        }
        Ok(Self {
            file,
            len: meta.len(),
            path,
        })
    }
}

impl ReadAt for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        check_range(&range, self.len, &|| self.describe())?;
        let n = usize::try_from(range.end - range.start).map_err(|_| Error::Io {
            location: self.describe(),
            message: "read too large for this platform".into(),
        })?;
        let mut buf = vec![0u8; n];
        read_exact_at(&self.file, &mut buf, range.start).map_err(|e| Error::Io {
            location: self.describe(),
            message: format!("reading bytes {}..{}: {e}", range.start, range.end),
        })?;
        Ok(Bytes::from(buf))
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_read(buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}
