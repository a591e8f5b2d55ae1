//! Files in and out, guarded: what faultline reads is a regular file of bounded size, what it
//! writes replaces its target atomically without reading it, and directory scans terminate.
//!
//! - [`read_text`] refuses directories, FIFOs, sockets and devices (reading `/dev/zero` would
//!   never end; a FIFO would block forever), refuses files above [`MAX_INPUT_BYTES`] (and stops
//!   reading a file that grows past it), strips a UTF-8 byte-order mark, and says which file
//!   and why on every error.
//! - [`write_file`] writes beside the target under a temporary name and renames it over the
//!   target, so a reader never sees half a file and a killed writer leaves the old file intact;
//!   it refuses to replace anything that is not a regular file (a device, a FIFO, a directory),
//!   and never reads what is there. [`remove_stale_temporaries`] removes what a killed writer
//!   left behind.
//! - [`scan`] lists the `.ron` files under a directory in name order, following symbolic links
//!   but visiting each real directory once, so a link loop ends; it is bounded in depth and
//!   count.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest input file faultline reads: scenario and sweep files are a few kilobytes.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Directory levels a scan descends at most.
pub const MAX_SCAN_DEPTH: usize = 32;

/// Files a scan lists at most.
pub const MAX_SCAN_FILES: usize = 100_000;

/// The marker in the names of temporary files, for [`remove_stale_temporaries`].
const TEMP_MARKER: &str = ".faultline-tmp-";

/// What kind of thing is at a path, for messages.
fn kind_of(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// Reads a regular text file of at most [`MAX_INPUT_BYTES`]; the error says what is wrong.
pub fn read_text(path: &Path) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "cannot read the file: it is {}, not a regular file",
            kind_of(&meta)
        ));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(format!(
            "the file is {} bytes; at most {MAX_INPUT_BYTES} bytes are read",
            meta.len()
        ));
    }
    let file = fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "the file grew past {MAX_INPUT_BYTES} bytes while being read"
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename. Refuses a
/// target that exists and is not a regular file; never reads the target.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_stream(path, |w| w.write_all(bytes))
}

/// [`write_file`] for output produced piece by piece: `fill` writes into a buffered
/// temporary file, which then replaces `path`.
pub fn write_stream(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<fs::File>) -> std::io::Result<()>,
) -> Result<(), String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            // Writing would replace the link with a file; refuse when it points somewhere odd.
            if let Ok(target) = fs::metadata(path)
                && !target.is_file()
            {
                return Err(format!(
                    "{}: refusing to write over {} (a link to it)",
                    path.display(),
                    kind_of(&target)
                ));
            }
        }
        Ok(meta) if !meta.is_file() => {
            return Err(format!(
                "{}: refusing to write over {}",
                path.display(),
                kind_of(&meta)
            ));
        }
        _ => {}
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{}: not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{name}{TEMP_MARKER}{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut w = std::io::BufWriter::new(fs::File::create(&tmp)?);
        fill(&mut w)?;
        w.flush()?;
        drop(w);
        fs::rename(&tmp, path)
    })();
    written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// Removes temporary files a killed writer left in `dir` (those [`write_file`] names). Returns
