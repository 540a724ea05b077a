//! Reading a backup zip safely: what it must be before a byte of it is trusted (a zip at
//! all, not too many entries, no name that climbs out of a folder, nothing that inflates
//! beyond reason), and readers that count, cap and hash what they pass on.

use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};
use zip::{CompressionMethod, ZipArchive};

use crate::portability::PortError;

/// Entries a backup may hold (one per attachment, and five more).
pub const MAX_ENTRIES: u64 = 500_000;
/// Everything in a backup, unpacked.
pub const MAX_TOTAL_BYTES: u64 = 64 << 30;
/// The manifest lists every entry: about 150 bytes each.
pub const MAX_MANIFEST_BYTES: u64 = 128 << 20;
/// One JSON line (an item with every text field full is about 100 KB).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// How many times larger than its compressed bytes a deflated entry may unpack to: JSON
/// lines compress 5 to 20 times; a zip bomb compresses a thousand times.
pub const MAX_RATIO: u64 = 100;
/// Entries this small are never refused for their ratio.
const RATIO_FREE_BYTES: u64 = 1 << 20;

pub fn not_a_zip() -> PortError {
    PortError::Refused("This is not a Home Inventory backup (not a zip file).".into())
}

/// A refusal carried through `io::Error` by the readers here.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

fn refusal(message: String) -> io::Error {
    io::Error::other(Refusal(message))
}

/// The refusal inside an I/O error of these readers, if it is one.
pub fn as_refusal(e: &io::Error) -> Option<String> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Refusal>())
        .map(|r| r.0.clone())
}

/// Opens a backup: checks the entry count its end record claims before the zip reader
/// allocates anything per entry, then the central directory.
pub fn open(path: &Path) -> Result<ZipArchive<File>, PortError> {
    let mut file = File::open(path)?;
    let claimed = claimed_entries(&mut file)?.ok_or_else(not_a_zip)?;
    if claimed > MAX_ENTRIES {
        return Err(too_many_entries(claimed));
    }
    file.seek(SeekFrom::Start(0))?;
    let archive = ZipArchive::new(file).map_err(|_| not_a_zip())?;
    if archive.len() as u64 > MAX_ENTRIES {
        return Err(too_many_entries(archive.len() as u64));
    }
    Ok(archive)
}

fn too_many_entries(n: u64) -> PortError {
    PortError::Refused(format!(
        "This backup holds {n} files; the most a backup may hold is {MAX_ENTRIES}."
    ))
}

/// The number of entries the zip's end of central directory record (or its ZIP64 record)
/// claims; `None` when there is no such record.
pub fn claimed_entries(file: &mut File) -> io::Result<Option<u64>> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const LOCATOR: &[u8] = b"PK\x06\x07";
    const EOCD64: &[u8] = b"PK\x06\x06";
    let len = file.seek(SeekFrom::End(0))?;
    if len < 22 {
        return Ok(None);
    }
    // The record is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
    let tail_len = len.min(22 + 65_535 + 20);
    let start = len - tail_len;
    file.seek(SeekFrom::Start(start))?;
    let mut tail = vec![0; tail_len as usize];
    file.read_exact(&mut tail)?;
    let Some(at) = (0..=tail.len() - 22)
        .rev()
        .find(|&i| &tail[i..i + 4] == EOCD)
    else {
        return Ok(None);
    };
    let u16_at = |i: usize| u64::from(u16::from_le_bytes([tail[i], tail[i + 1]]));
    let entries = u16_at(at + 10);
    if entries != 0xFFFF {
        return Ok(Some(entries));
    }
    // ZIP64: the locator sits just before the record and points at the ZIP64 record.
    if at < 20 || &tail[at - 20..at - 16] != LOCATOR {
        return Ok(Some(entries));
    }
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&tail[at - 12..at - 4]);
    let offset = u64::from_le_bytes(offset);
    if offset.saturating_add(56) > len {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut record = [0u8; 56];
    file.read_exact(&mut record)?;
    if &record[..4] != EOCD64 {
        return Ok(None);
    }
    let mut total = [0u8; 8];
    total.copy_from_slice(&record[32..40]);
    Ok(Some(u64::from_le_bytes(total)))
}

/// Why an entry's name is unsafe to use, if it is: empty, absolute, a drive letter or any
/// colon, a backslash, a control character, `.` or `..` or an empty part.
pub fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("has no name");
    }
    if name.len() > 1_024 {
        return Some("has too long a name");
    }
    if name.starts_with('/') {
        return Some("is an absolute path");
    }
    if name.contains('\\') {
        return Some("has a backslash in its name");
    }
    if name.contains(':') {
        return Some("names a drive or a stream");
    }
    if name.chars().any(char::is_control) {
        return Some("has control characters in its name");
    }
    // A folder entry ends with one slash.
    let path = name.strip_suffix('/').unwrap_or(name);
    for part in path.split('/') {
        match part {
            ".." => return Some("points outside the backup"),
            "." | "" => return Some("has an empty or `.` part in its path"),
            _ => {}
        }
    }
    None
}

