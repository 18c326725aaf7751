//! A zip archive writer, just enough for the Gradescope bundle: stored
//! (uncompressed) entries with CRC-32, Unix modes (so `setup.sh` and
//! `run_autograder` stay executable), no zip64 (every entry and the whole
//! archive under 4 GiB, which the writer checks).

use std::path::Path;

use crate::error::{Context, GraderError, Result};

/// One file to store.
pub struct Entry {
    /// Its path inside the archive, with `/` separators.
    pub name: String,
    /// Its bytes.
    pub data: Vec<u8>,
    /// Unix permission bits (e.g. `0o755`).
    pub mode: u32,
}

/// The CRC-32 (IEEE 802.3, as zip uses) of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc ^ 0xFFFF_FFFF
}

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The archive holding `entries`, in that order.
pub fn archive(entries: &[Entry]) -> Result<Vec<u8>> {
    let too_big = |what: &str| {
        GraderError::new(format!(
            "{what} is over 4 GiB, more than a zip without zip64 holds"
        ))
    };
    let mut out = Vec::new();
    let mut central = Vec::new();
    // 1980-01-01 00:00, zip's epoch: the archive does not depend on when
    // it was made.
    let (time, date) = (0u16, (1 << 5) | 1);
    for e in entries {
        let size = u32::try_from(e.data.len()).map_err(|_| too_big(&e.name))?;
        let name_len = u16::try_from(e.name.len()).map_err(|_| too_big(&e.name))?;
        let offset = u32::try_from(out.len()).map_err(|_| too_big("the archive"))?;
        let crc = crc32(&e.data);
        u32le(&mut out, 0x0403_4b50);
        u16le(&mut out, 20); // version needed: 2.0
        u16le(&mut out, 0x0800); // flags: names are UTF-8
        u16le(&mut out, 0); // stored
        u16le(&mut out, time);
        u16le(&mut out, date);
        u32le(&mut out, crc);
        u32le(&mut out, size);
        u32le(&mut out, size);
        u16le(&mut out, name_len);
        u16le(&mut out, 0);
        out.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(&e.data);

        u32le(&mut central, 0x0201_4b50);
        u16le(&mut central, (3 << 8) | 20); // made by: Unix, 2.0
        u16le(&mut central, 20);
        u16le(&mut central, 0x0800);
        u16le(&mut central, 0);
        u16le(&mut central, time);
        u16le(&mut central, date);
        u32le(&mut central, crc);
        u32le(&mut central, size);
        u32le(&mut central, size);
        u16le(&mut central, name_len);
        u16le(&mut central, 0); // extra
        u16le(&mut central, 0); // comment
        u16le(&mut central, 0); // disk
        u16le(&mut central, 0); // internal attributes
        u32le(&mut central, (0o100_000 | (e.mode & 0o7777)) << 16);
        u32le(&mut central, offset);
        central.extend_from_slice(e.name.as_bytes());
    }
    let count = u16::try_from(entries.len()).map_err(|_| too_big("the number of files"))?;
    let central_at = u32::try_from(out.len()).map_err(|_| too_big("the archive"))?;
    let central_len = u32::try_from(central.len()).map_err(|_| too_big("the archive"))?;
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, count);
    u16le(&mut out, count);
    u32le(&mut out, central_len);
    u32le(&mut out, central_at);
    u16le(&mut out, 0);
    Ok(out)
}

/// Every file under `dir` (recursively, skipping `skip` folder names), as
/// entries named by their path below `dir`, sorted, with their modes.
pub fn entries_of(dir: &Path, skip: &[&str]) -> Result<Vec<Entry>> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let read = std::fs::read_dir(&d).context(|| format!("cannot list {}", d.display()))?;
        for entry in read {
            let entry = entry.context(|| format!("cannot list {}", d.display()))?;
            let path = entry.path();
            let meta =
                std::fs::metadata(&path).context(|| format!("cannot read {}", path.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if meta.is_dir() {
                if !skip.contains(&name.as_str()) {
                    stack.push(path);
                }
                continue;
            }
            let rel = path.strip_prefix(dir).map_err(|_| {
                GraderError::new(format!("{} is outside {}", path.display(), dir.display()))
            })?;
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let data =
                std::fs::read(&path).context(|| format!("cannot read {}", path.display()))?;
            out.push(Entry {
                name,
                data,
                mode: meta.permissions().mode(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The check value every CRC-32/ISO-HDLC implementation agrees on.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn an_archive_lists_its_entries_in_its_central_directory() {
        let zip = archive(&[
            Entry {
                name: "run_autograder".into(),
                data: b"#!/bin/sh\n".to_vec(),
                mode: 0o755,
            },
            Entry {
                name: "kit/a.txt".into(),
                data: b"hello".to_vec(),
                mode: 0o644,
            },
        ])
        .expect("small archive");
        assert_eq!(&zip[..4], b"PK\x03\x04");
        let end = zip.len() - 22;
        assert_eq!(&zip[end..end + 4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([zip[end + 10], zip[end + 11]]), 2);
        let at = u32::from_le_bytes([zip[end + 16], zip[end + 17], zip[end + 18], zip[end + 19]])
            as usize;
        assert_eq!(&zip[at..at + 4], b"PK\x01\x02");
        let mode =
            u32::from_le_bytes([zip[at + 38], zip[at + 39], zip[at + 40], zip[at + 41]]) >> 16;
        assert_eq!(mode & 0o777, 0o755, "the script stays executable");
        let name_len = u16::from_le_bytes([zip[at + 28], zip[at + 29]]) as usize;
        assert_eq!(&zip[at + 46..at + 46 + name_len], b"run_autograder");
    }
}
