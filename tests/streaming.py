"""Hadoop streaming, as the tests need it: the argument list read as
StreamJob reads it, the -mapper, -combiner and -reducer strings split by
the port of StreamUtil.splitArgs and run over the shipped programs, the
job configuration (-D) exported to every task's environment as streaming
does (`mapfold.schema` becomes `mapfold_schema`), one map task per split
as FileInputFormat.getSplits cuts files (split size max(minsize,
min(maxsize, block size)), the last split up to 1.1 of it, a compressed
file (.gz, .bz2, .zst, .deflate) whole and decompressed; the block size
is $FAKE_HADOOP_BLOCK_SIZE, 128 MiB by default), the map output
partitioned by Hadoop's HashPartitioner and sorted by key
bytes. The mapper reads the lines of its split as LineRecordReader cuts
them, each written with a LF, or with -inputformat
SequenceFileAsTextInputFormat the KEY TAB VALUE lines of its split of a
SequenceFile (seqfile.py), or with FixedLengthInputFormat its records
(rawbytes frames with -D stream.map.input=rawbytes). Used by the EMR test stack and the fake
`hadoop` command.
"""

import gzip
import os
import re
import subprocess


def parse(args):
    """The options of a streaming argument list (what follows
    `hadoop jar JAR` or the EMR step's `hadoop-streaming`)."""
    opts = {"-D": [], "-input": []}
    i = 0
    while i < len(args):
        k = args[i]
        v = args[i + 1] if i + 1 < len(args) else None
        if k in ("-D", "-input"):
            opts[k].append(v)
        else:
            opts[k] = v
        i += 2
    return opts


def jobconf_env(opts):
    """-D NAME=VALUE as streaming exports it to tasks: every character of
    the name that is not a letter, digit or `_` becomes `_`."""
    env = {}
    for d in opts["-D"]:
        name, _, value = d.partition("=")
        env[re.sub(r"[^A-Za-z0-9_]", "_", name)] = value
    return env


class NotAFile(Exception):
    """A directory inside an input directory, which the old-API
    FileInputFormat.getSplits refuses ("Not a file: ...") unless the input
    is read recursively."""


def splits_of(urls, locals_, opts=None):
    """One entry per file: (the name the task is told, the local path),
    files of a directory in name order, hidden ones (`_`, `.`) skipped; a
    subdirectory raises NotAFile unless -D
    mapreduce.input.fileinputformat.input.dir.recursive=true, which reads
    below it."""
    conf = jobconf_env(opts) if opts else {}
    recursive = conf.get("mapreduce_input_fileinputformat_input_dir_recursive") == "true"
    splits = []
    for url, local in zip(urls, locals_):
        if os.path.isfile(local):
            splits.append((url, local))
            continue
        for d, dirs, fs in os.walk(local):
            dirs[:] = sorted(x for x in dirs if not x.startswith((".", "_")))
            if dirs and not recursive:
                raise NotAFile(url.rstrip("/") + "/" + os.path.relpath(os.path.join(d, dirs[0]), local))
            for f in sorted(fs):
                if f.startswith((".", "_")):
                    continue  # FileInputFormat's hidden-file filter
                path = os.path.join(d, f)
                splits.append((url.rstrip("/") + "/" + os.path.relpath(path, local), path))
    return splits


def text_records(data, start=0, end=None):
    """The map input as streaming writes it to the mapper: the lines of
    TextInputFormat's LineRecordReader for the split `start..end` of
    `data` (ended by LF, CR LF or a lone CR, as LineReader.readDefaultLine
    ends them; a last line needs no end), each followed by LF. As the
    reader does, a split past the start of its file drops the line it
    starts in (the split before reads it) and reads every line that starts
    at or before its end."""
    end = len(data) if end is None else end
    out = []
    pos = 0
    for m in re.finditer(rb"\r\n|\r|\n", data):
        line_start, pos = pos, m.end()
        if (line_start > start or start == 0) and line_start <= end:
            out.append(data[line_start:m.start()] + b"\n")
    if pos < len(data) and (pos > start or start == 0) and pos <= end:
        out.append(data[pos:] + b"\n")
    return b"".join(out)


def codec_of(path):
    """The codec Hadoop's CompressionCodecFactory picks by suffix."""
    for suffix in (".gz", ".bz2", ".zst", ".deflate"):
        if path.endswith(suffix):
            return suffix
    return None


