//! The flags of the AWS commands (`emr`, `upload`, `run --runner emr`).
//! Plain clap structs, so they exist even in a build without the AWS SDK.

use std::path::PathBuf;

/// Where and as whom to talk to AWS.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AwsArgs {
    /// AWS profile (default: the standard chain: environment, default
    /// profile, SSO, instance metadata).
    #[arg(long)]
    pub profile: Option<String>,
    /// AWS region (default: from the profile or AWS_REGION).
    #[arg(long)]
    pub region: Option<String>,
    /// Send S3 and EMR requests here (also AWS_ENDPOINT_URL), e.g. a local
    /// S3-compatible or test endpoint.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Send nothing: print the equivalent `aws` CLI commands.
    #[arg(long)]
    pub dry_run: bool,
}

/// The release mapfold clusters run by default.
pub const DEFAULT_RELEASE: &str = "emr-7.14.0";

/// What a new cluster looks like.
#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Cluster name, as the EMR console shows it.
    #[arg(long, default_value = "mapfold")]
    pub name: String,
    /// EMR release (emr-7.x runs Hadoop 3 on Amazon Linux 2023).
    #[arg(long, default_value = DEFAULT_RELEASE)]
    pub release_label: String,
    /// Primary (master) node instance type.
    #[arg(long, default_value = "m5.xlarge")]
    pub primary_type: String,
    /// Core instance type; Graviton types (m7g, c7g, ...) get the aarch64 binaries.
    #[arg(long, default_value = "m5.xlarge")]
    pub core_type: String,
    /// Core nodes (they run tasks and hold HDFS).
    #[arg(long, default_value_t = 2)]
    pub core_count: i32,
    /// A task instance group too (type and --task-count).
    #[arg(long)]
    pub task_type: Option<String>,
    /// Task nodes (with --task-type).
    #[arg(long, default_value_t = 0)]
    pub task_count: i32,
    /// Core and task nodes on the spot market, optionally with a maximum
    /// price in USD (default: the on-demand price).
    #[arg(long, value_name = "PRICE", num_args = 0..=1, default_missing_value = "")]
    pub spot: Option<String>,
    /// VPC subnet id for the nodes (default: EMR's choice in the default VPC).
    #[arg(long)]
    pub subnet: Option<String>,
    /// EC2 key pair name, to ssh into the primary node.
    #[arg(long)]
    pub key_pair: Option<String>,
    /// Where EMR writes logs (s3://...): how a failed task's stderr is found.
    /// `run --runner emr` defaults it to s3://<output bucket>/mapfold-logs/.
    #[arg(long)]
    pub log_uri: Option<String>,
    /// Extra tags, repeatable.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// IAM role EMR acts as (`aws emr create-default-roles` makes it).
    #[arg(long, default_value = "EMR_DefaultRole")]
    pub service_role: String,
    /// IAM instance profile of the nodes (also from create-default-roles).
    #[arg(long, default_value = "EMR_EC2_DefaultRole")]
    pub instance_profile: String,
    /// Minutes idle before the cluster ends itself (always set, so a
    /// cluster ends even if this laptop dies).
    #[arg(long, default_value_t = 30)]
    pub idle_timeout: u64,
}

/// `run --runner emr` only.
#[derive(clap::Args, Debug, Clone)]
pub struct EmrRunArgs {
    /// Run on this existing cluster (default: create one, terminate it after).
    #[arg(long)]
    pub cluster: Option<String>,
    /// Keep the cluster this run creates (it still ends itself when idle).
    #[arg(long)]
    pub keep_cluster: bool,
    /// Where local inputs and the binaries are staged (default:
    /// s3://<output bucket>/mapfold-staging/).
    #[arg(long)]
    pub s3_stage: Option<String>,
    /// Local directory the output is downloaded to (default: the last part of --output).
    #[arg(long)]
    pub local_output: Option<PathBuf>,
    /// Directory of the static builds, dist/<target>/ as scripts/build-static
    /// makes them (default: ./dist, else the dist/ of the checkout this
    /// mapfold was built in, so it works from any directory).
    #[arg(long)]
    pub dist: Option<PathBuf>,
    /// First wait between status polls, in seconds (then 1.5x, up to 60).
    #[arg(long, default_value_t = 5.0)]
    pub poll_seconds: f64,
}

/// What a build without the `emr` feature says to the AWS commands.
#[cfg(not(feature = "emr"))]
pub const NO_EMR: &str = "this mapfold was built without EMR support (scripts/demo skips the AWS SDK to build \
     faster): build it with `cargo build --release -p mapfold` and run target/release/mapfold";
