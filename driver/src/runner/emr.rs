//! `mapfold run --runner emr`: the job on Amazon EMR, from a laptop.
//!
//! Uploads local inputs (skipping what is there), creates a cluster unless
//! given one (always with an idle timeout), ships the static binaries for the
//! cluster's architecture content-addressed by hash, adds a
//! `command-runner.jar hadoop-streaming` step with exactly the arguments of
//! `--runner hadoop`, waits with backoff, downloads the part files, writes
//! the manifest. A failed step is explained from EMR's failure
//! details and the task's own stderr. Ctrl-C or any error terminates the
//! cluster this run created, and says so.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mapfold_emr::aws::{Aws, AwsOpts, S3Url};
use mapfold_emr::cluster::{self, ClusterSpec, Group};
use mapfold_emr::step::{self, Backoff, End};
use mapfold_emr::{diagnose, dryrun, upload};

use super::Job;
use super::hadoop::{Shipped, streaming_args};
use super::output::{self, counters_in_parts};
use super::staging::Staging;
use crate::emr_args::{AwsArgs, ClusterArgs, EmrRunArgs};
use crate::manifest::{Binary, Input, Manifest, Timings};

/// Everything `run --runner emr` was asked.
#[derive(Debug, Clone)]
pub struct EmrRun {
    pub aws: AwsArgs,
    pub cluster: ClusterArgs,
    pub emr: EmrRunArgs,
    pub overwrite: bool,
    pub quiet: bool,
    pub command: Vec<String>,
    /// `--split-size`, passed on to Hadoop as FileInputFormat's bounds.
    pub split_size: Option<u64>,
}

pub fn aws_opts(a: &AwsArgs) -> AwsOpts {
    AwsOpts {
        profile: a.profile.clone(),
        region: a.region.clone(),
        endpoint_url: a.endpoint_url.clone(),
    }
}

/// The cluster a [`ClusterArgs`] describes.
pub fn cluster_spec(
    c: &ClusterArgs,
    default_log_uri: Option<String>,
) -> anyhow::Result<ClusterSpec> {
    let mut s = ClusterSpec::new(&c.name);
    s.release_label = c.release_label.clone();
    s.primary = Group {
        instance_type: c.primary_type.clone(),
        count: 1,
        spot: None,
    };
    s.core = Group {
        instance_type: c.core_type.clone(),
        count: c.core_count,
        spot: c.spot.clone(),
    };
    if let Some(t) = &c.task_type {
        if c.task_count < 1 {
            bail!("--task-type needs --task-count of at least 1");
        }
        s.task.push(Group {
            instance_type: t.clone(),
            count: c.task_count,
            spot: c.spot.clone(),
        });
    }
    s.subnet = c.subnet.clone();
    s.key_pair = c.key_pair.clone();
    s.log_uri = c.log_uri.clone().or(default_log_uri);
    s.tags = c
        .tags
        .iter()
        .map(|t| {
            t.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("--tag {t:?}: expected KEY=VALUE"))
        })
        .collect::<anyhow::Result<_>>()?;
    s.service_role = c.service_role.clone();
    s.instance_profile = c.instance_profile.clone();
    s.idle_timeout = Duration::from_secs(c.idle_timeout * 60);
    Ok(s)
}

/// Where everything goes: decided before any request is sent, so a dry
/// run prints exactly what a real run does.
struct Plan {
    spec: ClusterSpec,
    inputs: Inputs,
    stage: S3Url,
    output: S3Url,
    local_out: PathBuf,
}

/// Local inputs and where they go in S3; S3 inputs as they are.
struct Inputs {
    uploads: Vec<(PathBuf, S3Url)>,
    urls: Vec<String>,
}

