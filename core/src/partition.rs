//! Hadoop's default partitioner for streaming keys.
//!
//! `HashPartitioner` on a `Text` key: Java's `Arrays.hashCode(byte[])` over
//! the key's bytes, each a *signed* Java byte, then
//! `(h & Integer.MAX_VALUE) % reducers`.

/// `h = 1; for b in key { h = 31 * h + (b as i8) }` with 32-bit wrap-around.
pub fn java_bytes_hash(key: &[u8]) -> i32 {
    key.iter().fold(1i32, |h, &b| {
        h.wrapping_mul(31).wrapping_add(i32::from(b as i8))
    })
}

/// The reducer (0-based) that Hadoop sends `key` to.
pub fn partition(key: &[u8], reducers: u32) -> u32 {
    assert!(reducers > 0, "a job with keys has at least one reducer");
    if reducers == 1 {
        // Any hash: not computed (it is a visible cost per record).
        return 0;
    }
    ((java_bytes_hash(key) & i32::MAX) as u32) % reducers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_java() {
        // Values from java.util.Arrays.hashCode(byte[]).
        assert_eq!(java_bytes_hash(b""), 1);
        assert_eq!(java_bytes_hash(b"a"), 31 + 97);
        assert_eq!(java_bytes_hash(b"ab"), (31 + 97) * 31 + 98);
        // 0xFF is -1 as a Java byte: 31 * 1 - 1.
        assert_eq!(java_bytes_hash(&[0xFF]), 30);
        assert_eq!(java_bytes_hash(&[0x80, 0x7F]), (31 - 128) * 31 + 127);
        // Arrays.hashCode(b) == 31^len + String.hashCode for ASCII, so two
        // known String hashes give byte-array vectors, one of them wrapping:
        // "hello".hashCode() == 99162322,
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        assert_eq!(java_bytes_hash(b"hello"), 127_791_473);
        assert_eq!(java_bytes_hash(b"polygenelubricants"), 1_303_011_777);
        assert_eq!(partition(b"", 2), 1);
        assert_eq!(partition(&[0xFF], 4), 2);
    }
}