/// how many were removed.
pub fn remove_stale_temporaries(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            && name.contains(TEMP_MARKER)
            && e.file_type().is_ok_and(|t| t.is_file())
            && fs::remove_file(e.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// The files under `dir` whose names end with `.{extension}`, sorted, each real directory
/// visited once (so symbolic-link loops end), at most [`MAX_SCAN_DEPTH`] levels and
/// [`MAX_SCAN_FILES`] files deep and wide.
pub fn scan(dir: &Path, extension: &str) -> Result<Vec<PathBuf>, String> {
    let mut out = vec![];
    let mut visited = std::collections::BTreeSet::new();
    walk(dir, extension, 0, &mut visited, &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(
    dir: &Path,
    extension: &str,
    depth: usize,
    visited: &mut std::collections::BTreeSet<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> Result<(), String> {
    if depth > MAX_SCAN_DEPTH {
        return Err(format!(
            "{}: directories nest deeper than {MAX_SCAN_DEPTH} levels",
            dir.display()
        ));
    }
    let real = fs::canonicalize(dir)
        .map_err(|e| format!("{}: cannot read the directory: {e}", dir.display()))?;
    if !visited.insert(real) {
        return Ok(()); // Seen through another path (a link loop or a second link).
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot read the directory: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        // `metadata` follows links: a link to a directory is walked (once), a dangling link
        // is skipped.
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, extension, depth + 1, visited, out)?;
        } else if meta.is_file() && path.extension().is_some_and(|e| e == extension) {
            if out.len() >= MAX_SCAN_FILES {
                return Err(format!(
                    "{}: more than {MAX_SCAN_FILES} .{extension} files",
                    dir.display()
                ));
            }
            out.push(path);
        }
    }
    Ok(())
}

/// The format a client-history file is written in, from its extension: `edn` (Jepsen EDN) or
/// `jsonl` (JSON lines); the names match what `Workload::exports` offers.
pub fn history_format(path: &Path) -> Result<&'static str, String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("edn") => Ok("edn"),
        Some("jsonl") => Ok("jsonl"),
        _ => Err(format!(
            "{}: the history's format comes from its extension: .edn (Jepsen EDN) or .jsonl (JSON lines)",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("faultline-io-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_only_regular_files_of_bounded_size() {
        let d = scratch("read");
        let f = d.join("a.ron");
        fs::write(&f, "\u{feff}Scenario()").unwrap();
        assert_eq!(read_text(&f).unwrap(), "Scenario()", "the BOM is dropped");
        assert!(read_text(&d).unwrap_err().contains("a directory"));
        assert!(
            read_text(Path::new("/dev/zero"))
                .unwrap_err()
                .contains("a device")
        );
        assert!(
            read_text(&d.join("missing"))
                .unwrap_err()
                .contains("cannot read")
        );
        fs::write(&f, [0xff, 0xfe, 0x00]).unwrap();
        assert!(read_text(&f).unwrap_err().contains("not UTF-8"));
        let big = d.join("big.ron");
        let file = fs::File::create(&big).unwrap();
        file.set_len(MAX_INPUT_BYTES + 1).unwrap();
        assert!(read_text(&big).unwrap_err().contains("bytes"));
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn writes_atomically_and_refuses_special_targets() {
        let d = scratch("write");
        let f = d.join("out.txt");
        write_file(&f, b"one").unwrap();
        write_file(&f, b"two").unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "two");
        assert!(write_file(&d, b"x").unwrap_err().contains("directory"));
        assert!(
            write_file(Path::new("/dev/null"), b"x")
                .unwrap_err()
                .contains("device")
        );
        let link = d.join("null-link");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        assert!(write_file(&link, b"x").unwrap_err().contains("device"));
        // Nothing temporary is left, and stale temporaries are cleaned up.
        assert_eq!(remove_stale_temporaries(&d), 0);
        fs::write(d.join(format!(".out.txt{TEMP_MARKER}1-0")), "").unwrap();
        assert_eq!(remove_stale_temporaries(&d), 1);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn scans_end_on_link_loops_and_list_each_file_once() {
        let d = scratch("scan");
        fs::create_dir_all(d.join("a/b")).unwrap();
        fs::write(d.join("a/b/x.ron"), "").unwrap();
        fs::write(d.join("a/y.ron"), "").unwrap();
        fs::write(d.join("a/z.txt"), "").unwrap();
        std::os::unix::fs::symlink(d.join("a"), d.join("a/b/loop")).unwrap();
        std::os::unix::fs::symlink(d.join("nowhere"), d.join("a/dangling.ron")).unwrap();
        let files = scan(&d, "ron").unwrap();
        assert_eq!(files, vec![d.join("a/b/x.ron"), d.join("a/y.ron")]);
        fs::remove_dir_all(&d).unwrap();
    }
}