/// Local inputs go to `STAGE/input/<set>/<name>`, where `<set>` is a hash
/// of every file's name and content: the step reads that one prefix, which
/// holds exactly this run's files (nothing stale from another run), and
/// running the same files again uploads nothing. Files keep their names,
/// as the tasks see them; two of the same name from different folders
/// become `<NNNNN>-<name>`, so they cannot collide. S3 inputs pass through.
fn plan_inputs(job: &Job, stage: &S3Url) -> anyhow::Result<Inputs> {
    use sha2::{Digest, Sha256};
    let mut urls = Vec::new();
    let mut local = Vec::new();
    for i in &job.inputs {
        if i.starts_with("s3://") || i.starts_with("s3a://") || i.starts_with("s3n://") {
            urls.push(i.clone());
        } else {
            local.push(i.clone());
        }
    }
    if local.is_empty() {
        return Ok(Inputs {
            uploads: Vec::new(),
            urls,
        });
    }
    let files = super::input::resolve(&local, job.recursive)?;
    let base = |f: &super::input::InputFile| {
        f.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut seen = std::collections::HashMap::new();
    for f in &files {
        *seen.entry(base(f)).or_insert(0) += 1;
    }
    let mut set = Sha256::new();
    let mut named = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        // A file keeps its name (the tasks see it: `--key file`), unless
        // another of the set has it too.
        let name = base(f);
        let name = if seen[&name] > 1 {
            format!("{i:05}-{name}")
        } else {
            name
        };
        set.update(name.as_bytes());
        set.update([0]);
        set.update(upload::sha256_file(&f.path)?.as_bytes());
        named.push((f.path.clone(), name));
    }
    let set: String = set.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dest = stage.join(&format!("input/{set}/"));
    let uploads = named
        .into_iter()
        .map(|(path, name)| (path, dest.join(&name)))
        .collect();
    urls.push(dest.to_string());
    Ok(Inputs { uploads, urls })
}

/// A static binary and its content-addressed home under the stage.
struct ShippedBin {
    path: PathBuf,
    name: &'static str,
    sha256: String,
    url: S3Url,
}

/// The static binaries for `target` from `dist`, each at
/// `STAGE/bin/<sha256>/<name>`.
fn shipped_bins(dist: &Path, target: &str, stage: &S3Url) -> anyhow::Result<Vec<ShippedBin>> {
    let dir = dist.join(target);
    ["mapfold-map", "mapfold-combine", "mapfold-reduce"]
        .into_iter()
        .map(|name| {
            let path = dir.join(name);
            if !path.is_file() {
                bail!("{} is missing: build the static binaries with scripts/build-static (or pass --dist DIR)", path.display());
            }
            let sha256 = upload::sha256_file(&path)?;
            let url = stage.join(&format!("bin/{sha256}/{name}"));
            Ok(ShippedBin { path, name, sha256, url })
        })
        .collect()
}

/// A schema too long for the step's arguments, written to a local file,
/// and its content-addressed home under the stage.
fn shipped_schema(job: &Job, stage: &S3Url) -> anyhow::Result<Option<(PathBuf, S3Url)>> {
    job.long_schema()
        .map(|schema| {
            let (path, sha) = super::schema_file(schema)?;
            Ok((
                path,
                stage.join(&format!("schema/{sha}/{}", super::SCHEMA_FILE)),
            ))
        })
        .transpose()
}

/// The most characters EMR takes in a step's strings, all together
/// (AddJobFlowSteps: "cannot exceed a total of 10240 characters").
const STEP_CHARS: usize = 10_240;

/// The job as the step runs it (S3 inputs and output) and the step's
/// streaming arguments: the hadoop runner's, with `-files` from S3.
fn step_job(
    job: &Job,
    input_urls: &[String],
    output: &S3Url,
    bins: &[ShippedBin],
    schema: Option<&S3Url>,
    split_size: Option<u64>,
) -> anyhow::Result<(Job, Vec<String>)> {
    let mut job = job.clone();
    job.inputs = input_urls.to_vec();
    job.output = output.to_string().trim_end_matches('/').to_owned();
    let url = |i: usize| bins[i].url.to_string();
    let args = streaming_args(
        &job,
        &Shipped {
            map: url(0),
            combine: url(1),
            reduce: url(2),
            schema: schema.map(S3Url::to_string),
        },
        split_size,
    )?;
    // EMR's limit on a step (AddJobFlowSteps), said here with what to do
    // rather than by the API; the jar and the `hadoop-streaming` word count.
    let total = args.iter().map(String::len).sum::<usize>()
        + "command-runner.jar".len()
        + "hadoop-streaming".len();
    if total > STEP_CHARS {
        bail!(
            "the step's arguments come to {total} characters, over EMR's {STEP_CHARS}: shorten \
             the --where filters or the column names the reducer reports (--distinct, --corr, \
             --value lists)"
        );
    }
    Ok((job, args))
}

