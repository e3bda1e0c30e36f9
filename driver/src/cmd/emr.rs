//! `mapfold emr`: the clusters mapfold makes. Every one ends itself when
//! idle; `list` shows them with state, age and idle time.

use crate::emr_args::{AwsArgs, ClusterArgs};

/// Amazon EMR clusters: create, resize, describe, list, terminate. Every
/// cluster mapfold creates ends itself when idle (--idle-timeout).
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Cmd {
    /// Create a cluster (always with an idle timeout); prints its id.
    CreateCluster {
        #[command(flatten)]
        cluster: Box<ClusterArgs>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Add a task instance group (resize for a big job).
    AddNodes {
        /// The cluster id (j-...).
        #[arg(long)]
        cluster: String,
        /// Instance type of the new task nodes.
        #[arg(long, default_value = "m5.xlarge")]
        instance_type: String,
        /// How many task nodes to add.
        #[arg(long)]
        count: i32,
        /// Spot market, optionally with a maximum price in USD.
        #[arg(long, value_name = "PRICE", num_args = 0..=1, default_missing_value = "")]
        spot: Option<String>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// State, instance groups, age, log URI and tags of a cluster.
    Describe {
        /// The cluster id (j-...).
        #[arg(long)]
        cluster: String,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// mapfold's clusters: state, age, idle time.
    List {
        /// Terminated ones too.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Terminate a cluster.
    Terminate {
        /// The cluster id (j-...).
        #[arg(long)]
        cluster: String,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

#[cfg(not(feature = "emr"))]
pub fn run(_: Cmd) -> anyhow::Result<()> {
    anyhow::bail!(crate::emr_args::NO_EMR)
}

#[cfg(feature = "emr")]
pub fn run(c: Cmd) -> anyhow::Result<()> {
    use mapfold_emr::cluster::{self, Group};
    use mapfold_emr::{Aws, dryrun};

    use crate::runner::emr::{aws_opts, cluster_spec};

    let aws_args = match &c {
        Cmd::CreateCluster { aws, .. }
        | Cmd::AddNodes { aws, .. }
        | Cmd::Describe { aws, .. }
        | Cmd::List { aws, .. }
        | Cmd::Terminate { aws, .. } => aws.clone(),
    };
    if aws_args.dry_run {
        let g = dryrun::globals(
            aws_args.region.as_deref(),
            aws_args.profile.as_deref(),
            aws_args.endpoint_url.as_deref(),
        );
        let line = match &c {
            Cmd::CreateCluster { cluster, .. } => {
                dryrun::create_cluster(&cluster_spec(cluster, None)?)
            }
            Cmd::AddNodes {
                cluster,
                instance_type,
                count,
                spot,
                ..
            } => dryrun::add_nodes(
                cluster,
                &Group {
                    instance_type: instance_type.clone(),
                    count: *count,
                    spot: spot.clone(),
                },
            ),
            Cmd::Describe { cluster, .. } => dryrun::describe(cluster),
            Cmd::List { .. } => dryrun::list(),
            Cmd::Terminate { cluster, .. } => dryrun::terminate(cluster),
        };
        println!("{line}{g}");
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let aws = Aws::load(&aws_opts(&aws_args)).await?;
        match c {
            Cmd::CreateCluster { cluster, .. } => {
                let spec = cluster_spec(&cluster, None)?;
                let id = cluster::create(&aws, &spec).await?;
                println!("{id}");
                eprintln!(
                    "mapfold: created {id} ({}); it ends itself after {} min idle; `mapfold emr terminate --cluster {id}` ends it now",
                    spec.release_label,
                    spec.idle_timeout.as_secs() / 60
                );
            }
            Cmd::AddNodes { cluster, instance_type, count, spot, .. } => {
                let ids = cluster::add_nodes(&aws, &cluster, &Group { instance_type, count, spot }).await?;
                println!("{}", ids.join(" "));
            }
            Cmd::Describe { cluster, .. } => {
                let i = cluster::describe_cluster(&aws, &cluster).await?;
                println!("{}\t{}\t{}", i.id, i.state, i.name);
                println!("release\t{}", i.release_label);
                if let Some(age) = i.created.and_then(|t| t.elapsed().ok()) {
                    println!("age\t{}", minutes(age));
                }
                for (role, t, n) in &i.groups {
                    println!("group\t{role}\t{n} x {t}");
                }
                if let Some(h) = i.normalized_hours {
                    println!("normalized instance hours\t{h}");
                }
                println!("log uri\t{}", i.log_uri.as_deref().unwrap_or("(none: failed tasks' logs will not reach S3)"));
                for (k, v) in &i.tags {
                    println!("tag\t{k}={v}");
                }
                if let Some(r) = &i.state_reason {
                    println!("state reason\t{r}");
                }
            }
            Cmd::List { all, .. } => {
                let clusters = cluster::list(&aws, all).await?;
                if clusters.is_empty() {
                    eprintln!("mapfold: no {}clusters made by mapfold", if all { "" } else { "running " });
                }
                println!("ID\tSTATE\tAGE\tIDLE\tNAME");
                for i in clusters {
                    let age = i.created.and_then(|t| t.elapsed().ok()).map_or("-".into(), minutes);
                    let idle = if i.state == "WAITING" { i.ready.and_then(|t| t.elapsed().ok()).map_or("-".into(), minutes) } else { "-".into() };
                    println!("{}\t{}\t{age}\t{idle}\t{}", i.id, i.state, i.name);
                }
            }
            Cmd::Terminate { cluster, .. } => {
                cluster::terminate(&aws, &cluster).await?;
                eprintln!("mapfold: terminating {cluster}");
            }
        }
        anyhow::Ok(())
    })
}

#[cfg(feature = "emr")]
fn minutes(d: std::time::Duration) -> String {
    let m = d.as_secs() / 60;
    if m >= 60 {
        format!("{}h{:02}m", m / 60, m % 60)
    } else {
        format!("{m}m")
    }
}
