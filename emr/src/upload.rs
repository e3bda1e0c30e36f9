//! Uploads to S3 that skip what is already there and verify what they send.
//!
//! An object is skipped when its size and the SHA-256 recorded in its
//! metadata (`x-amz-meta-mapfold-sha256`) match the local file. Every request
//! carries `Content-MD5`, so S3 rejects a body damaged on the way; afterwards
//! the ETag S3 reports is checked against the one computed locally (the MD5,
//! or for a multipart upload the MD5 of the parts' MD5s with `-N`). Parts of
//! a large file go up in parallel.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use base64::Engine;
use indicatif::{ProgressBar, ProgressStyle};
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::aws::{Aws, S3Url, describe};

/// The metadata key holding the content's SHA-256 (hex).
pub const SHA_KEY: &str = "mapfold-sha256";
/// S3's smallest part (all but the last).
pub const MIN_PART: u64 = 5 << 20;

#[derive(Debug, Clone)]
pub struct Options {
    pub part_size: u64,
    pub concurrency: usize,
    pub quiet: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            part_size: 16 << 20,
            concurrency: 8,
            quiet: false,
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub url: S3Url,
    pub size: u64,
    pub sha256: String,
    pub skipped: bool,
    pub parts: usize,
}

/// `(local file, destination)` for every file under `paths`: a file goes to
/// `dest/<name>`, a directory's files to `dest/<dir>/<relative path>`.
pub fn plan(paths: &[PathBuf], dest: &S3Url) -> anyhow::Result<Vec<(PathBuf, S3Url)>> {
    let mut out = Vec::new();
    for p in paths {
        let name = p
            .file_name()
            .with_context(|| format!("{} has no file name", p.display()))?
            .to_string_lossy()
            .into_owned();
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
                    .with_context(|| format!("listing {}", d.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .collect();
                entries.sort();
                for e in entries {
                    let hidden = e
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.') || n.starts_with('_'));
                    if hidden {
                        continue;
                    }
                    if e.is_dir() {
                        stack.push(e);
                    } else {
                        let rel = e
                            .strip_prefix(p)
                            .unwrap_or(&e)
                            .to_string_lossy()
                            .replace('\\', "/");
                        out.push((e.clone(), dest.join(&format!("{name}/{rel}"))));
                    }
                }
            }
        } else if p.is_file() {
            out.push((p.clone(), dest.join(&name)));
        } else {
            bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// SHA-256 of a file, hex.
pub fn sha256_file(p: &Path) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(p).with_context(|| format!("reading {}", p.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(hex(&h.finalize()));
        }
        h.update(&buf[..n]);
    }
}

fn read_range(p: &Path, start: u64, len: u64) -> anyhow::Result<Vec<u8>> {
    let mut f = std::fs::File::open(p).with_context(|| format!("reading {}", p.display()))?;
    f.seek(SeekFrom::Start(start))?;
    let mut v = vec![0u8; len as usize];
    f.read_exact(&mut v)
        .with_context(|| format!("reading {} at {start}", p.display()))?;
    Ok(v)
}

/// True when `url` already holds this content (size and recorded SHA-256).
pub async fn is_current(aws: &Aws, url: &S3Url, size: u64, sha: &str) -> bool {
    head(aws, url).await.is_ok_and(|h| {
        h.content_length() == Some(size as i64)
            && h.metadata()
                .and_then(|m| m.get(SHA_KEY))
                .is_some_and(|s| s == sha)
    })
}

async fn head(
    aws: &Aws,
    url: &S3Url,
) -> anyhow::Result<aws_sdk_s3::operation::head_object::HeadObjectOutput> {
    aws.s3
        .head_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("checking {url}: {}", describe(&e)))
}

/// Uploads every `(file, url)`, with one progress bar over all bytes.
pub async fn upload_all(
    aws: &Aws,
    files: &[(PathBuf, S3Url)],
    o: &Options,
) -> anyhow::Result<Vec<Uploaded>> {
    if o.part_size < MIN_PART {
        bail!("--part-size must be at least 5 MiB (S3's smallest part)");
    }
    let total: u64 = files
        .iter()
        .map(|(p, _)| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    let bar = if o.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    if let Ok(s) = ProgressStyle::with_template(
        "{spinner} upload [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {msg}",
    ) {
        bar.set_style(s.progress_chars("=> "));
    }
    let mut out = Vec::new();
    for (path, url) in files {
        bar.set_message(url.to_string());
        out.push(upload_one(aws, path, url, o, &bar).await?);
    }
    bar.finish_and_clear();
    Ok(out)
}

async fn upload_one(
    aws: &Aws,
    path: &Path,
    url: &S3Url,
    o: &Options,
    bar: &ProgressBar,
) -> anyhow::Result<Uploaded> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    let p = path.to_path_buf();
    let sha = tokio::task::spawn_blocking(move || sha256_file(&p)).await??;
    if is_current(aws, url, size, &sha).await {
        bar.inc(size);
        return Ok(Uploaded {
            url: url.clone(),
            size,
            sha256: sha,
            skipped: true,
            parts: 0,
        });
    }
    let parts = if size <= o.part_size {
        put_single(aws, path, url, size, &sha).await?;
        bar.inc(size);
        1
    } else {
        put_multipart(aws, path, url, size, &sha, o, bar).await?
    };
    // What S3 now holds must be what we sent.
    let h = head(aws, url).await?;
    if h.content_length() != Some(size as i64) {
        bail!(
            "{url}: S3 reports {:?} bytes, {size} were sent",
            h.content_length()
        );
    }
    Ok(Uploaded {
        url: url.clone(),
        size,
        sha256: sha,
        skipped: false,
        parts,
    })
}

fn check_etag(url: &S3Url, got: Option<&str>, want: &str) -> anyhow::Result<()> {
    let got = got.unwrap_or_default().trim_matches('"');
    // An ETag that is not an MD5 (SSE-KMS buckets) cannot be compared; the
    // Content-MD5 of every request was still checked by S3.
    let md5_like = got
        .split('-')
        .next()
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if md5_like && got != want {
        bail!(
            "{url}: checksum mismatch after upload (S3 ETag {got}, local {want}); nothing was skipped, try again"
        );
    }
    Ok(())
}

async fn put_single(
    aws: &Aws,
    path: &Path,
    url: &S3Url,
    size: u64,
    sha: &str,
) -> anyhow::Result<()> {
    let p = path.to_path_buf();
    let body = tokio::task::spawn_blocking(move || read_range(&p, 0, size)).await??;
    let md5 = Md5::digest(&body);
    let out = aws
        .s3
        .put_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .content_md5(b64(&md5))
        .metadata(SHA_KEY, sha)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("uploading {} to {url}: {}", path.display(), describe(&e)))?;
    check_etag(url, out.e_tag(), &hex(&md5))
}