fn step_name(job: &Job) -> String {
    job.title()
}

impl super::Runner for EmrRun {
    /// The output is in S3, and downloaded here.
    fn run(&self, job: &Job) -> anyhow::Result<Option<PathBuf>> {
        run(job, self)
    }
}

/// Runs `job` on EMR; returns the local copy of its output (`None` for a
/// dry run).
pub fn run(job: &Job, r: &EmrRun) -> anyhow::Result<Option<PathBuf>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async(job, r))
}

async fn run_async(job: &Job, r: &EmrRun) -> anyhow::Result<Option<PathBuf>> {
    let output = S3Url::parse(&job.output)
        .context("--runner emr writes to S3: pass --output s3://bucket/prefix")?
        .dir();
    let stage = match &r.emr.s3_stage {
        Some(s) => S3Url::parse(s)?.dir(),
        None => S3Url {
            bucket: output.bucket.clone(),
            key: "mapfold-staging/".into(),
        },
    };
    let local_out = r.emr.local_output.clone().unwrap_or_else(|| {
        PathBuf::from(
            output
                .key
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or("mapfold-output"),
        )
    });
    super::staging::check_target(&local_out, r.overwrite)
        .context("the local copy of the output (--local-output DIR to choose another)")?;
    let default_logs = format!("s3://{}/mapfold-logs/", output.bucket);
    let plan = Plan {
        spec: cluster_spec(&r.cluster, Some(default_logs))?,
        inputs: plan_inputs(job, &stage)?,
        stage,
        output,
        local_out,
    };
    if r.aws.dry_run {
        return dry_run(job, r, &plan).map(|()| None);
    }
    let aws = Aws::load(&aws_opts(&r.aws)).await?;
    let created: Created = Arc::new(tokio::sync::Mutex::new(None));
    let result = tokio::select! {
        res = job_on_emr(&aws, job, r, &plan, &created) => res,
        name = signalled() => Err(anyhow!("{name}")),
    };
    let keep = r.emr.keep_cluster && result.is_ok();
    // Held while a RunJobFlow is in flight: waits for its answer, so a
    // cluster created as the signal arrived is terminated too.
    let id = created.lock().await.clone();
    if let Some(id) = id {
        if keep {
            eprintln!(
                "mapfold: kept cluster {id} (--keep-cluster); it ends itself after {} min idle",
                plan.spec.idle_timeout.as_secs() / 60
            );
        } else {
            match cluster::terminate(&aws, &id).await {
                Ok(()) => eprintln!("mapfold: terminated cluster {id}, which this run created"),
                Err(e) => eprintln!(
                    "mapfold: could NOT terminate cluster {id}: {e:#}\n  terminate it yourself: {} (it also ends itself after {} min idle)",
                    dryrun::terminate(&id),
                    plan.spec.idle_timeout.as_secs() / 60
                ),
            }
        }
    }
    result.map(|()| Some(plan.local_out.clone()))
}

/// The static build an instance type needs, guessed from its name: a real
/// run asks EMR (ListSupportedInstanceTypes); offline, Graviton types have
/// a `g` after the generation digit (m7g, c7gn, im4gn; not g4dn).
fn guessed_target(instance_type: &str) -> &'static str {
    let family = instance_type.split('.').next().unwrap_or(instance_type);
    let graviton = family
        .find(|c: char| c.is_ascii_digit())
        .is_some_and(|i| family[i..].contains('g'));
    if graviton {
        "aarch64-unknown-linux-musl"
    } else {
        "x86_64-unknown-linux-musl"
    }
}

/// The id of the cluster this run created, once RunJobFlow has answered.
type Created = Arc<tokio::sync::Mutex<Option<String>>>;