/// Checks every entry's name and what its header claims, before any is read: names safe,
/// only stored or deflated and never encrypted, the total and the ratio of deflated entries
/// within limits.
pub fn check_headers(archive: &mut ZipArchive<File>) -> Result<(), PortError> {
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(|_| not_a_zip())?;
        let name = entry.name().to_string();
        if let Some(why) = unsafe_name(&name) {
            return Err(PortError::Refused(format!(
                "This backup can't be restored: the entry {name:?} {why}."
            )));
        }
        if entry.encrypted() {
            return Err(PortError::Refused(format!(
                "This backup can't be restored: {name} is encrypted."
            )));
        }
        let compression = entry.compression();
        if !matches!(
            compression,
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            return Err(PortError::Refused(format!(
                "This backup can't be restored: {name} is compressed with {compression}, \
                 which Home Inventory doesn't read (only stored and deflated entries)."
            )));
        }
        if compression == CompressionMethod::Deflated
            && entry.size() > ratio_cap(entry.compressed_size())
        {
            return Err(bomb(&name));
        }
        total = total.saturating_add(entry.size());
        if total > MAX_TOTAL_BYTES {
            return Err(too_large());
        }
    }
    Ok(())
}

fn ratio_cap(compressed: u64) -> u64 {
    compressed.saturating_mul(MAX_RATIO).max(RATIO_FREE_BYTES)
}

fn bomb(name: &str) -> PortError {
    PortError::Refused(format!(
        "This backup can't be restored: {name} unpacks to more than {MAX_RATIO} times its \
         packed size, as zip bombs do."
    ))
}

fn too_large() -> PortError {
    PortError::Refused(format!(
        "This backup unpacks to more than {} GB, the most a restore takes.",
        MAX_TOTAL_BYTES >> 30
    ))
}

/// Opens entry `index` for reading through a [`Counted`] reader that refuses more than
/// `max` bytes (or, deflated, more than `MAX_RATIO` times its packed size).
pub fn entry(
    archive: &mut ZipArchive<File>,
    index: usize,
    max: u64,
) -> Result<Counted<zip::read::ZipFile<'_, File>>, PortError> {
    let file = archive
        .by_index(index)
        .map_err(|e| PortError::Refused(format!("This backup is damaged: {e}.")))?;
    let name = file.name().to_string();
    let cap = match file.compression() {
        CompressionMethod::Deflated => ratio_cap(file.compressed_size()),
        _ => u64::MAX,
    };
    Ok(Counted::new(file, name, max, cap))
}

/// Passes bytes on while counting and hashing them; refuses the `max + 1`-th byte (the
/// entry is larger than its manifest says, or than is left of the whole) and any byte past
/// the ratio cap, whatever the headers claimed.
pub struct Counted<R> {
    inner: R,
    name: String,
    read: u64,
    max: u64,
    ratio_cap: u64,
    hasher: Sha256,
}

