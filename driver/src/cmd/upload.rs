//! `mapfold upload`: files and directories to S3, in parallel parts, skipping
//! what is already there, verifying what was sent.

use crate::emr_args::AwsArgs;

/// Upload files or directories to s3://bucket/prefix/.
///
/// A file goes to PREFIX/<its name>; a directory goes under its own name,
/// with its tree: `mapfold upload weather/ s3://b/data/` writes
/// s3://b/data/weather/0.csv ... (as `cp -r weather s3://b/data/` would).
/// Objects whose size and SHA-256 already match are skipped; every part is
/// checked by S3 (Content-MD5) and the whole by its ETag.
///
/// Example:
///   mapfold upload weather/ s3://my-bucket/data/    # -> s3://my-bucket/data/weather/...
#[derive(clap::Args, Debug, Clone)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Files or directories, then the s3:// destination prefix.
    #[arg(required = true, num_args = 2..)]
    pub paths: Vec<String>,
    /// Part size in MiB for multipart uploads (at least 5).
    #[arg(long, default_value_t = 16)]
    pub part_size: u64,
    /// Parts in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// No progress bars; only errors.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[cfg(feature = "emr")]
pub fn run(a: &Args) -> anyhow::Result<()> {
    use std::path::PathBuf;

    use anyhow::Context;
    use mapfold_emr::{Aws, S3Url, diagnose, dryrun, upload};

    let (dest, paths) = a
        .paths
        .split_last()
        .context("upload needs PATH... s3://bucket/prefix/")?;
    let dest = S3Url::parse(dest)
        .context("the last argument is the destination: s3://bucket/prefix/")?
        .dir();
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let files = upload::plan(&paths, &dest)?;
    if a.aws.dry_run {
        let g = dryrun::globals(
            a.aws.region.as_deref(),
            a.aws.profile.as_deref(),
            a.aws.endpoint_url.as_deref(),
        );
        for (p, u) in &files {
            println!("{}{g}", dryrun::upload(p, u));
        }
        return Ok(());
    }
    let o = upload::Options {
        part_size: a.part_size << 20,
        concurrency: a.concurrency,
        quiet: a.quiet,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let done = rt.block_on(async {
        let aws = Aws::load(&crate::runner::emr::aws_opts(&a.aws)).await?;
        upload::upload_all(&aws, &files, &o).await
    });
    let done = done.map_err(|e| {
        anyhow::anyhow!(diagnose::explain_s3_error(&format!("{e:#}"), &dest.bucket))
    })?;
    let sent: Vec<_> = done.iter().filter(|u| !u.skipped).collect();
    for u in &sent {
        println!(
            "uploaded {} ({} bytes, {} part{}, verified)",
            u.url,
            u.size,
            u.parts,
            if u.parts == 1 { "" } else { "s" }
        );
    }
    let skipped = done.len() - sent.len();
    eprintln!(
        "mapfold upload: {} files, {} uploaded ({} bytes), {skipped} already there (same size and SHA-256)",
        done.len(),
        sent.len(),
        sent.iter().map(|u| u.size).sum::<u64>()
    );
    Ok(())
}

#[cfg(not(feature = "emr"))]
pub fn run(_: &Args) -> anyhow::Result<()> {
    anyhow::bail!(crate::emr_args::NO_EMR)
}