/// Resolves on SIGINT, SIGTERM or SIGHUP with what happened.
async fn signalled() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return "interrupted";
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = term.recv() => "terminated",
        _ = hup.recv() => "hung up",
    }
}

/// Creates the cluster in a task of its own that holds `created` until
/// RunJobFlow answers: a signal that cancels the run cannot lose the id.
async fn create_cluster(
    aws: &Aws,
    spec: &ClusterSpec,
    created: &Created,
) -> anyhow::Result<String> {
    let mut slot = created.clone().lock_owned().await;
    let (aws, spec) = (aws.clone(), spec.clone());
    tokio::spawn(async move {
        let id = cluster::create(&aws, &spec).await?;
        *slot = Some(id.clone());
        Ok(id)
    })
    .await
    .map_err(|e| anyhow!("creating the cluster: {e}"))?
}

/// Runs the job as a step: inputs staged, a cluster found or made, the
/// binaries shipped, the step submitted and waited for, its output fetched
/// and committed.
async fn job_on_emr(
    aws: &Aws,
    job: &Job,
    r: &EmrRun,
    plan: &Plan,
    created: &Created,
) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let say = |m: String| {
        if !r.quiet {
            eprintln!("mapfold: {m}");
        }
    };
    let job = stage_inputs(aws, job, r, plan, &say).await?;
    let c = cluster_for(aws, r, plan, created, &say).await?;
    let (bins, schema, binaries) = ship(aws, &job, r, plan, &c, &say).await?;
    let ran = run_step(aws, &job, r, plan, &c, &bins, schema.as_ref(), t0, &say).await?;
    fetch_and_commit(aws, r, plan, &c, &ran, binaries, t0, &say).await
}

/// The cluster a step runs on.
struct Target {
    cluster_id: String,
    release: String,
    instance_type: String,
    log_uri: Option<String>,
}

/// A step that completed, and when.
struct Ran {
    /// The job as the step ran it (its inputs the S3 URLs).
    job: Job,
    step_id: String,
    t_submit: f64,
    t_wait: f64,
}

/// Uploads local inputs, reads the schema of S3 inputs, and refuses an
/// output that exists: the job as the step will run it.
async fn stage_inputs(
    aws: &Aws,
    job: &Job,
    r: &EmrRun,
    plan: &Plan,
    say: &impl Fn(String),
) -> anyhow::Result<Job> {
    let Plan {
        inputs,
        stage,
        output,
        ..
    } = plan;
    let uopts = upload::Options {
        quiet: r.quiet,
        ..upload::Options::default()
    };
    let sent = upload::upload_all(aws, &inputs.uploads, &uopts)
        .await
        .map_err(|e| anyhow!(diagnose::explain_s3_error(&format!("{e:#}"), &stage.bucket)))?;
    if !sent.is_empty() {
        let skipped = sent.iter().filter(|u| u.skipped).count();
        say(format!(
            "inputs: {} files in {stage}input/ ({} uploaded, {skipped} already there)",
            sent.len(),
            sent.len() - skipped
        ));
    }
    let mut job = job.clone();
    // Local inputs were looked at before the upload; S3 inputs are here.
    if job.job.schema.is_none() || inputs.uploads.is_empty() {
        job.inputs = inputs.urls.clone();
        let mut heads = s3_heads(aws, &job).await?;
        match super::input::resolve_format(&mut job.job, &heads)? {
            super::input::Format::Array(_) => {}
            super::input::Format::Sequence => {
                for (_, head) in &mut heads {
                    *head = super::seqfile::head(head);
                }
                super::input::decide_from_heads(&mut job.job, &heads)?;
            }
            super::input::Format::Text => {
                for (name, head) in &mut heads {
                    *head = super::input::text_head(name, std::mem::take(head));
                }
                super::input::decide_from_heads(&mut job.job, &heads)?;
            }
        }
    }
    if !upload::list(aws, output)
        .await
        .map_err(|e| {
            anyhow!(diagnose::explain_s3_error(
                &format!("{e:#}"),
                &output.bucket
            ))
        })?
        .is_empty()
    {
        bail!(
            "the output {output} already exists and Hadoop will not overwrite it: choose another --output, or remove it (`aws s3 rm --recursive {output}`)"
        );
    }
    Ok(job)
}

