//! Hadoop SequenceFiles, read as Hadoop streaming reads them with
//! `-inputformat org.apache.hadoop.mapred.SequenceFileAsTextInputFormat`:
//! each record reaches the mapper as the line `KEY<TAB>VALUE`, key and
//! value written as their Writable's `toString()`; a split reads the
//! records from the first sync marker at or after its start up to the
//! first one past its end, as `SequenceFileRecordReader` does; and a split
//! is never smaller than `SequenceFileInputFormat`'s minimum
//! ([`SYNC_INTERVAL`]).
//!
//! The format is `SequenceFile.Writer`'s (Hadoop's `SequenceFile.java`):
//! a header (`SEQ`, a version, the key and value classes, compression,
//! codec, metadata, a 16-byte sync marker), then records, uncompressed or
//! with each value compressed, with a sync marker every 100 KB or so; or
//! blocks of records whose key lengths, keys, value lengths and values are
//! compressed as four buffers, a sync marker before each block.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::input::Codec;

/// `SequenceFile.SYNC_INTERVAL` (5 KiB times the 20 bytes of a sync
/// entry): also the smallest split `SequenceFileInputFormat` cuts.
pub const SYNC_INTERVAL: u64 = 5 * 1024 * SYNC_SIZE;

const SYNC_HASH: usize = 16;
/// The escape (`-1` as an int) and the hash.
const SYNC_SIZE: u64 = 4 + SYNC_HASH as u64;
/// The most one buffer (a record's value, a block's keys) may decompress
/// to: Hadoop holds each in a Java array, under 2 GiB; a corrupt length
/// must not make this reader allocate more.
const MAX_BUFFER: usize = 1 << 30;

/// True when `head` starts as a SequenceFile does: `SEQ` and a version
/// byte (a text file starting with the word `SEQ` has a letter there).
pub fn is_sequence(head: &[u8]) -> bool {
    matches!(head, [b'S', b'E', b'Q', v, ..] if *v <= 6)
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// The key and value types mapfold reads, as `toString()` writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writable {
    Text,
    Long,
    Int,
    VLong,
    Boolean,
    Bytes,
    Null,
}

impl Writable {
    fn of(class: &str) -> io::Result<Self> {
        Ok(match class {
            "org.apache.hadoop.io.Text" => Self::Text,
            "org.apache.hadoop.io.LongWritable" => Self::Long,
            "org.apache.hadoop.io.IntWritable" => Self::Int,
            "org.apache.hadoop.io.VLongWritable" | "org.apache.hadoop.io.VIntWritable" => {
                Self::VLong
            }
            "org.apache.hadoop.io.BooleanWritable" => Self::Boolean,
            "org.apache.hadoop.io.BytesWritable" => Self::Bytes,
            "org.apache.hadoop.io.NullWritable" => Self::Null,
            other => {
                return Err(bad(format!(
                    "its records hold {other}, which mapfold does not read (it reads Text, \
                     LongWritable, IntWritable, VLongWritable, VIntWritable, BooleanWritable, \
                     BytesWritable and NullWritable)"
                )));
            }
        })
    }

    /// Appends `toString()` of the value serialized as `b`, which must be
    /// exactly one value.
    fn text(self, b: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let wrong = || {
            bad(format!(
                "a {self:?} value of {} bytes is malformed",
                b.len()
            ))
        };
        match self {
            Self::Text => {
                let mut at = 0;
                let n = vlong(&mut || next_byte(b, &mut at))?;
                if usize::try_from(n).ok() != Some(b.len() - at) {
                    return Err(wrong());
                }
                out.extend_from_slice(&b[at..]);
            }
            Self::Long => {
                let v: [u8; 8] = b.try_into().map_err(|_| wrong())?;
                out.extend_from_slice(itoa::Buffer::new().format(i64::from_be_bytes(v)).as_bytes());
            }
            Self::Int => {
                let v: [u8; 4] = b.try_into().map_err(|_| wrong())?;
                out.extend_from_slice(itoa::Buffer::new().format(i32::from_be_bytes(v)).as_bytes());
            }
            Self::VLong => {
                let mut at = 0;
                let v = vlong(&mut || next_byte(b, &mut at))?;
                if at != b.len() {
                    return Err(wrong());
                }
                out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
            }
            Self::Boolean => match b {
                [0] => out.extend_from_slice(b"false"),
                [_] => out.extend_from_slice(b"true"),
                _ => return Err(wrong()),
            },
            Self::Bytes => {
                // Big-endian length, the bytes; shown as hex pairs with a
                // space between (BytesWritable.toString).
                let (len, bytes) = b.split_at_checked(4).ok_or_else(wrong)?;
                let n = i32::from_be_bytes(len.try_into().map_err(|_| wrong())?);
                if usize::try_from(n).ok() != Some(bytes.len()) {
                    return Err(wrong());
                }
                for (i, x) in bytes.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    out.extend_from_slice(format!("{x:02x}").as_bytes());
                }
            }
            Self::Null => {
                if !b.is_empty() {
                    return Err(wrong());
                }
                out.extend_from_slice(b"(null)");
            }
        }
        Ok(())
    }
}

