//! `--dry-run`: what would be done, as the equivalent `aws` CLI commands,
//! printed so that they run as printed: every command carries the run's
//! `--region`, `--profile` and `--endpoint-url`, and ids a later command
//! needs are captured into shell variables where they are made. Nothing
//! here sends a request.

use std::path::Path;

use crate::aws::S3Url;
use crate::cluster::{ClusterSpec, Group, TAG};

pub use mapfold_core::cli::shell_word as sh;

/// The global `aws` options of a run (empty when none was given), to
/// append to each command.
pub fn globals(region: Option<&str>, profile: Option<&str>, endpoint: Option<&str>) -> String {
    let mut g = String::new();
    for (flag, v) in [
        ("--region", region),
        ("--profile", profile),
        ("--endpoint-url", endpoint),
    ] {
        if let Some(v) = v {
            g += &format!(" {flag} {}", sh(v));
        }
    }
    g
}

/// `VAR=$(cmd --query QUERY --output text)`: the command, keeping the id it
/// prints for the commands after it.
pub fn capture(var: &str, cmd: &str, query: &str) -> String {
    format!("{var}=$({cmd} --query {} --output text)", sh(query))
}

fn group(role: &str, g: &Group) -> String {
    let mut s = format!(
        "InstanceGroupType={role},InstanceType={},InstanceCount={}",
        g.instance_type, g.count
    );
    if let Some(p) = &g.spot {
        s += ",Market=SPOT";
        if !p.is_empty() {
            s += &format!(",BidPrice={p}");
        }
    }
    s
}

pub fn create_cluster(s: &ClusterSpec) -> String {
    let mut groups = vec![group("MASTER", &s.primary), group("CORE", &s.core)];
    groups.extend(s.task.iter().map(|t| group("TASK", t)));
    let mut ec2 = format!("InstanceProfile={}", s.instance_profile);
    if let Some(sn) = &s.subnet {
        ec2 += &format!(",SubnetId={sn}");
    }
    if let Some(k) = &s.key_pair {
        ec2 += &format!(",KeyName={k}");
    }
    let mut tags = vec![format!("{TAG}={}", env!("CARGO_PKG_VERSION"))];
    tags.extend(s.tags.iter().map(|(k, v)| format!("{k}={v}")));
    let mut cmd = format!(
        "aws emr create-cluster --name {} --release-label {} --applications Name=Hadoop --instance-groups {} \
         --service-role {} --ec2-attributes {} --auto-termination-policy IdleTimeout={} --tags {}",
        sh(&s.name),
        sh(&s.release_label),
        groups.iter().map(|g| sh(g)).collect::<Vec<_>>().join(" "),
        sh(&s.service_role),
        sh(&ec2),
        s.idle_timeout.as_secs(),
        tags.iter().map(|t| sh(t)).collect::<Vec<_>>().join(" ")
    );
    if let Some(l) = &s.log_uri {
        cmd += &format!(" --log-uri {}", sh(l));
    }
    cmd
}

pub fn add_nodes(cluster: &str, g: &Group) -> String {
    format!(
        "aws emr add-instance-groups --cluster-id {} --instance-groups {}",
        sh(cluster),
        sh(&group("TASK", g))
    )
}

pub fn terminate(cluster: &str) -> String {
    format!("aws emr terminate-clusters --cluster-ids {}", sh(cluster))
}

pub fn describe(cluster: &str) -> String {
    format!("aws emr describe-cluster --cluster-id {}", sh(cluster))
}

pub fn list() -> String {
    "aws emr list-clusters --active".to_owned()
}

pub fn upload(local: &Path, url: &S3Url) -> String {
    format!(
        "aws s3 cp {} {}",
        sh(&local.display().to_string()),
        sh(&url.to_string())
    )
}

pub fn add_step(cluster: &str, name: &str, streaming_args: &[String]) -> String {
    let args: Vec<String> = std::iter::once("hadoop-streaming".to_owned())
        .chain(streaming_args.iter().cloned())
        .collect();
    let step = serde_json::json!([{
        "Type": "CUSTOM_JAR",
        "Name": name,
        "Jar": "command-runner.jar",
        "ActionOnFailure": "CONTINUE",
        "Args": args,
    }]);
    format!(
        "aws emr add-steps --cluster-id {} --steps {}",
        sh(cluster),
        sh(&step.to_string())
    )
}

pub fn wait_step(cluster: &str, step: &str) -> String {
    format!(
        "aws emr wait step-complete --cluster-id {} --step-id {}",
        sh(cluster),
        sh(step)
    )
}

pub fn download(prefix: &S3Url, local: &Path) -> String {
    format!(
        "aws s3 cp --recursive --exclude '*' --include 'part-*' --include _SUCCESS {} {}",
        sh(&prefix.dir().to_string()),
        sh(&local.display().to_string())
    )
}