/// The cluster given (`--cluster`), or a new one.
async fn cluster_for(
    aws: &Aws,
    r: &EmrRun,
    plan: &Plan,
    created: &Created,
    say: &impl Fn(String),
) -> anyhow::Result<Target> {
    let Plan { spec, stage, .. } = plan;
    let (cluster_id, release, instance_type, log_uri) = match &r.emr.cluster {
        Some(id) => {
            let info = cluster::describe_cluster(aws, id).await?;
            let core = info
                .groups
                .iter()
                .find(|g| g.0 == "CORE")
                .or_else(|| info.groups.first())
                .map(|g| g.1.clone());
            (
                id.clone(),
                info.release_label,
                core.context("the cluster has no instance groups")?,
                info.log_uri,
            )
        }
        None => {
            // Missing static builds fail now, not after a cluster started.
            shipped_bins(
                &super::dist_dir(r.emr.dist.as_deref()),
                guessed_target(&spec.core.instance_type),
                stage,
            )?;
            let id = create_cluster(aws, spec, created).await?;
            say(format!(
                "created cluster {id}: {}, 1 x {} + {} x {}{}; ends itself after {} min idle",
                spec.release_label,
                spec.primary.instance_type,
                spec.core.count,
                spec.core.instance_type,
                if spec.core.spot.is_some() {
                    " (spot)"
                } else {
                    ""
                },
                spec.idle_timeout.as_secs() / 60
            ));
            (
                id,
                spec.release_label.clone(),
                spec.core.instance_type.clone(),
                spec.log_uri.clone(),
            )
        }
    };
    Ok(Target {
        cluster_id,
        release,
        instance_type,
        log_uri,
    })
}

/// Uploads the static builds the cluster's architecture needs (and a long
/// schema); returns them and the manifest's record of them.
async fn ship(
    aws: &Aws,
    job: &Job,
    r: &EmrRun,
    plan: &Plan,
    c: &Target,
    say: &impl Fn(String),
) -> anyhow::Result<(Vec<ShippedBin>, Option<(PathBuf, S3Url)>, Vec<Binary>)> {
    let stage = &plan.stage;
    let (release, instance_type) = (&c.release, &c.instance_type);
    let uopts = upload::Options {
        quiet: true,
        ..upload::Options::default()
    };
    let arch = cluster::architecture(aws, release, instance_type).await?;
    let target = cluster::target_for(&arch)?;
    let bins = shipped_bins(&super::dist_dir(r.emr.dist.as_deref()), target, stage)?;
    let mut to_ship: Vec<(PathBuf, S3Url)> = bins
        .iter()
        .map(|b| (b.path.clone(), b.url.clone()))
        .collect();
    let schema = shipped_schema(job, stage)?;
    to_ship.extend(schema.clone());
    upload::upload_all(aws, &to_ship, &uopts).await?;
    let binaries: Vec<Binary> = bins
        .iter()
        .map(|b| Binary {
            name: b.name.to_owned(),
            path: b.url.to_string(),
            sha256: b.sha256.clone(),
        })
        .collect();
    say(format!("binaries: {target} ({arch}) in {stage}bin/"));
    Ok((bins, schema, binaries))
}

