//! Loading the AWS configuration and making the S3 and EMR clients.

use std::fmt;

use anyhow::{Context, bail};
use aws_config::BehaviorVersion;

/// Where and as whom to talk to AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsOpts {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The clients of one session.
#[derive(Debug, Clone)]
pub struct Aws {
    pub s3: aws_sdk_s3::Client,
    pub emr: aws_sdk_emr::Client,
    pub region: String,
}

impl Aws {
    /// Loads the standard chain (environment, profile, SSO, instance
    /// metadata) with the overrides in `o`.
    pub async fn load(o: &AwsOpts) -> anyhow::Result<Self> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = &o.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &o.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(e) = &o.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let cfg = loader.load().await;
        let region = cfg
            .region()
            .map(ToString::to_string)
            .context("no AWS region: pass --region, set AWS_REGION, or set one in your profile")?;
        // A custom endpoint (a local S3, moto, MinIO) rarely has bucket DNS.
        let s3_conf = aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(cfg.endpoint_url().is_some())
            .build();
        Ok(Self {
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            emr: aws_sdk_emr::Client::new(&cfg),
            region,
        })
    }
}

/// An `s3://bucket/key` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub key: String,
}

impl S3Url {
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        let rest = s
            .strip_prefix("s3://")
            .or_else(|| s.strip_prefix("s3a://"))
            .or_else(|| s.strip_prefix("s3n://"))
            .with_context(|| format!("{s:?} is not an s3:// URL"))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("{s:?} has no bucket");
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// This location as a "directory": its key ends with `/` (or is empty).
    pub fn dir(&self) -> Self {
        let mut key = self.key.clone();
        if !key.is_empty() && !key.ends_with('/') {
            key.push('/');
        }
        Self {
            bucket: self.bucket.clone(),
            key,
        }
    }

    pub fn join(&self, name: &str) -> Self {
        let d = self.dir();
        Self {
            bucket: d.bucket,
            key: format!("{}{name}", d.key),
        }
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// An SDK error with its service code and message, without request
/// signatures or credentials (the SDK's `DisplayErrorContext` prints
/// neither).
pub fn describe<E: std::error::Error + 'static>(e: &E) -> String {
    aws_sdk_emr::error::DisplayErrorContext(e).to_string()
}

/// The error code of an SDK error, if the service sent one.
pub fn code<E, R>(e: &aws_sdk_emr::error::SdkError<E, R>) -> Option<String>
where
    E: aws_sdk_emr::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls() {
        let u = S3Url::parse("s3://b/a/b.csv").expect("ok");
        assert_eq!((u.bucket.as_str(), u.key.as_str()), ("b", "a/b.csv"));
        assert_eq!(
            S3Url::parse("s3://b").expect("ok").join("x").to_string(),
            "s3://b/x"
        );
        assert_eq!(
            S3Url::parse("s3://b/p").expect("ok").join("x").to_string(),
            "s3://b/p/x"
        );
        assert!(S3Url::parse("/local").is_err());
        assert!(S3Url::parse("s3:///k").is_err());
    }
}
