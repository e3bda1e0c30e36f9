//! EMR clusters made by mapfold: created with an idle timeout that is always
//! set (so a cluster ends itself even if the laptop that made it dies),
//! tagged so `list` finds them, resized with task groups, terminated.

use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use aws_sdk_emr::types::{
    Application, AutoTerminationPolicy, ClusterState, InstanceGroupConfig, InstanceRoleType,
    JobFlowInstancesConfig, MarketType, Tag,
};

use crate::aws::{Aws, describe};

/// The release mapfold clusters run by default (Amazon Linux 2023).
pub const DEFAULT_RELEASE: &str = "emr-7.14.0";
/// The tag that marks a cluster as mapfold's.
pub const TAG: &str = "mapfold";
/// Default idle timeout.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(30 * 60);

/// One instance group: type, count, and spot or on-demand.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub instance_type: String,
    pub count: i32,
    /// Spot with this maximum price in USD (empty: the on-demand price).
    pub spot: Option<String>,
}

/// What `create-cluster` asks for.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub name: String,
    pub release_label: String,
    pub primary: Group,
    pub core: Group,
    pub task: Vec<Group>,
    pub subnet: Option<String>,
    pub key_pair: Option<String>,
    pub log_uri: Option<String>,
    pub tags: Vec<(String, String)>,
    pub service_role: String,
    pub instance_profile: String,
    pub idle_timeout: Duration,
}

impl ClusterSpec {
    /// A spec with mapfold's defaults.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            release_label: DEFAULT_RELEASE.to_owned(),
            primary: Group {
                instance_type: "m5.xlarge".into(),
                count: 1,
                spot: None,
            },
            core: Group {
                instance_type: "m5.xlarge".into(),
                count: 2,
                spot: None,
            },
            task: Vec::new(),
            subnet: None,
            key_pair: None,
            log_uri: None,
            tags: Vec::new(),
            service_role: "EMR_DefaultRole".into(),
            instance_profile: "EMR_EC2_DefaultRole".into(),
            idle_timeout: DEFAULT_IDLE,
        }
    }
}

fn group_config(
    role: InstanceRoleType,
    g: &Group,
    name: &str,
) -> anyhow::Result<InstanceGroupConfig> {
    let mut b = InstanceGroupConfig::builder()
        .name(name)
        .instance_role(role)
        .instance_type(&g.instance_type)
        .instance_count(g.count);
    if let Some(price) = &g.spot {
        b = b.market(MarketType::Spot);
        if !price.is_empty() {
            b = b.bid_price(price);
        }
    }
    Ok(b.build())
}

/// Creates the cluster; returns its id.
pub async fn create(aws: &Aws, s: &ClusterSpec) -> anyhow::Result<String> {
    if s.idle_timeout < Duration::from_secs(60) {
        bail!("--idle-timeout must be at least 60 seconds (EMR's minimum)");
    }
    let mut instances = JobFlowInstancesConfig::builder()
        .instance_groups(group_config(
            InstanceRoleType::Master,
            &s.primary,
            "primary",
        )?)
        .instance_groups(group_config(InstanceRoleType::Core, &s.core, "core")?)
        .keep_job_flow_alive_when_no_steps(true);
    for (i, t) in s.task.iter().enumerate() {
        instances = instances.instance_groups(group_config(
            InstanceRoleType::Task,
            t,
            &format!("task-{i}"),
        )?);
    }
    if let Some(sn) = &s.subnet {
        instances = instances.ec2_subnet_id(sn);
    }
    if let Some(k) = &s.key_pair {
        instances = instances.ec2_key_name(k);
    }
    let mut req = aws
        .emr
        .run_job_flow()
        .name(&s.name)
        .release_label(&s.release_label)
        .applications(Application::builder().name("Hadoop").build())
        .instances(instances.build())
        .service_role(&s.service_role)
        .job_flow_role(&s.instance_profile)
        .visible_to_all_users(true)
        .auto_termination_policy(
            AutoTerminationPolicy::builder()
                .idle_timeout(s.idle_timeout.as_secs() as i64)
                .build(),
        )
        .tags(
            Tag::builder()
                .key(TAG)
                .value(env!("CARGO_PKG_VERSION"))
                .build(),
        );
    for (k, v) in &s.tags {
        req = req.tags(Tag::builder().key(k).value(v).build());
    }
    if let Some(l) = &s.log_uri {
        req = req.log_uri(l);
    }
    let out = req
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(explain_api_error(&describe(&e), s)))?;
    out.job_flow_id()
        .map(str::to_owned)
        .context("RunJobFlow returned no cluster id")
}

/// Adds a task instance group (resizing for a big job).
pub async fn add_nodes(aws: &Aws, cluster: &str, g: &Group) -> anyhow::Result<Vec<String>> {
    let out = aws
        .emr
        .add_instance_groups()
        .job_flow_id(cluster)
        .instance_groups(group_config(InstanceRoleType::Task, g, "task")?)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("adding nodes to {cluster}: {}", describe(&e)))?;
    Ok(out.instance_group_ids().to_vec())
}

/// What people ask about a cluster.
#[derive(Debug, Clone, Default)]
pub struct Info {
    pub id: String,
    pub name: String,
    pub state: String,
    pub release_label: String,
    pub log_uri: Option<String>,
    pub created: Option<SystemTime>,
    pub ready: Option<SystemTime>,
    pub tags: Vec<(String, String)>,
    pub groups: Vec<(String, String, i32)>,
    pub normalized_hours: Option<i32>,
    pub state_reason: Option<String>,
}