/// Submits the step and waits for it; a failed step is explained.
#[allow(clippy::too_many_arguments)]
async fn run_step(
    aws: &Aws,
    job: &Job,
    r: &EmrRun,
    plan: &Plan,
    c: &Target,
    bins: &[ShippedBin],
    schema: Option<&(PathBuf, S3Url)>,
    t0: Instant,
    say: &impl Fn(String),
) -> anyhow::Result<Ran> {
    let (inputs, output) = (&plan.inputs, &plan.output);
    let (cluster_id, log_uri) = (&c.cluster_id, &c.log_uri);
    let (job, args) = step_job(
        job,
        &inputs.urls,
        output,
        bins,
        schema.map(|s| &s.1),
        r.split_size,
    )?;
    let name = step_name(&job);
    let step_id = step::add_streaming_step(&aws.emr, cluster_id, &name, &args).await?;
    let t_submit = t0.elapsed().as_secs_f64();
    let spinner = if r.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    if let Ok(s) = ProgressStyle::with_template("{spinner} {msg}") {
        spinner.set_style(s);
    }
    spinner.enable_steady_tick(Duration::from_millis(200));
    let backoff = Backoff {
        initial: Duration::from_secs_f64(r.emr.poll_seconds.max(0.05)),
        ..Backoff::default()
    };
    say(format!("waiting for step {step_id} on {cluster_id}"));
    let end = step::wait(&aws.emr, cluster_id, &step_id, backoff, |state, elapsed| {
        spinner.set_message(format!(
            "step {step_id} on {cluster_id}: {state}, {}",
            hms(elapsed)
        ));
    })
    .await;
    spinner.finish_and_clear();
    let t_wait = t0.elapsed().as_secs_f64() - t_submit;
    match end? {
        End::Completed => {}
        End::Failed(f) => bail!(
            "{}",
            diagnose::failed_step(aws, cluster_id, &step_id, log_uri.as_deref(), &f).await
        ),
        End::Cancelled(why) => bail!("step {step_id} on {cluster_id} did not finish: {why}"),
        End::ClusterGone { state, reason } => {
            bail!("cluster {cluster_id} is {state} ({reason}); step {step_id} cannot finish")
        }
    }

    Ok(Ran {
        job,
        step_id,
        t_submit,
        t_wait,
    })
}

/// Downloads the step's output into a staging directory, judges the
/// job-wide malformed limit (a failed job's `_SUCCESS` is removed from S3),
/// and commits it with its manifest.
#[allow(clippy::too_many_arguments)]
async fn fetch_and_commit(
    aws: &Aws,
    r: &EmrRun,
    plan: &Plan,
    c: &Target,
    ran: &Ran,
    binaries: Vec<Binary>,
    t0: Instant,
    say: &impl Fn(String),
) -> anyhow::Result<()> {
    let (output, local_out) = (&plan.output, &plan.local_out);
    let (cluster_id, release, log_uri) = (&c.cluster_id, &c.release, &c.log_uri);
    let Ran {
        job,
        step_id,
        t_submit,
        t_wait,
    } = ran;
    let (t_submit, t_wait) = (*t_submit, *t_wait);
    let staging = Staging::new(local_out, r.overwrite)?;
    let names = upload::download_dir(aws, output, &staging.dir, |n| {
        n.starts_with("part-") || n == "_SUCCESS"
    })
    .await?;
    if !names.iter().any(|n| n == "_SUCCESS") {
        bail!("the step completed but {output} has no _SUCCESS: the output is incomplete");
    }
    let counters = counters_in_parts(&staging.dir, job.reducers)?;
    if let Err(e) = job.check_malformed(
        &counters,
        Some(&format!(
            "a line the map tasks' logs name (under {})",
            log_uri.as_deref().unwrap_or("the cluster's log URI")
        )),
    ) {
        // Hadoop wrote _SUCCESS before the job-wide limit could be judged:
        // removed, so nothing waiting on it takes a failed job's output.
        let success = output.join("_SUCCESS");
        let removed = match upload::delete(aws, &success).await {
            Ok(()) => format!("its {success} was removed"),
            Err(d) => format!("removing {success} failed too ({d:#}): remove it by hand"),
        };
        return Err(e.context(format!(
            "the step's output in {output} is not downloaded or plotted, and {removed}"
        )));
    }
    let mut inputs_listed = Vec::new();
    for u in &job.inputs {
        let url = S3Url::parse(u)?;
        for (k, size) in upload::list(aws, &url).await? {
            inputs_listed.push(Input {
                path: format!("s3://{}/{k}", url.bucket),
                size,
            });
        }
    }
    let info = cluster::describe_cluster(aws, cluster_id).await.ok();
    let mut extra = serde_json::Map::new();
    extra.insert("cluster_id".into(), cluster_id.clone().into());
    extra.insert("step_id".into(), step_id.clone().into());
    extra.insert("release_label".into(), release.as_str().into());
    extra.insert("region".into(), aws.region.clone().into());
    extra.insert("created_cluster".into(), r.emr.cluster.is_none().into());
    extra.insert("output".into(), output.to_string().into());
    if let Some(i) = &info {
        let groups: Vec<serde_json::Value> = i
            .groups
            .iter()
            .map(|g| serde_json::json!({"role": g.0, "instance_type": g.1, "count": g.2}))
            .collect();
        extra.insert("instance_groups".into(), groups.into());
    }
    let mut m = Manifest {
        binaries,
        inputs: inputs_listed,
        timings: Timings::since(t0, t_submit, t_wait),
        extra,
        ..Manifest::new(
            "emr",
            step_id,
            &r.command,
            job.map_words(),
            job.reducers,
            &counters,
        )
    };
    output::commit(staging, &mut m, t0, None)?;
    say(format!(
        "step {step_id} completed in {}; {} lines in, {} used; output in {}",
        hms(Duration::from_secs_f64(t_wait)),
        counters.lines_in(),
        counters.used,
        local_out.display()
    ));
    Ok(())
}