impl<R: Read> Counted<R> {
    pub fn new(inner: R, name: String, max: u64, ratio_cap: u64) -> Self {
        Self {
            inner,
            name,
            read: 0,
            max,
            ratio_cap,
            hasher: Sha256::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes read so far and their SHA-256 in lower-case hex.
    pub fn finish(self) -> (u64, String) {
        (self.read, hex(&self.hasher.finalize()))
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.ratio_cap {
            return Err(refusal(format!(
                "This backup can't be restored: {} unpacks to more than {MAX_RATIO} times its \
                 packed size, as zip bombs do.",
                self.name
            )));
        }
        if self.read > self.max {
            return Err(refusal(format!(
                "This backup is damaged: {} is larger than its manifest says.",
                self.name
            )));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// What an error reading entry `name` means for the person: a refusal the readers made,
/// or a damaged entry (the zip reader's checksum, a truncated stream).
pub fn read_error(name: &str, e: io::Error) -> PortError {
    match as_refusal(&e) {
        Some(message) => PortError::Refused(message),
        None => PortError::Refused(format!(
            "This backup is damaged: {name} can't be read ({e})."
        )),
    }
}

/// Reads the next line into `buf` (without its newline): `Ok(false)` at the end, a refusal
/// for a line longer than `MAX_LINE_BYTES`.
pub fn next_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<bool> {
    buf.clear();
    let n = reader
        .by_ref()
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(false);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    } else if buf.len() > MAX_LINE_BYTES {
        return Err(refusal(format!(
            "This backup can't be restored: a line is longer than {} MB.",
            MAX_LINE_BYTES >> 20
        )));
    }
    Ok(true)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use zip::write::SimpleFileOptions;

    use super::*;

    #[test]
    fn names_that_leave_the_folder_are_unsafe() {
        for ok in [
            "manifest.json",
            "files/0190/photo.jpg",
            "files/",
            "files/a/Ünïcode name.pdf",
            "a..b",
        ] {
            assert_eq!(unsafe_name(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("../evil", "points outside"),
            ("files/../../evil", "points outside"),
            ("files/..", "points outside"),
            ("/etc/passwd", "absolute"),
            ("C:/Windows/evil.dll", "drive"),
            ("c:evil", "drive"),
            ("files\\..\\evil", "backslash"),
            ("files//x", "empty"),
            ("./x", "empty"),
            ("a\u{0}b", "control"),
            ("", "no name"),
        ] {
            let found = unsafe_name(bad).unwrap_or_else(|| panic!("{bad:?} passed"));
            assert!(found.contains(why), "{bad:?}: {found}");
        }
    }

    fn zip_of(entries: &[(&str, &[u8], CompressionMethod)]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut zip = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, bytes, method) in entries {
            zip.start_file(
                *name,
                SimpleFileOptions::default().compression_method(*method),
            )
            .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        file
    }

    #[test]
    fn the_end_record_tells_the_entry_count_and_anything_else_is_not_a_zip() {
        let zip = zip_of(&[
            ("a", b"1", CompressionMethod::Stored),
            ("b", b"2", CompressionMethod::Deflated),
        ]);
        let mut file = zip.reopen().unwrap();
        assert_eq!(claimed_entries(&mut file).unwrap(), Some(2));
        assert!(open(zip.path()).is_ok());

        let mut text = tempfile::NamedTempFile::new().unwrap();
        text.write_all(b"name,quantity\ndrill,1\n").unwrap();
        assert_eq!(claimed_entries(&mut text.reopen().unwrap()).unwrap(), None);
        let err = open(text.path()).unwrap_err();
        assert!(err.to_string().contains("not a zip file"), "{err}");
    }

    #[test]
    fn a_claimed_count_beyond_the_limit_is_refused_before_reading_the_directory() {
        // An end record alone, claiming 65,534 entries.
        let mut eocd = b"PK\x05\x06".to_vec();
        eocd.extend_from_slice(&[0, 0, 0, 0]);
        eocd.extend_from_slice(&65_534u16.to_le_bytes());
        eocd.extend_from_slice(&65_534u16.to_le_bytes());
        eocd.extend_from_slice(&[0; 10]);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&eocd).unwrap();
        assert_eq!(
            claimed_entries(&mut file.reopen().unwrap()).unwrap(),
            Some(65_534)
        );
    }

    #[test]
    fn a_deflated_bomb_is_refused_from_its_header_and_from_the_bytes() {
        let zeros = vec![0u8; 20 << 20];
        let zip = zip_of(&[("items.jsonl", &zeros, CompressionMethod::Deflated)]);
        let mut archive = open(zip.path()).unwrap();
        let err = check_headers(&mut archive).unwrap_err();
        assert!(err.to_string().contains("zip bombs"), "{err}");

        // Whatever the header says, the reader stops at the cap.
        let mut reader = entry(&mut archive, 0, u64::MAX).unwrap();
        let err = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        assert!(as_refusal(&err).unwrap().contains("zip bombs"));
    }

    #[test]
    fn a_reader_refuses_more_than_it_was_promised_and_hashes_what_it_passed() {
        let mut counted = Counted::new(&b"hello"[..], "x".into(), 5, u64::MAX);
        let mut out = Vec::new();
        counted.read_to_end(&mut out).unwrap();
        assert_eq!(
            counted.finish(),
            (
                5,
                "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into()
            )
        );
        let mut counted = Counted::new(&b"hello!"[..], "x".into(), 5, u64::MAX);
        let err = counted.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(
            as_refusal(&err)
                .unwrap()
                .contains("larger than its manifest")
        );
    }

    #[test]
    fn lines_are_read_one_at_a_time_up_to_a_limit() {
        let mut input = io::Cursor::new(b"{\"a\":1}\r\n\n{\"b\":2}".to_vec());
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        while next_line(&mut input, &mut buf).unwrap() {
            lines.push(String::from_utf8(buf.clone()).unwrap());
        }
        assert_eq!(lines, ["{\"a\":1}", "", "{\"b\":2}"]);

        let mut long = io::Cursor::new(vec![b'x'; MAX_LINE_BYTES + 10]);
        let err = next_line(&mut long, &mut buf).unwrap_err();
        assert!(as_refusal(&err).unwrap().contains("longer than"));
    }
}