fn time(t: Option<&aws_sdk_emr::primitives::DateTime>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

pub async fn describe_cluster(aws: &Aws, id: &str) -> anyhow::Result<Info> {
    let out = aws
        .emr
        .describe_cluster()
        .cluster_id(id)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("describing {id}: {}", describe(&e)))?;
    let c = out.cluster().with_context(|| format!("no cluster {id}"))?;
    let status = c.status();
    let groups = aws
        .emr
        .list_instance_groups()
        .cluster_id(id)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("listing instance groups of {id}: {}", describe(&e)))?;
    Ok(Info {
        id: id.to_owned(),
        name: c.name().unwrap_or_default().to_owned(),
        state: status
            .and_then(|s| s.state())
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        release_label: c.release_label().unwrap_or_default().to_owned(),
        log_uri: c.log_uri().map(str::to_owned),
        created: time(
            status
                .and_then(|s| s.timeline())
                .and_then(|t| t.creation_date_time()),
        ),
        ready: time(
            status
                .and_then(|s| s.timeline())
                .and_then(|t| t.ready_date_time()),
        ),
        tags: c
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        groups: groups
            .instance_groups()
            .iter()
            .map(|g| {
                (
                    g.instance_group_type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    g.instance_type().unwrap_or_default().to_owned(),
                    g.requested_instance_count().unwrap_or(0),
                )
            })
            .collect(),
        normalized_hours: c.normalized_instance_hours(),
        state_reason: status
            .and_then(|s| s.state_change_reason())
            .and_then(|r| r.message())
            .map(str::to_owned),
    })
}

/// mapfold's clusters that are not terminated, newest first.
pub async fn list(aws: &Aws, all: bool) -> anyhow::Result<Vec<Info>> {
    let mut req = aws.emr.list_clusters();
    if !all {
        for s in [
            ClusterState::Starting,
            ClusterState::Bootstrapping,
            ClusterState::Running,
            ClusterState::Waiting,
            ClusterState::Terminating,
        ] {
            req = req.cluster_states(s);
        }
    }
    let mut ids = Vec::new();
    let mut pages = req.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow::anyhow!("listing clusters: {}", describe(&e)))?;
        ids.extend(
            page.clusters()
                .iter()
                .filter_map(|c| c.id().map(str::to_owned)),
        );
    }
    let mut out = Vec::new();
    for id in ids {
        let info = describe_cluster(aws, &id).await?;
        if info.tags.iter().any(|(k, _)| k == TAG) {
            out.push(info);
        }
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.created));
    Ok(out)
}

pub async fn terminate(aws: &Aws, id: &str) -> anyhow::Result<()> {
    aws.emr
        .terminate_job_flows()
        .job_flow_ids(id)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("terminating {id}: {}", describe(&e)))?;
    Ok(())
}

/// The CPU architecture of an instance type under a release, as EMR
/// reports it (`X86_64` or `AARCH64`); Graviton types are `AARCH64`.
pub async fn architecture(
    aws: &Aws,
    release_label: &str,
    instance_type: &str,
) -> anyhow::Result<String> {
    let mut pages = aws
        .emr
        .list_supported_instance_types()
        .release_label(release_label)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            anyhow::anyhow!(
                "listing instance types of {release_label}: {}",
                describe(&e)
            )
        })?;
        if let Some(t) = page
            .supported_instance_types()
            .iter()
            .find(|t| t.r#type() == Some(instance_type))
        {
            return t
                .architecture()
                .map(str::to_owned)
                .context("instance type without an architecture");
        }
    }
    bail!(
        "instance type {instance_type} is not supported by {release_label} in this region; \
         pick another with --core-type/--primary-type (see `aws emr list-supported-instance-types --release-label {release_label}`)"
    )
}

/// The Rust target whose static binaries run on `arch`.
pub fn target_for(arch: &str) -> anyhow::Result<&'static str> {
    match arch.to_ascii_uppercase().as_str() {
        "X86_64" | "AMD64" => Ok("x86_64-unknown-linux-musl"),
        "AARCH64" | "ARM64" => Ok("aarch64-unknown-linux-musl"),
        other => bail!("no mapfold build for architecture {other}"),
    }
}

/// Adds what to do about the most common first-run errors (roles,
/// instance types, permissions) to a cluster-creation error.
pub fn explain_api_error(msg: &str, spec: &ClusterSpec) -> String {
    let lower = msg.to_ascii_lowercase();
    let hint = if lower.contains("role")
        && (lower.contains("invalid") || lower.contains("not") || lower.contains("exist"))
    {
        format!(
            "The cluster roles {} / {} are missing or unusable. Create the defaults once per account with \
             `aws emr create-default-roles`, or pass --service-role and --instance-profile.",
            spec.service_role, spec.instance_profile
        )
    } else if lower.contains("instance type") || lower.contains("instancetype") {
        format!(
            "An instance type ({} / {}) is not offered for {} in this region or availability zone. \
             List what is with `aws emr list-supported-instance-types --release-label {}` and pass --primary-type/--core-type.",
            spec.primary.instance_type,
            spec.core.instance_type,
            spec.release_label,
            spec.release_label
        )
    } else if lower.contains("accessdenied")
        || lower.contains("access denied")
        || lower.contains("not authorized")
    {
        "The credentials in use may not do this. Check which identity they are (`aws sts get-caller-identity`) \
         and that its policy allows EMR and the S3 bucket."
            .to_owned()
    } else {
        return msg.to_owned();
    };
    format!("{msg}\n{hint}")
}