/// The first 64 KiB of every S3 input object as stored, for the driver's
/// decisions (the input format, and [`super::input::decide_from_heads`]).
async fn s3_heads(aws: &Aws, job: &Job) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut firsts = Vec::new();
    for input in &job.inputs {
        let url = S3Url::parse(input)?;
        let mut objects = upload::list(aws, &url).await?;
        objects.retain(|(k, _)| !k.rsplit('/').next().unwrap_or(k).starts_with(['.', '_']));
        objects.sort();
        if objects.is_empty() {
            bail!("no objects under {url}");
        }
        for (key, _) in objects {
            let object = S3Url {
                bucket: url.bucket.clone(),
                key,
            };
            let head = upload::head_bytes(aws, &object, 1 << 16).await?;
            firsts.push((object.to_string(), head));
        }
    }
    Ok(firsts)
}

fn hms(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

fn dry_run(job: &Job, r: &EmrRun, plan: &Plan) -> anyhow::Result<()> {
    println!(
        "# mapfold run --runner emr --dry-run: nothing is sent; these aws CLI commands do the same"
    );
    let g = dryrun::globals(
        r.aws.region.as_deref(),
        r.aws.profile.as_deref(),
        r.aws.endpoint_url.as_deref(),
    );
    for (p, u) in &plan.inputs.uploads {
        println!("{}{g}", dryrun::upload(p, u));
    }
    let cluster = match &r.emr.cluster {
        Some(id) => id.clone(),
        None => {
            let create = format!("{}{g}", dryrun::create_cluster(&plan.spec));
            println!("{}", dryrun::capture("CLUSTER_ID", &create, "ClusterId"));
            "$CLUSTER_ID".to_owned()
        }
    };
    let target = if r.emr.cluster.is_none() {
        guessed_target(&plan.spec.core.instance_type)
    } else {
        "x86_64-unknown-linux-musl"
    };
    println!("# binaries for {target} (from the instance type's name; a real run asks EMR)");
    let bins = shipped_bins(&super::dist_dir(r.emr.dist.as_deref()), target, &plan.stage)?;
    for b in &bins {
        println!("{}{g}", dryrun::upload(&b.path, &b.url));
    }
    let schema = shipped_schema(job, &plan.stage)?;
    if let Some((path, url)) = &schema {
        println!("{}{g}", dryrun::upload(path, url));
    }
    let (job, args) = step_job(
        job,
        &plan.inputs.urls,
        &plan.output,
        &bins,
        schema.as_ref().map(|s| &s.1),
        r.split_size,
    )?;
    let add = format!("{}{g}", dryrun::add_step(&cluster, &step_name(&job), &args));
    println!("{}", dryrun::capture("STEP_ID", &add, "StepIds[0]"));
    println!("{}{g}", dryrun::wait_step(&cluster, "$STEP_ID"));
    println!("{}{g}", dryrun::download(&plan.output, &plan.local_out));
    if r.emr.cluster.is_none() && !r.emr.keep_cluster {
        println!("{}{g}", dryrun::terminate(&cluster));
    }
    Ok(())
}
