//! The streaming step: added with `command-runner.jar hadoop-streaming ...`,
//! then waited on with exponential backoff, throttling retried, and the end
//! reported as what it is: completed, failed (with EMR's failure details),
//! cancelled, or the cluster gone.

use std::time::{Duration, Instant};

use anyhow::Context;
use aws_sdk_emr::types::{
    ActionOnFailure, ClusterState, HadoopJarStepConfig, StepConfig, StepState,
};

use crate::aws::{code, describe};

/// Adds a `hadoop-streaming` step; returns its id.
pub async fn add_streaming_step(
    emr: &aws_sdk_emr::Client,
    cluster: &str,
    name: &str,
    streaming_args: &[String],
) -> anyhow::Result<String> {
    let args: Vec<String> = std::iter::once("hadoop-streaming".to_owned())
        .chain(streaming_args.iter().cloned())
        .collect();
    let step = StepConfig::builder()
        .name(name)
        // mapfold terminates the clusters it made itself, after diagnosing.
        .action_on_failure(ActionOnFailure::Continue)
        .hadoop_jar_step(
            HadoopJarStepConfig::builder()
                .jar("command-runner.jar")
                .set_args(Some(args))
                .build(),
        )
        .build();
    let out = emr
        .add_job_flow_steps()
        .job_flow_id(cluster)
        .steps(step)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("adding the step to {cluster}: {}", describe(&e)))?;
    out.step_ids()
        .first()
        .cloned()
        .context("AddJobFlowSteps returned no step id")
}

/// EMR's own account of a failed step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    pub reason: Option<String>,
    pub message: Option<String>,
    pub log_file: Option<String>,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Completed,
    Failed(Failure),
    /// Cancelled or interrupted, with EMR's reason.
    Cancelled(String),
    /// The cluster ended (e.g. TERMINATED_WITH_ERRORS) under the step.
    ClusterGone {
        state: String,
        reason: String,
    },
}

/// Poll intervals: `initial`, times `factor` after each poll, at most `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub factor: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(60),
            factor: 1.5,
        }
    }
}

impl Backoff {
    fn next(&self, d: Duration) -> Duration {
        d.mul_f64(self.factor).min(self.max)
    }
}

/// Error codes worth waiting out.
fn throttled(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "ThrottlingException"
                | "Throttling"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
        )
    )
}

/// Consecutive throttled polls before giving up.
const MAX_THROTTLED: u32 = 12;

/// Waits for `step` to end, calling `status(state, elapsed)` on every poll.
pub async fn wait(
    emr: &aws_sdk_emr::Client,
    cluster: &str,
    step: &str,
    backoff: Backoff,
    mut status: impl FnMut(&str, Duration),
) -> anyhow::Result<End> {
    let start = Instant::now();
    let mut delay = backoff.initial;
    let mut throttles = 0;
    loop {
        match emr
            .describe_step()
            .cluster_id(cluster)
            .step_id(step)
            .send()
            .await
        {
            Ok(out) => {
                throttles = 0;
                let st = out.step().and_then(|s| s.status());
                let state = st
                    .and_then(|s| s.state())
                    .cloned()
                    .unwrap_or(StepState::Pending);
                status(state.as_str(), start.elapsed());
                match state {
                    StepState::Completed => return Ok(End::Completed),
                    StepState::Failed => {
                        let d = st.and_then(|s| s.failure_details());
                        return Ok(End::Failed(Failure {
                            reason: d.and_then(|d| d.reason()).map(str::to_owned),
                            message: d.and_then(|d| d.message()).map(str::to_owned),
                            log_file: d.and_then(|d| d.log_file()).map(str::to_owned),
                        }));
                    }
                    StepState::Cancelled | StepState::Interrupted => {
                        let why = st
                            .and_then(|s| s.state_change_reason())
                            .and_then(|r| r.message())
                            .unwrap_or("no reason given");
                        return Ok(End::Cancelled(format!("{}: {why}", state.as_str())));
                    }
                    _ => {}
                }
                if let Some(end) = cluster_gone(emr, cluster).await? {
                    return Ok(end);
                }
            }
            Err(e) if throttled(code(&e).as_deref()) && throttles < MAX_THROTTLED => {
                throttles += 1;
                status("THROTTLED", start.elapsed());
            }
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "describing step {step} of {cluster}: {}",
                    describe(&e)
                ));
            }
        }
        tokio::time::sleep(delay).await;
        delay = backoff.next(delay);
    }
}