async fn put_multipart(
    aws: &Aws,
    path: &Path,
    url: &S3Url,
    size: u64,
    sha: &str,
    o: &Options,
    bar: &ProgressBar,
) -> anyhow::Result<usize> {
    let created = aws
        .s3
        .create_multipart_upload()
        .bucket(&url.bucket)
        .key(&url.key)
        .metadata(SHA_KEY, sha)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("starting the upload of {url}: {}", describe(&e)))?;
    let upload_id = created.upload_id().context("no upload id")?.to_owned();
    let result = send_parts(aws, path, url, size, &upload_id, o, bar).await;
    match result {
        Ok((parts, want)) => {
            let n = parts.len();
            let done = aws
                .s3
                .complete_multipart_upload()
                .bucket(&url.bucket)
                .key(&url.key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("completing the upload of {url}: {}", describe(&e)))?;
            check_etag(url, done.e_tag(), &want)?;
            Ok(n)
        }
        Err(e) => {
            let _ = aws
                .s3
                .abort_multipart_upload()
                .bucket(&url.bucket)
                .key(&url.key)
                .upload_id(&upload_id)
                .send()
                .await;
            Err(e)
        }
    }
}

/// Sends all parts, `concurrency` at a time; returns them in order and the
/// expected multipart ETag.
async fn send_parts(
    aws: &Aws,
    path: &Path,
    url: &S3Url,
    size: u64,
    upload_id: &str,
    o: &Options,
    bar: &ProgressBar,
) -> anyhow::Result<(Vec<CompletedPart>, String)> {
    let n = size.div_ceil(o.part_size);
    let sem = Arc::new(tokio::sync::Semaphore::new(o.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (aws, url, upload_id, path, sem, bar) = (
            aws.clone(),
            url.clone(),
            upload_id.to_owned(),
            path.to_path_buf(),
            sem.clone(),
            bar.clone(),
        );
        let (start, len) = (i * o.part_size, o.part_size.min(size - i * o.part_size));
        tasks.spawn(async move {
            let _permit = sem.acquire().await?;
            let body = tokio::task::spawn_blocking(move || read_range(&path, start, len)).await??;
            let md5 = Md5::digest(&body);
            let out = aws
                .s3
                .upload_part()
                .bucket(&url.bucket)
                .key(&url.key)
                .upload_id(&upload_id)
                .part_number(i as i32 + 1)
                .content_md5(b64(&md5))
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("uploading part {} of {url}: {}", i + 1, describe(&e))
                })?;
            bar.inc(len);
            let part = CompletedPart::builder()
                .part_number(i as i32 + 1)
                .set_e_tag(out.e_tag().map(str::to_owned))
                .build();
            anyhow::Ok((i, part, md5.to_vec()))
        });
    }
    let mut parts = Vec::with_capacity(n as usize);
    while let Some(r) = tasks.join_next().await {
        parts.push(r??);
    }
    parts.sort_by_key(|p| p.0);
    let mut all = Md5::new();
    for (_, _, md5) in &parts {
        all.update(md5);
    }
    let want = format!("{}-{}", hex(&all.finalize()), parts.len());
    Ok((parts.into_iter().map(|p| p.1).collect(), want))
}