fn next_byte(b: &[u8], at: &mut usize) -> io::Result<u8> {
    let v = *b
        .get(*at)
        .ok_or_else(|| bad("a variable-length integer runs past its buffer"))?;
    *at += 1;
    Ok(v)
}

/// `WritableUtils.readVLong`: one byte for -112..=127, else a byte giving
/// the sign and the count of big-endian bytes that follow.
fn vlong(next: &mut impl FnMut() -> io::Result<u8>) -> io::Result<i64> {
    let first = next()? as i8;
    if first >= -112 {
        return Ok(i64::from(first));
    }
    let negative = first < -120;
    let len = if negative { -120 - first } else { -112 - first };
    let mut v: i64 = 0;
    for _ in 0..len {
        v = (v << 8) | i64::from(next()?);
    }
    Ok(if negative { !v } else { v })
}

/// A codec a SequenceFile header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SeqCodec {
    /// One of the codecs Hadoop also picks by suffix.
    Stream(Codec),
    /// hadoop-lzo's `LzoCodec`: `BlockCompressorStream` framing (each block
    /// its size, then chunks of LZO1X, each with its size).
    Lzo,
}

impl SeqCodec {
    fn of(class: &str) -> io::Result<Self> {
        Ok(match class {
            "org.apache.hadoop.io.compress.DefaultCodec"
            | "org.apache.hadoop.io.compress.DeflateCodec" => Self::Stream(Codec::Deflate),
            "org.apache.hadoop.io.compress.GzipCodec" => Self::Stream(Codec::Gzip),
            "org.apache.hadoop.io.compress.BZip2Codec" => Self::Stream(Codec::Bzip2),
            "org.apache.hadoop.io.compress.ZStandardCodec" => Self::Stream(Codec::Zstd),
            "com.hadoop.compression.lzo.LzoCodec" => Self::Lzo,
            other => {
                return Err(bad(format!(
                    "it is compressed with {other}, which mapfold does not read (it reads \
                     DefaultCodec, GzipCodec, BZip2Codec, ZStandardCodec and hadoop-lzo's \
                     LzoCodec)"
                )));
            }
        })
    }