/// `Some` when the cluster has ended, so the step never will.
async fn cluster_gone(emr: &aws_sdk_emr::Client, cluster: &str) -> anyhow::Result<Option<End>> {
    let out = match emr.describe_cluster().cluster_id(cluster).send().await {
        Ok(o) => o,
        Err(e) if throttled(code(&e).as_deref()) => return Ok(None),
        Err(e) => {
            return Err(anyhow::anyhow!(
                "describing cluster {cluster}: {}",
                describe(&e)
            ));
        }
    };
    let status = out.cluster().and_then(|c| c.status());
    match status.and_then(|s| s.state()) {
        Some(
            s @ (ClusterState::Terminated
            | ClusterState::TerminatedWithErrors
            | ClusterState::Terminating),
        ) => {
            let reason = status
                .and_then(|s| s.state_change_reason())
                .and_then(|r| r.message())
                .unwrap_or("no reason given")
                .to_owned();
            Ok(Some(End::ClusterGone {
                state: s.as_str().to_owned(),
                reason,
            }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_emr::operation::describe_cluster::DescribeClusterOutput;
    use aws_sdk_emr::operation::describe_step::{DescribeStepError, DescribeStepOutput};
    use aws_sdk_emr::types::{
        Cluster, ClusterStateChangeReason, ClusterStatus, FailureDetails, Step,
        StepStateChangeReason, StepStatus,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn with_status(status: StepStatus) -> DescribeStepOutput {
        DescribeStepOutput::builder()
            .step(Step::builder().status(status).build())
            .build()
    }

    fn step(state: StepState) -> DescribeStepOutput {
        with_status(StepStatus::builder().state(state).build())
    }

    fn cluster(state: ClusterState) -> DescribeClusterOutput {
        DescribeClusterOutput::builder()
            .cluster(
                Cluster::builder()
                    .status(
                        ClusterStatus::builder()
                            .state(state)
                            .state_change_reason(
                                ClusterStateChangeReason::builder()
                                    .message("VALIDATION_ERROR: subnet")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    const FAST: Backoff = Backoff {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(4),
        factor: 2.0,
    };

    #[tokio::test]
    async fn pending_running_completed() {
        let steps = mock!(aws_sdk_emr::Client::describe_step)
            .sequence()
            .output(|| step(StepState::Pending))
            .output(|| step(StepState::Running))
            .output(|| step(StepState::Running))
            .output(|| step(StepState::Completed))
            .build();
        let clusters = mock!(aws_sdk_emr::Client::describe_cluster)
            .then_output(|| cluster(ClusterState::Running));
        let client = mock_client!(aws_sdk_emr, RuleMode::MatchAny, [&steps, &clusters]);
        let mut seen = Vec::new();
        let end = wait(&client, "j-1", "s-1", FAST, |s, _| seen.push(s.to_owned()))
            .await
            .expect("waits");
        assert_eq!(end, End::Completed);
        assert_eq!(seen, ["PENDING", "RUNNING", "RUNNING", "COMPLETED"]);
    }

    #[tokio::test]
    async fn failed_with_details() {
        let steps = mock!(aws_sdk_emr::Client::describe_step).then_output(|| {
            with_status(
                StepStatus::builder()
                    .state(StepState::Failed)
                    .failure_details(
                        FailureDetails::builder()
                            .reason("Unknown Error.")
                            .message("Streaming Command Failed!")
                            .log_file("s3://logs/j-1/steps/s-1/stderr.gz")
                            .build(),
                    )
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_emr, RuleMode::MatchAny, [&steps]);
        let end = wait(&client, "j-1", "s-1", FAST, |_, _| {})
            .await
            .expect("waits");
        assert_eq!(
            end,
            End::Failed(Failure {
                reason: Some("Unknown Error.".into()),
                message: Some("Streaming Command Failed!".into()),
                log_file: Some("s3://logs/j-1/steps/s-1/stderr.gz".into()),
            })
        );
    }

    #[tokio::test]
    async fn throttling_is_retried_with_backoff() {
        let steps = mock!(aws_sdk_emr::Client::describe_step)
            .sequence()
            .http_status(
                400,
                Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()),
            )
            .times(3)
            .output(|| step(StepState::Completed))
            .build();
        let client = mock_client!(aws_sdk_emr, RuleMode::MatchAny, [&steps], |c| c
            .retry_config(aws_sdk_emr::config::retry::RetryConfig::disabled()));
        let mut seen = Vec::new();
        let end = wait(&client, "j-1", "s-1", FAST, |s, _| seen.push(s.to_owned()))
            .await
            .expect("waits");
        assert_eq!(end, End::Completed);
        assert_eq!(seen, ["THROTTLED", "THROTTLED", "THROTTLED", "COMPLETED"]);
    }

    #[tokio::test]
    async fn other_errors_stop_the_wait() {
        let steps = mock!(aws_sdk_emr::Client::describe_step).then_error(|| {
            DescribeStepError::InvalidRequestException(
                aws_sdk_emr::types::error::InvalidRequestException::builder()
                    .message("no such step")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_emr, RuleMode::MatchAny, [&steps]);
        let err = wait(&client, "j-1", "s-9", FAST, |_, _| {})
            .await
            .expect_err("fails");
        assert!(format!("{err:#}").contains("no such step"), "{err:#}");
    }

    #[tokio::test]
    async fn cancelled_and_cluster_terminated_with_errors() {
        let steps = mock!(aws_sdk_emr::Client::describe_step).then_output(|| {
            with_status(
                StepStatus::builder()
                    .state(StepState::Cancelled)
                    .state_change_reason(
                        StepStateChangeReason::builder()
                            .message("Job terminated")
                            .build(),
                    )
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_emr, RuleMode::MatchAny, [&steps]);
        let end = wait(&client, "j-1", "s-1", FAST, |_, _| {})
            .await
            .expect("waits");
        assert_eq!(end, End::Cancelled("CANCELLED: Job terminated".into()));

        let steps =
            mock!(aws_sdk_emr::Client::describe_step).then_output(|| step(StepState::Pending));
        let clusters = mock!(aws_sdk_emr::Client::describe_cluster)
            .then_output(|| cluster(ClusterState::TerminatedWithErrors));
        let client = mock_client!(aws_sdk_emr, RuleMode::MatchAny, [&steps, &clusters]);
        let end = wait(&client, "j-1", "s-1", FAST, |_, _| {})
            .await
            .expect("waits");
        assert_eq!(
            end,
            End::ClusterGone {
                state: "TERMINATED_WITH_ERRORS".into(),
                reason: "VALIDATION_ERROR: subnet".into()
            }
        );
    }
}
