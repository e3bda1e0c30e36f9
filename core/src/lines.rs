//! Reading LF-terminated lines fast, without copying or UTF-8 checks.

use std::io::{self, Read};

/// Starting size of the read buffer; it doubles for longer lines.
const BUF: usize = 1 << 20;

/// Calls `f` for each line of `r` (without its `\n`); a last line without a
/// newline is still a line, as in Hadoop's `LineRecordReader`.
pub fn for_each_line<R: Read, E: From<io::Error>>(
    mut r: R,
    mut f: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut buf = vec![0u8; BUF];
    let (mut start, mut end) = (0, 0);
    loop {
        if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        if end == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match r.read(&mut buf[end..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            if end > start {
                f(&buf[start..end])?;
            }
            return Ok(());
        }
        let scan = end;
        end += n;
        for nl in memchr::memchr_iter(b'\n', &buf[scan..end]) {
            let nl = scan + nl;
            f(&buf[start..nl])?;
            start = nl + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8]) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        for_each_line::<_, io::Error>(input, |l| {
            v.push(l.to_vec());
            Ok(())
        })
        .expect("reads");
        v
    }

    #[test]
    fn splits_lines() {
        assert_eq!(
            collect(b"a\nb\n\nc"),
            vec![b"a".to_vec(), b"b".to_vec(), vec![], b"c".to_vec()]
        );
        assert_eq!(collect(b""), Vec::<Vec<u8>>::new());
        let long = vec![b'x'; 3 * BUF + 7];
        let mut input = long.clone();
        input.extend_from_slice(b"\nend\n");
        assert_eq!(collect(&input), vec![long, b"end".to_vec()]);
    }
}
