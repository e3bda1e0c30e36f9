"""Hadoop SequenceFiles for the tests, following Hadoop's own
SequenceFile.java (Writer, RecordCompressWriter, BlockCompressWriter and
Reader), mapred's SequenceFileRecordReader (a split reads from the first
sync marker at or after its start until a record past its end follows a
sync marker) and SequenceFileAsTextRecordReader (key and value as their
toString()). The writer makes the test inputs; the reader is the test
Hadoop's record reader for -inputformat SequenceFileAsTextInputFormat.

Codecs: DefaultCodec (zlib), GzipCodec, BZip2Codec, ZStandardCodec and
hadoop-lzo's LzoCodec (BlockCompressorStream framing over LZO1X-1 from
liblzo2, by python-lzo).

As a script: seqfile.py SRC.tsv DIR writes the rows of SRC (row number,
then the line) as SequenceFiles in every layout and codec under DIR.
"""

import bz2
import gzip
import hashlib
import io
import os
import struct
import sys
import zlib

SYNC_ESCAPE = -1
SYNC_HASH = 16
SYNC_SIZE = 4 + SYNC_HASH
SYNC_INTERVAL = 5 * 1024 * SYNC_SIZE
# LzoCodec's io.compression.codec.lzo.buffersize default, less
# BlockCompressorStream's compression overhead for LZO.
LZO_BUFFER = 64 * 1024
LZO_MAX_INPUT = LZO_BUFFER - (LZO_BUFFER // 16 + 64 + 3)

CODECS = {
    "zlib": "org.apache.hadoop.io.compress.DefaultCodec",
    "gzip": "org.apache.hadoop.io.compress.GzipCodec",
    "bzip2": "org.apache.hadoop.io.compress.BZip2Codec",
    "zstd": "org.apache.hadoop.io.compress.ZStandardCodec",
    "lzo": "com.hadoop.compression.lzo.LzoCodec",
}
CLASSES = {
    "text": "org.apache.hadoop.io.Text",
    "long": "org.apache.hadoop.io.LongWritable",
    "int": "org.apache.hadoop.io.IntWritable",
    "bytes": "org.apache.hadoop.io.BytesWritable",
    "null": "org.apache.hadoop.io.NullWritable",
}


def write_vlong(i):
    """WritableUtils.writeVLong."""
    if -112 <= i <= 127:
        return struct.pack(">b", i)
    length = -112
    if i < 0:
        i ^= -1
        length = -120
    tmp = i
    while tmp != 0:
        tmp >>= 8
        length -= 1
    out = struct.pack(">b", length)
    n = -(length + 120) if length < -120 else -(length + 112)
    for idx in range(n, 0, -1):
        out += bytes([(i >> ((idx - 1) * 8)) & 0xFF])
    return out


def read_vlong(buf, at):
    """WritableUtils.readVLong from buf[at:]: (value, new position)."""
    first = struct.unpack(">b", buf[at:at + 1])[0]
    at += 1
    if first >= -112:
        return first, at
    negative = first < -120
    n = (-120 - first) if negative else (-112 - first)
    v = int.from_bytes(buf[at:at + n], "big")
    at += n
    return (v ^ -1 if negative else v), at


def text(b):
    return write_vlong(len(b)) + b


def serialize(kind, v):
    """The Writable's write()."""
    if kind == "text":
        return text(v if isinstance(v, bytes) else str(v).encode())
    if kind == "long":
        return struct.pack(">q", v)
    if kind == "int":
        return struct.pack(">i", v)
    if kind == "bytes":
        return struct.pack(">i", len(v)) + v
    if kind == "null":
        return b""
    raise ValueError(kind)


def compress(codec, data):
    """One whole compressed stream of `data`, as the codec's output stream
    writes it between resetState() and finish()."""
    if codec == "zlib":
        return zlib.compress(data)
    if codec == "gzip":
        return gzip.compress(data)
    if codec == "bzip2":
        return bz2.compress(data)
    if codec == "zstd":
        import zstandard
        return zstandard.ZstdCompressor().compress(data)
    if codec == "lzo":
        import lzo
        # BlockCompressorStream: input over MAX_INPUT_SIZE is one block (its
        # whole length) of chunks compressed separately; else one block of
        # one chunk.
        out = b""
        pieces = [data[i:i + LZO_MAX_INPUT] for i in range(0, len(data), LZO_MAX_INPUT)] or [b""]
        if len(data) > LZO_MAX_INPUT:
            out += struct.pack(">i", len(data))
            for p in pieces:
                c = lzo.compress(p, 1, False)
                out += struct.pack(">i", len(c)) + c
            return out
        c = lzo.compress(data, 1, False)
        return struct.pack(">i", len(data)) + struct.pack(">i", len(c)) + c
    raise ValueError(codec)


def decompress(codec, data):
    if codec == "zlib":
        return zlib.decompress(data)
    if codec == "gzip":
        return gzip.decompress(data)
    if codec == "bzip2":
        return bz2.decompress(data)
    if codec == "zstd":
        import zstandard
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    if codec == "lzo":
        import lzo
        out, at = b"", 0
        while at < len(data):
            (block,) = struct.unpack(">i", data[at:at + 4])
            at += 4
            if block == 0:
                break
            goal = len(out) + block
            while len(out) < goal:
                (n,) = struct.unpack(">i", data[at:at + 4])
                at += 4
                out += lzo.decompress(data[at:at + n], False, goal - len(out))
                at += n
        return out
    raise ValueError(codec)


class Writer:
    """SequenceFile.Writer (compression "none"), RecordCompressWriter
    ("record") and BlockCompressWriter ("block"), version 6."""

    def __init__(self, f, key, value, compression="none", codec=None,
                 sync_interval=SYNC_INTERVAL, block_size=1_000_000, metadata=()):
        self.f, self.key, self.value = f, key, value
        self.compression, self.codec = compression, codec
        self.sync_interval, self.block_size = sync_interval, block_size
        self.sync = hashlib.md5(os.urandom(16)).digest()
        self.last_sync = 0
        self.records = []
        self.buffered = 0
        f.write(b"SEQ\x06" + text(CLASSES[key].encode()) + text(CLASSES[value].encode()))
        f.write(bytes([compression != "none", compression == "block"]))
        if compression != "none":
            f.write(text(CODECS[codec].encode()))
        f.write(struct.pack(">i", len(metadata)))
        for k, v in sorted(metadata):
            f.write(text(k.encode()) + text(v.encode()))
        f.write(self.sync)

    def write_sync(self):
        """Writer.sync(): an escape and the marker, unless one is here."""
        if self.last_sync != self.f.tell():
            self.f.write(struct.pack(">i", SYNC_ESCAPE) + self.sync)
            self.last_sync = self.f.tell()

    def append(self, k, v):
        kb, vb = serialize(self.key, k), serialize(self.value, v)
        if self.compression == "block":
            self.records.append((kb, vb))
            self.buffered += len(kb) + len(vb)
            if self.buffered >= self.block_size:
                self.flush_block()
            return
        if self.compression == "record":
            vb = compress(self.codec, vb)
        if self.f.tell() >= self.last_sync + self.sync_interval:
            self.write_sync()
        self.f.write(struct.pack(">ii", len(kb) + len(vb), len(kb)) + kb + vb)

    def flush_block(self):
        """BlockCompressWriter.sync(): the marker, the record count, then
        key lengths, keys, value lengths and values, each compressed."""
        if not self.records:
            return
        self.write_sync()
        self.f.write(write_vlong(len(self.records)))
        bufs = [
            b"".join(write_vlong(len(k)) for k, _ in self.records),
            b"".join(k for k, _ in self.records),
            b"".join(write_vlong(len(v)) for _, v in self.records),
            b"".join(v for _, v in self.records),
        ]
        for b in bufs:
            c = compress(self.codec, b)
            self.f.write(write_vlong(len(c)) + c)
        self.records, self.buffered = [], 0

    def close(self):
        if self.compression == "block":
            self.flush_block()


def to_string(kind, b):
    """The Writable's toString() of its serialized bytes."""
    if kind == "org.apache.hadoop.io.Text":
        n, at = read_vlong(b, 0)
        assert at + n == len(b), "a Text of the wrong length"
        return b[at:]
    if kind == "org.apache.hadoop.io.LongWritable":
        return str(struct.unpack(">q", b)[0]).encode()
    if kind == "org.apache.hadoop.io.IntWritable":
        return str(struct.unpack(">i", b)[0]).encode()
    if kind == "org.apache.hadoop.io.BytesWritable":
        (n,) = struct.unpack(">i", b[:4])
        return " ".join("%02x" % x for x in b[4:4 + n]).encode()
    if kind == "org.apache.hadoop.io.NullWritable":
        return b"(null)"
    raise ValueError("no toString for " + kind)


class Reader:
    """SequenceFile.Reader over the bytes of a whole file."""

    def __init__(self, data):
        self.d, self.pos, self.sync_seen = data, 0, False
        assert data[:3] == b"SEQ", "not a SequenceFile"
        version = data[3]
        assert version == 6, "the test reader reads version 6"
        self.pos = 4
        self.key_class, self.value_class = self.string(), self.string()
        self.compressed, self.block = data[self.pos] != 0, data[self.pos + 1] != 0
        self.pos += 2
        self.codec = None
        if self.compressed:
            name = self.string()
            self.codec = {v: k for k, v in CODECS.items()}[name]
        (n,) = struct.unpack(">i", data[self.pos:self.pos + 4])
        self.pos += 4
        for _ in range(2 * n):
            self.string()
        self.sync = data[self.pos:self.pos + SYNC_HASH]
        self.pos += SYNC_HASH
        self.header_end = self.pos
        self.pending = []

    def string(self):
        n, self.pos = read_vlong(self.d, self.pos)
        s = self.d[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def int(self):
        (v,) = struct.unpack(">i", self.d[self.pos:self.pos + 4])
        self.pos += 4
        return v

    def seek(self, pos):
        self.pos = pos
        self.pending = []

    def sync_to(self, position):
        """Reader.sync(position)."""
        end = len(self.d)
        if position + SYNC_SIZE >= end:
            self.seek(end)
            return
        if position < self.header_end:
            self.seek(self.header_end)
            self.sync_seen = True
            return
        # The scan looks at the windows from position + 4 that end before
        # the file does, and stops before the first that is the marker.
        at = self.d.find(self.sync, position + 4)
        if at < 0 or at + SYNC_HASH >= end:
            self.seek(end)
            return
        self.seek(at - 4)

    def next(self):
        """(key bytes, value bytes), or None at the end."""
        if self.block:
            self.sync_seen = False
            if not self.pending:
                if self.pos >= len(self.d):
                    return None
                assert self.int() == SYNC_ESCAPE, "no sync before a block"
                assert self.d[self.pos:self.pos + SYNC_HASH] == self.sync, "corrupt"
                self.pos += SYNC_HASH
                self.sync_seen = True
                n, self.pos = read_vlong(self.d, self.pos)
                bufs = []
                for _ in range(4):
                    m, self.pos = read_vlong(self.d, self.pos)
                    bufs.append(decompress(self.codec, self.d[self.pos:self.pos + m]))
                    self.pos += m
                kl, keys, vl, vals = bufs
                ka = ko = va = vo = 0
                for _ in range(n):
                    a, ka = read_vlong(kl, ka)
                    b, va = read_vlong(vl, va)
                    self.pending.append((keys[ko:ko + a], vals[vo:vo + b]))
                    ko += a
                    vo += b
                self.pending.reverse()
            return self.pending.pop()
        if self.pos >= len(self.d):
            return None
        length = self.int()
        if length == SYNC_ESCAPE:
            assert self.d[self.pos:self.pos + SYNC_HASH] == self.sync, "corrupt"
            self.pos += SYNC_HASH
            self.sync_seen = True
            if self.pos >= len(self.d):
                return None
            length = self.int()
        else:
            self.sync_seen = False
        klen = self.int()
        k = self.d[self.pos:self.pos + klen]
        v = self.d[self.pos + klen:self.pos + length]
        self.pos += length
        if self.compressed:
            v = decompress(self.codec, v)
        return k, v


def as_text_records(data, start, end):
    """What a streaming mapper reads of the split start..end with
    SequenceFileAsTextInputFormat: KEY TAB VALUE lines."""
    r = Reader(data)
    if start > r.pos:
        r.sync_to(start)
    out = []
    more = r.pos < end
    while more:
        pos = r.pos
        rec = r.next()
        more = rec is not None and not (pos >= end and r.sync_seen)
        if more:
            out.append(to_string(r.key_class, rec[0]) + b"\t" + to_string(r.value_class, rec[1]) + b"\n")
    return b"".join(out)


def write_all(src, out):
    """The rows of `src` (a text file) under `out` in every layout: the row
    number as a LongWritable key, the line as a Text value."""
    rows = open(src, "rb").read().splitlines()
    os.makedirs(out, exist_ok=True)
    layouts = [("none", None, 2000), ("none", None, SYNC_INTERVAL)]
    layouts += [("record", c, 3000) for c in ("zlib", "gzip", "lzo")]
    layouts += [("block", c, 0) for c in CODECS]
    for compression, codec, interval in layouts:
        name = "%s-%s-%d" % (compression, codec or "plain", interval)
        with open(os.path.join(out, name), "wb") as f:
            w = Writer(f, "long", "text", compression, codec,
                       sync_interval=interval or SYNC_INTERVAL, block_size=20_000,
                       metadata=[("written.by", "tests/seqfile.py")])
            for i, row in enumerate(rows):
                w.append(i, row)
            w.close()


if __name__ == "__main__":
    write_all(sys.argv[1], sys.argv[2])