    /// `data` (one whole compressed buffer) decompressed into `out`.
    fn decompress(self, data: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        out.clear();
        match self {
            Self::Stream(c) => {
                let r = c.decoder(data).map_err(io::Error::other)?;
                r.take(MAX_BUFFER as u64 + 1).read_to_end(out)?;
                if out.len() > MAX_BUFFER {
                    return Err(bad("a compressed buffer expands past 1 GiB"));
                }
            }
            Self::Lzo => {
                let mut at = 0;
                let int = |at: &mut usize| -> io::Result<usize> {
                    let b = data
                        .get(*at..*at + 4)
                        .ok_or_else(|| bad("an LZO block ends early"))?;
                    *at += 4;
                    usize::try_from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                        .map_err(|_| bad("an LZO block has a negative length"))
                };
                while at < data.len() {
                    let block = int(&mut at)?;
                    if block == 0 {
                        break;
                    }
                    if out.len() + block > MAX_BUFFER {
                        return Err(bad("a compressed buffer expands past 1 GiB"));
                    }
                    let goal = out.len() + block;
                    while out.len() < goal {
                        let n = int(&mut at)?;
                        let chunk = data
                            .get(at..at + n)
                            .ok_or_else(|| bad("an LZO chunk ends early"))?;
                        at += n;
                        super::lzo::decompress(chunk, goal - out.len(), out).map_err(bad_lzo)?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn bad_lzo(e: super::lzo::LzoError) -> io::Error {
    bad(e.to_string())
}

/// A file's header: what its records hold and how they are stored.
#[derive(Debug)]
struct Header {
    key: Writable,
    value: Writable,
    /// Values compressed one by one (record compression), or whole blocks.
    codec: Option<SeqCodec>,
    block: bool,
    sync: [u8; SYNC_HASH],
    /// Where the first record (or block) starts.
    end: u64,
}

/// The header's bytes, read from the start of the file.
struct HeaderBytes<'a, R> {
    r: &'a mut R,
    pos: u64,
    len: u64,
}

impl<R: Read> HeaderBytes<'_, R> {
    fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        if n as u64 > self.len - self.pos {
            return Err(bad("its header ends early"));
        }
        let mut b = vec![0; n];
        self.r.read_exact(&mut b)?;
        self.pos += n as u64;
        Ok(b)
    }

    /// A class name or metadata string: `Text.readString` (a vlong length),
    /// or before version 4 `UTF8.readFields` (an unsigned 16-bit one).
    fn string(&mut self, version: u8) -> io::Result<String> {
        let n = if version < 4 {
            let b = self.take(2)?;
            usize::from(u16::from_be_bytes([b[0], b[1]]))
        } else {
            let n = vlong(&mut || self.take(1).map(|b| b[0]))?;
            usize::try_from(n).map_err(|_| bad("a negative string length"))?
        };
        String::from_utf8(self.take(n)?).map_err(|_| bad("a header string that is not UTF-8"))
    }
}

/// A SequenceFile positioned at a record, as `SequenceFile.Reader`.
struct Reader<R> {
    r: R,
    pos: u64,
    len: u64,
    h: Header,
    /// The last record read was the first after a sync marker.
    sync_seen: bool,
    /// The current block's buffers and the records left in it.
    block: Block,
    scratch: Vec<u8>,
}

#[derive(Debug, Default)]
struct Block {
    left: u64,
    key_lens: Vec<u8>,
    keys: Vec<u8>,
    value_lens: Vec<u8>,
    values: Vec<u8>,
    at: [usize; 4],
}

impl<R: Read + Seek> Reader<R> {
    fn open(mut r: R, len: u64) -> io::Result<Self> {
        let mut h = HeaderBytes {
            r: &mut r,
            pos: 0,
            len,
        };
        let magic = h.take(4)?;
        if &magic[..3] != b"SEQ" {
            return Err(bad("it is not a SequenceFile (no SEQ at its start)"));
        }
        let version = magic[3];
        if !(2..=6).contains(&version) {
            return Err(bad(format!(
                "it is a SequenceFile of version {version}; mapfold reads versions 2 to 6"
            )));
        }
        let key_class = h.string(version)?;
        let value_class = h.string(version)?;
        let compressed = version > 2 && h.take(1)?[0] != 0;
        let block = version >= 4 && h.take(1)?[0] != 0;
        let codec = match (compressed, version >= 5) {
            (false, _) => None,
            (true, true) => Some(SeqCodec::of(&h.string(version)?)?),
            (true, false) => Some(SeqCodec::Stream(Codec::Deflate)),
        };
        if version >= 6 {
            let b = h.take(4)?;
            let n = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            if n < 0 {
                return Err(bad("its header's metadata has a negative count"));
            }
            for _ in 0..2 * i64::from(n) {
                h.string(version)?;
            }
        }
        let sync: [u8; SYNC_HASH] = h
            .take(SYNC_HASH)?
            .try_into()
            .map_err(|_| bad("its sync marker"))?;
        let pos = h.pos;
        let h = Header {
            key: Writable::of(&key_class)?,
            value: Writable::of(&value_class)?,
            codec,
            block,
            sync,
            end: pos,
        };
        Ok(Self {
            r,
            pos,
            len,
            h,
            sync_seen: false,
            block: Block::default(),
            scratch: Vec::new(),
        })
    }

    fn read_exact(&mut self, b: &mut [u8]) -> io::Result<()> {
        self.r.read_exact(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    fn int(&mut self) -> io::Result<i32> {
        let mut b = [0; 4];
        self.read_exact(&mut b)?;
        Ok(i32::from_be_bytes(b))
    }

    fn byte(&mut self) -> io::Result<u8> {
        let mut b = [0; 1];
        self.read_exact(&mut b)?;
        Ok(b[0])
    }

    /// A variable-length integer from the file.
    fn vlong(&mut self) -> io::Result<i64> {
        vlong(&mut || self.byte())
    }

    /// `n` bytes read into `out`, when the file has them.
    fn bytes(&mut self, n: i64, out: &mut Vec<u8>) -> io::Result<()> {
        let n = u64::try_from(n).map_err(|_| bad("a negative length"))?;
        if n > self.len - self.pos {
            return Err(bad(format!(
                "a length of {n} bytes at byte {} runs past the end of the file",
                self.pos
            )));
        }
        out.resize(n as usize, 0);
        self.r.read_exact(out)?;
        self.pos += n;
        Ok(())
    }

    fn check_sync(&mut self) -> io::Result<()> {
        let mut s = [0; SYNC_HASH];
        self.read_exact(&mut s)?;
        if s != self.h.sync {
            return Err(bad(format!(
                "the file is corrupt: a sync marker that is not the header's at byte {}",
                self.pos - SYNC_HASH as u64
            )));
        }
        Ok(())
    }

    fn seek(&mut self, to: u64) -> io::Result<()> {
        self.r.seek(SeekFrom::Start(to))?;
        self.pos = to;
        self.block.left = 0;
        Ok(())
    }

    /// `Reader.sync(position)`: to the first sync marker at or after
    /// `position` (the header's end when `position` is inside the
    /// header), or to the end.
    fn sync(&mut self, position: u64) -> io::Result<()> {
        if position + SYNC_SIZE >= self.len {
            return self.seek(self.len);
        }
        if position < self.h.end {
            self.seek(self.h.end)?;
            self.sync_seen = true;
            return Ok(());
        }
        self.seek(position + 4)?;
        let mut window = [0u8; SYNC_HASH];
        self.read_exact(&mut window)?;
        let mut i = 0usize;
        while self.pos < self.len {
            if (0..SYNC_HASH).all(|j| self.h.sync[j] == window[(i + j) % SYNC_HASH]) {
                return self.seek(self.pos - SYNC_SIZE);
            }
            window[i % SYNC_HASH] = self.byte()?;
            i += 1;
        }
        Ok(())
    }

    /// The next record's key and value as serialized (the value
    /// decompressed); false at the end of the file.
    fn next(&mut self, key: &mut Vec<u8>, value: &mut Vec<u8>) -> io::Result<bool> {
        if self.h.block {
            return self.next_in_block(key, value);
        }
        if self.pos >= self.len {
            return Ok(false);
        }
        let mut length = self.int()?;
        if length == -1 {
            self.check_sync()?;
            self.sync_seen = true;
            if self.pos >= self.len {
                return Ok(false);
            }
            length = self.int()?;
        } else {
            self.sync_seen = false;
        }
        let key_len = self.int()?;
        if key_len < 0 || key_len > length {
            return Err(bad(format!(
                "a record at byte {} has a key of {key_len} bytes in {length}",
                self.pos - 8
            )));
        }
        self.bytes(i64::from(key_len), key)?;
        match self.h.codec {
            None => self.bytes(i64::from(length - key_len), value)?,
            Some(c) => {
                let mut raw = std::mem::take(&mut self.scratch);
                self.bytes(i64::from(length - key_len), &mut raw)?;
                c.decompress(&raw, value)?;
                self.scratch = raw;
            }
        }
        Ok(true)
    }

    fn next_in_block(&mut self, key: &mut Vec<u8>, value: &mut Vec<u8>) -> io::Result<bool> {
        self.sync_seen = false;
        if self.block.left == 0 {
            if self.pos >= self.len {
                return Ok(false);
            }
            self.read_block()?;
        }
        let b = &mut self.block;
        let [kl, k, vl, v] = &mut b.at;
        let klen = vlong(&mut || next_byte(&b.key_lens, kl))?;
        let vlen = vlong(&mut || next_byte(&b.value_lens, vl))?;
        let cut = |buf: &[u8], at: &mut usize, n: i64, out: &mut Vec<u8>| -> io::Result<()> {
            let n = usize::try_from(n).map_err(|_| bad("a negative length in a block"))?;
            let s = buf
                .get(*at..at.saturating_add(n))
                .ok_or_else(|| bad("a block's lengths run past its data"))?;
            out.clear();
            out.extend_from_slice(s);
            *at += n;
            Ok(())
        };
        cut(&b.keys, k, klen, key)?;
        cut(&b.values, v, vlen, value)?;
        b.left -= 1;
        Ok(true)
    }

    /// Reads the block at the current position: its sync marker, record
    /// count and four compressed buffers.
    fn read_block(&mut self) -> io::Result<()> {
        let escape = self.int()?;
        if escape != -1 {
            return Err(bad(format!(
                "the file is corrupt: no sync marker before the block at byte {}",
                self.pos - 4
            )));
        }
        self.check_sync()?;
        self.sync_seen = true;
        let n = self.vlong()?;
        let n = u64::try_from(n).map_err(|_| bad("a block with a negative record count"))?;
        let codec = self
            .h
            .codec
            .ok_or_else(|| bad("block-compressed without a codec"))?;
        let mut bufs: [Vec<u8>; 4] = Default::default();
        for out in &mut bufs {
            let len = self.vlong()?;
            let mut raw = std::mem::take(&mut self.scratch);
            self.bytes(len, &mut raw)?;
            codec.decompress(&raw, out)?;
            self.scratch = raw;
        }
        let [key_lens, keys, value_lens, values] = bufs;
        self.block = Block {
            left: n,
            key_lens,
            keys,
            value_lens,
            values,
            at: [0; 4],
        };
        Ok(())
    }
}

/// Writes the records of the split `start..start + length` of the
/// SequenceFile at `path` to `out` as `KEY<TAB>VALUE` lines, calling
/// `progress` with the bytes read.
pub fn feed(
    path: &Path,
    start: u64,
    length: u64,
    out: &mut dyn Write,
    progress: impl FnMut(u64),
) -> io::Result<()> {
    let f = File::open(path)?;
    let len = f.metadata()?.len();
    feed_from(
        BufReader::with_capacity(1 << 20, f),
        len,
        start,
        length,
        out,
        progress,
    )
    .map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("reading the SequenceFile {}: {e}", path.display()),
        )
    })
}

/// [`feed`] from `r`, a SequenceFile of `len` bytes.
fn feed_from<R: Read + Seek>(
    r: R,
    len: u64,
    start: u64,
    length: u64,
    out: &mut dyn Write,
    mut progress: impl FnMut(u64),
) -> io::Result<()> {
    let mut r = Reader::open(r, len)?;
    let end = start.saturating_add(length);
    if start > r.pos {
        r.sync(start)?;
    }
    let (mut key, mut value, mut line) = (Vec::new(), Vec::new(), Vec::new());
    let mut more = r.pos < end;
    while more {
        let pos = r.pos;
        let remaining = r.next(&mut key, &mut value)?;
        // A record after a sync marker past the split's end belongs to the
        // next split (SequenceFileRecordReader.next).
        more = remaining && !(pos >= end && r.sync_seen);
        if more {
            line.clear();
            r.h.key.text(&key, &mut line)?;
            line.push(b'\t');
            r.h.value.text(&value, &mut line)?;
            line.push(b'\n');
            out.write_all(&line)?;
        }
        progress(r.pos - pos);
    }
    Ok(())
}

/// The first `KEY<TAB>VALUE` lines of a SequenceFile whose first bytes
/// are `start`: what the driver looks at to find a header and the columns.
/// The records that `start` holds whole; none when it is not a
/// SequenceFile's start.
pub fn head(start: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    // The cut is the end of the file, as far as the reader knows; the
    // record it cuts is an error, after the lines before it.
    let _ = feed_from(
        io::Cursor::new(start),
        start.len() as u64,
        0,
        start.len() as u64,
        &mut out,
        |_| {},
    );
    // Only whole lines.
    let keep = out.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    out.truncate(keep);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlongs_as_hadoop_writes_them() {
        // WritableUtils.writeVLong's encodings of a few values.
        let cases: [(&[u8], i64); 6] = [
            (&[0x00], 0),
            (&[0x7f], 127),
            (&[0x90], -112),
            (&[0x8f, 0x80], 128),
            (&[0x87, 0x70], -113),
            (
                &[0x80, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                i64::MIN,
            ),
        ];
        for (b, v) in cases {
            let mut at = 0;
            assert_eq!(
                vlong(&mut || next_byte(b, &mut at)).expect("vlong"),
                v,
                "{b:?}"
            );
            assert_eq!(at, b.len());
        }
    }

    #[test]
    fn writables_as_to_string_shows_them() {
        let t = |w: Writable, b: &[u8]| {
            let mut out = Vec::new();
            w.text(b, &mut out)
                .map(|()| String::from_utf8(out).expect("utf8"))
        };
        assert_eq!(t(Writable::Text, b"\x03a\tb").expect("text"), "a\tb");
        assert_eq!(
            t(Writable::Long, &(-5i64).to_be_bytes()).expect("long"),
            "-5"
        );
        assert_eq!(t(Writable::Int, &7i32.to_be_bytes()).expect("int"), "7");
        assert_eq!(
            t(Writable::Bytes, b"\0\0\0\x02\x0a\xff").expect("bytes"),
            "0a ff"
        );
        assert_eq!(t(Writable::Boolean, b"\x01").expect("bool"), "true");
        assert_eq!(t(Writable::Null, b"").expect("null"), "(null)");
        assert!(t(Writable::Text, b"\x05ab").is_err());
        assert!(t(Writable::Long, b"\0\0").is_err());
    }
}
