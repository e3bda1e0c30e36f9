//! Why a step failed, in seconds: EMR's failure details first, then the
//! failing task's own stderr from the cluster's log URI (the mapper's
//! message, with file and line), then a sentence for the errors that most
//! often stop a first run.

use std::io::Read;

use crate::aws::{Aws, S3Url};
use crate::step::Failure;
use crate::upload;

/// A hint for an S3 error on `bucket`.
pub fn explain_s3_error(msg: &str, bucket: &str) -> String {
    let lower = msg.to_ascii_lowercase();
    if lower.contains("accessdenied")
        || lower.contains("access denied")
        || lower.contains("forbidden")
    {
        format!(
            "{msg}\nNo permission on bucket {bucket}: the identity in use needs s3:GetObject, s3:PutObject and s3:ListBucket on it."
        )
    } else if lower.contains("nosuchbucket") {
        format!(
            "{msg}\nBucket {bucket} does not exist (or is in another account): create it with `aws s3 mb s3://{bucket}`."
        )
    } else {
        msg.to_owned()
    }
}

fn gunzip_or_text(bytes: &[u8]) -> String {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        if flate2::read::MultiGzDecoder::new(bytes)
            .read_to_string(&mut s)
            .is_ok()
        {
            return s;
        }
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// Lines of a task log that explain a failure: mapfold's own errors first.
fn interesting(text: &str) -> Option<String> {
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("mapfold-") && l.contains("error"))
        .collect();
    if !ours.is_empty() {
        return Some(ours.join("\n"));
    }
    let tail: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("reporter:"))
        .collect();
    (!tail.is_empty()).then(|| tail[tail.len().saturating_sub(20)..].join("\n"))
}

/// The failing task attempt's stderr, searched under
/// `LOG_URI/CLUSTER/containers/`.
pub async fn task_stderr(aws: &Aws, log_uri: &str, cluster: &str) -> Option<String> {
    let base = S3Url::parse(log_uri)
        .ok()?
        .join(&format!("{cluster}/containers/"));
    let mut keys: Vec<String> = upload::list(aws, &base)
        .await
        .ok()?
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| k.ends_with("/stderr.gz") || k.ends_with("/stderr"))
        .collect();
    keys.sort();
    let mut fallback = None;
    for k in keys.iter().rev().take(50) {
        let url = S3Url {
            bucket: base.bucket.clone(),
            key: k.clone(),
        };
        let Ok(bytes) = upload::head_bytes(aws, &url, 4 << 20).await else {
            continue;
        };
        let text = gunzip_or_text(&bytes);
        if text
            .lines()
            .any(|l| l.contains("mapfold-") && l.contains("error"))
        {
            return interesting(&text).map(|t| format!("{url}:\n{t}"));
        }
        if fallback.is_none() && !text.trim().is_empty() {
            fallback = interesting(&text).map(|t| format!("{url}:\n{t}"));
        }
    }
    fallback
}

/// The whole story of a failed step, for the person who ran it.
pub async fn failed_step(
    aws: &Aws,
    cluster: &str,
    step: &str,
    log_uri: Option<&str>,
    f: &Failure,
) -> String {
    let mut out = format!(
        "step {step} on cluster {cluster} failed: {}{}",
        f.reason.as_deref().unwrap_or("no reason given"),
        f.message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    );
    if let Some(log) = &f.log_file {
        out += &format!("\nstep log: {log}");
        if let Ok(url) = S3Url::parse(log)
            && let Ok(bytes) = upload::head_bytes(aws, &url, 1 << 20).await
            && let Some(t) = interesting(&gunzip_or_text(&bytes))
        {
            out += &format!("\n{t}");
        }
    }
    match log_uri {
        Some(uri) => match task_stderr(aws, uri, cluster).await {
            Some(t) => out += &format!("\nfailing task's stderr, {t}"),
            None => {
                out += &format!(
                    "\nno task log under {uri} yet: EMR copies task logs there every few minutes; \
                     look again later under {uri}{cluster}/containers/"
                )
            }
        },
        None => {
            out += "\nthe cluster has no log URI, so task logs are not in S3: pass --log-uri when creating clusters"
        }
    }
    out
}