/// Downloads every object under `prefix` whose name passes `keep` into
/// `dir` (flat, by the last path segment); returns the names.
pub async fn download_dir(
    aws: &Aws,
    prefix: &S3Url,
    dir: &Path,
    keep: impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let p = prefix.dir();
    let mut names = Vec::new();
    for (key, _) in list(aws, &p).await? {
        let name = key.rsplit('/').next().unwrap_or(&key);
        if name.is_empty() || !keep(name) {
            continue;
        }
        let body = aws
            .s3
            .get_object()
            .bucket(&p.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("downloading s3://{}/{key}: {}", p.bucket, describe(&e)))?
            .body
            .collect()
            .await
            .with_context(|| format!("reading s3://{}/{key}", p.bucket))?
            .into_bytes();
        std::fs::write(dir.join(name), &body).with_context(|| format!("writing {name}"))?;
        names.push(name.to_owned());
    }
    names.sort();
    Ok(names)
}

/// The first `max` bytes of an object (e.g. for its header line).
pub async fn head_bytes(aws: &Aws, url: &S3Url, max: u64) -> anyhow::Result<Vec<u8>> {
    let out = aws
        .s3
        .get_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .range(format!("bytes=0-{}", max.saturating_sub(1)))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("reading {url}: {}", describe(&e)))?;
    Ok(out
        .body
        .collect()
        .await
        .context("reading body")?
        .into_bytes()
        .to_vec())
}

/// Deletes one object (S3 answers success for a key that is not there).
pub async fn delete(aws: &Aws, url: &S3Url) -> anyhow::Result<()> {
    aws.s3
        .delete_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("deleting {url}: {}", describe(&e)))?;
    Ok(())
}

/// Keys under a prefix with their sizes.
pub async fn list(aws: &Aws, prefix: &S3Url) -> anyhow::Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    let mut pages = aws
        .s3
        .list_objects_v2()
        .bucket(&prefix.bucket)
        .prefix(&prefix.key)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow::anyhow!("listing {prefix}: {}", describe(&e)))?;
        for o in page.contents() {
            if let Some(k) = o.key() {
                out.push((k.to_owned(), o.size().unwrap_or(0).max(0) as u64));
            }
        }
    }
    Ok(out)
}