def decompress(path, raw):
    """The bytes a codec gives, concatenated members and frames too."""
    codec = codec_of(path)
    if codec == ".gz":
        return gzip.decompress(raw)
    if codec == ".bz2":
        import bz2
        return bz2.decompress(raw)
    if codec == ".zst":
        return b"".join(_zstd_frames(raw))
    if codec == ".deflate":
        import zlib
        return zlib.decompress(raw)
    return raw


def _zstd_frames(raw):
    import io
    import zstandard
    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True) as r:
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                return
            yield chunk


SPLIT_SLOP = 1.1


SEQUENCE_AS_TEXT = "org.apache.hadoop.mapred.SequenceFileAsTextInputFormat"
FIXED_LENGTH = "org.apache.hadoop.mapred.FixedLengthInputFormat"
INPUT_FORMATS = (None, "org.apache.hadoop.mapred.TextInputFormat", SEQUENCE_AS_TEXT, FIXED_LENGTH)


def fixed_length_records(data, start, length, record_length, rawbytes):
    """What a streaming mapper reads of the split start..start+length with
    FixedLengthInputFormat (FixedLengthRecordReader: records of
    record_length bytes from offset 0, those that start in the split, a
    partial last record an error), written by RawBytesInputWriter when
    stream.map.input=rawbytes (each key, a LongWritable offset, and value
    as a 4-byte big-endian length and its bytes) or else as TextInputWriter
    writes them (key TAB value LF)."""
    import struct
    pos = -(-start // record_length) * record_length
    n = max(0, -(-(start + length - pos) // record_length))
    out = []
    for _ in range(n):
        rec = data[pos:pos + record_length]
        if not rec:
            break
        if len(rec) < record_length:
            raise IOError("Partial record(length = %d) found at the end of split." % len(rec))
        if rawbytes:
            out.append(struct.pack(">iq", 8, pos) + struct.pack(">i", len(rec)) + rec)
        else:
            out.append(b"%d\t%s\n" % (pos, rec))
        pos += record_length
    return b"".join(out)


def file_splits(path, size, conf, sequence=False):
    """FileInputFormat.getSplits for one file: (start, length) pairs. A
    SequenceFile is splittable whatever its name, and its input format's
    smallest split is SequenceFile.SYNC_INTERVAL."""
    if (codec_of(path) and not sequence) or size == 0:
        return [(0, size)]
    block = int(os.environ.get("FAKE_HADOOP_BLOCK_SIZE", str(128 << 20)))
    lo = int(conf.get("mapreduce_input_fileinputformat_split_minsize", "1"))
    if sequence:
        import seqfile
        lo = max(lo, seqfile.SYNC_INTERVAL)
    hi = int(conf.get("mapreduce_input_fileinputformat_split_maxsize", str(2**63 - 1)))
    split = max(lo, min(hi, block))
    out, left = [], size
    while left / split > SPLIT_SLOP:
        out.append((size - left, split))
        left -= split
    if left:
        out.append((size - left, left))
    return out


def run(opts, bins, splits, out_dir):
    """Runs the job into `out_dir` (part files and _SUCCESS); returns
    (ok, stderr of the tasks)."""
    if split_args(opts["-mapper"])[:1] != ["mapfold-map"]:
        return False, "the test streaming runs mapfold jobs only: -mapper %r" % opts["-mapper"]
    reducers = int(opts.get("-numReduceTasks", "1"))
    conf = jobconf_env(opts)
    fmt = opts.get("-inputformat")
    if fmt not in INPUT_FORMATS:
        return False, "Exception in thread \"main\" java.lang.ClassNotFoundException: %s" % fmt
    sequence = fmt == SEQUENCE_AS_TEXT
    fixed = fmt == FIXED_LENGTH
    if fixed and "fixedlengthinputformat_record_length" not in conf:
        return False, "java.io.IOException: Fixed record length 0 is invalid. It should be set to a value greater than zero"
    parts = [[] for _ in range(reducers)]
    tasks = []
    for url, path in splits:
        with open(path, "rb") as f:
            raw = f.read()
        data = raw if sequence else decompress(path, raw)
        for start, length in file_splits(path, len(raw), conf, sequence):
            tasks.append((url, data, start, length, codec_of(path) is not None and not sequence))
    for m, (url, data, start, length, compressed) in enumerate(tasks):
        env = dict(conf, mapreduce_map_input_file=url, map_input_file=url,
                   mapreduce_map_input_start=str(start),
                   mapreduce_map_input_length=str(length),
                   mapreduce_task_partition=str(m))
        # A compressed stream is read to its end (LineRecordReader sets
        # the end past any position).
        end = None if compressed else start + length
        if sequence:
            import seqfile
            records_in = seqfile.as_text_records(data, start, start + length)
        elif fixed:
            try:
                records_in = fixed_length_records(
                    data, start, length, int(conf["fixedlengthinputformat_record_length"]),
                    conf.get("stream_map_input") == "rawbytes")
            except IOError as e:
                return False, "java.io.IOException: %s" % e
        else:
            records_in = text_records(data, start, end)
        ok, out, err = run_task(bins, opts["-mapper"], records_in, env)
        if not ok:
            return False, err
        by_part = [[] for _ in range(reducers)]
        for rec in records(out):
            by_part[hash_partition(rec[0], reducers)].append(rec)
        for r, recs in enumerate(by_part):
            recs.sort(key=lambda kv: kv[0])
            if "-combiner" in opts and recs:
                ok, out, err = run_task(bins, opts["-combiner"], lines(recs), env)
                if not ok:
                    return False, err
                recs = records(out)
            parts[r].extend(recs)
    os.makedirs(out_dir)
    stderr = ""
    for r, recs in enumerate(parts):
        recs.sort(key=lambda kv: kv[0])
        ok, out, err = run_task(bins, opts["-reducer"], lines(recs),
                                dict(conf, mapreduce_task_partition=str(r)))
        if not ok:
            return False, err
        stderr += err
        with open(os.path.join(out_dir, "part-%05d" % r), "wb") as f:
            f.write(out)
    open(os.path.join(out_dir, "_SUCCESS"), "wb").close()
    return True, stderr


def split_args(args):
    """Hadoop streaming's StreamUtil.splitArgs, ported from its Java source:
    how a real cluster turns the -mapper string into argv. Spaces split
    outside quotes; ' and " open a quote only the same character closes;
    every quote change also ends the word before it; no escapes; empty
    words are dropped. (Not a shell: shlex would accept what Hadoop breaks.)"""
    outside, single, double = 1, 2, 3
    out, state, start = [], outside, 0
    for c in range(len(args) + 1):
        last = c == len(args)
        before, end = state, False
        if not last:
            ch = args[c]
            if ch == "'":
                state = {outside: single, single: outside}.get(state, state)
                end = state != before
            elif ch == '"':
                state = {outside: double, double: outside}.get(state, state)
                end = state != before
            elif ch == " ":
                end = state == outside
        if last or end:
            if c != start:
                out.append(args[start:c])
            start = c + 1
    return out


def hash_partition(key, reducers):
    """Hadoop's HashPartitioner over a Text key: WritableComparator.hashBytes
    (h = 31 h + b over signed bytes, 32-bit) masked to positive, mod R."""
    h = 1
    for b in key:
        h = (31 * h + (b - 256 if b > 127 else b)) & 0xFFFFFFFF
    return (h & 0x7FFFFFFF) % reducers


def records(out):
    """Streaming's reading of a task's output: one record a line, the key
    up to the first tab, the rest the value (a line without a tab is all
    key)."""
    recs = []
    for line in out.split(b"\n")[:-1] if out.endswith(b"\n") else out.split(b"\n"):
        key, _, value = line.partition(b"\t")
        recs.append((key, value))
    return recs


def lines(recs):
    """Streaming's writing of records to a task: KEY, tab, VALUE, newline."""
    return b"".join(k + b"\t" + v + b"\n" for k, v in recs)


def run_task(bins, command, data, env):
    """One task: the -mapper/-combiner/-reducer string split as Hadoop
    splits it, its program from the task's directory (where -files put the
    shipped binaries), run there with `data` on stdin."""
    argv = split_args(command)
    exe = os.path.join(bins, argv[0])
    if not os.path.exists(exe):
        return False, b"", "Cannot run program %r: no such file" % argv[0]
    p = subprocess.run([exe, *argv[1:]], input=data, capture_output=True, cwd=bins,
                       env={**os.environ, **env})
    return p.returncode == 0, p.stdout, p.stderr.decode(errors="replace")


