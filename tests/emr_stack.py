"""The EMR test stack: moto's S3 and EMR on 127.0.0.1, plus a step executor.

moto never moves an EMR step past RUNNING, so this process also plays the
cluster: it finds each step the driver added and runs its `hadoop-streaming`
arguments as Hadoop streaming would: the step's own -mapper, -combiner and
-reducer strings, split by the port of StreamUtil.splitArgs, over the
binaries downloaded from moto's S3 exactly as shipped with -files, one map
task per input file, the map output partitioned by Hadoop's hash
partitioner and sorted by key bytes. It writes the part files back to S3
and completes the step; or, when a task fails,
writes the task's stderr under the cluster's log URI the way EMR lays logs
out and fails the step with FailureDetails.

Every request is logged as a JSON line to --log (method, path, query, and
for EMR the operation and its body), so tests can see what was sent.

Usage: emr_stack.py --log FILE [--hold-steps] [--bucket NAME]...
Prints "READY <endpoint-url>" when serving; runs until stdin closes.
"""

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import streaming  # noqa: E402
from streaming import splits_of  # noqa: E402
from moto.emr import models as emr_models
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

LOG_LOCK = threading.Lock()


def logging_app(app, log_path, slow_run_job_flow=0.0):
    def wrapped(environ, start_response):
        entry = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING", ""),
        }
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("ElasticMapReduce."):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            entry["emr"] = target.split(".", 1)[1]
            try:
                entry["body"] = json.loads(body or b"{}")
            except ValueError:
                entry["body"] = None
        with LOG_LOCK, open(log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")
        result = app(environ, start_response)
        if entry.get("emr") == "RunJobFlow" and slow_run_job_flow:
            # The cluster exists; its id reaches the client only later, as
            # when a signal arrives while RunJobFlow is in flight.
            time.sleep(slow_run_job_flow)
        return result

    return wrapped


# moto's StepStatus has no FailureDetails: add it when the executor set one.
_status = emr_models.Step.status.fget


def _status_with_failure(self):
    d = _status(self)
    details = getattr(self, "failure_details", None)
    if details:
        d["FailureDetails"] = details
    return d


emr_models.Step.status = property(_status_with_failure)


def split_s3(url):
    rest = url.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    return bucket, key


class Executor:
    def __init__(self, endpoint, hold):
        self.endpoint = endpoint
        self.hold = hold
        self.handled = set()

    def s3(self, region):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id="stack",
            aws_secret_access_key="stack",
        )

    def loop(self):
        while True:
            try:
                for account in list(emr_models.emr_backends.keys()):
                    for region, backend in list(emr_models.emr_backends[account].items()):
                        for cluster in list(backend.clusters.values()):
                            # EMR runs a cluster's steps one at a time.
                            if not any(st.state == "RUNNING" for st in cluster.steps):
                                pending = [st for st in cluster.steps if st.state == "PENDING"]
                                if pending and cluster.state not in ("TERMINATING", "TERMINATED"):
                                    pending[0].state = "RUNNING"
                                    pending[0].start_date_time = emr_models.utcnow()
                            for step in list(cluster.steps):
                                if step.state == "RUNNING" and step.id not in self.handled:
                                    self.handled.add(step.id)
                                    if not self.hold:
                                        threading.Thread(
                                            target=self.run_step,
                                            args=(region, cluster, step),
                                            daemon=True,
                                        ).start()
            except Exception:  # the stack must keep serving
                traceback.print_exc()
            time.sleep(0.1)

    def run_step(self, region, cluster, step):
        try:
            ok, stderr = self.execute(region, step)
        except Exception:
            ok, stderr = False, traceback.format_exc()
        if ok:
            step.state = "COMPLETED"
        else:
            log_file = self.write_logs(region, cluster, step, stderr)
            step.failure_details = {
                "Reason": "Unknown Error.",
                "Message": "Streaming Command Failed!",
                "LogFile": log_file,
            }
            step.state = "FAILED"
        step.end_date_time = emr_models.utcnow()
        if cluster.state == "RUNNING":
            cluster.state = "WAITING"

    def execute(self, region, step):
        opts = streaming.parse(step.args[1:]) if step.args[:1] == ["hadoop-streaming"] else None
        if opts is None:
            return False, "not a hadoop-streaming step: %r" % step.args[:1]
        s3 = self.s3(region)
        with tempfile.TemporaryDirectory() as tmp:
            bins = os.path.join(tmp, "bin")
            os.makedirs(bins)
            for spec in opts["-files"].split(","):
                url, _, name = spec.partition("#")
                bucket, key = split_s3(url)
                path = os.path.join(bins, name or os.path.basename(key))
                s3.download_file(bucket, key, path)
                os.chmod(path, 0o755)
            inputs = []
            for n, url in enumerate(opts["-input"]):
                bucket, key = split_s3(url)
                local = os.path.join(tmp, "in", str(n))
                objects = s3.list_objects_v2(Bucket=bucket, Prefix=key.rstrip("/") + "/").get("Contents", [])
                if objects:
                    for o in objects:
                        rel = o["Key"][len(key.rstrip("/")) + 1:]
                        path = os.path.join(local, rel)
                        os.makedirs(os.path.dirname(path), exist_ok=True)
                        s3.download_file(bucket, o["Key"], path)
                    inputs.append(local)
                else:
                    os.makedirs(local)
                    path = os.path.join(local, os.path.basename(key))
                    s3.download_file(bucket, key, path)
                    inputs.append(path)
            out_dir = os.path.join(tmp, "out")
            try:
                splits = splits_of(opts["-input"], inputs, opts)
            except streaming.NotAFile as e:
                return False, "java.io.IOException: Not a file: %s\n" % e
            ok, stderr = streaming.run(opts, bins, splits, out_dir)
            if not ok:
                return False, stderr
            bucket, key = split_s3(opts["-output"])
            prefix = key.rstrip("/") + "/"
            for name in sorted(os.listdir(out_dir)):
                s3.upload_file(os.path.join(out_dir, name), bucket, prefix + name)
            return True, stderr

    def write_logs(self, region, cluster, step, stderr):
        """Lays the failure out as EMR does under the cluster's log URI."""
        if not cluster.log_uri:
            return None
        s3 = self.s3(region)
        bucket, key = split_s3(cluster.log_uri)
        base = key.rstrip("/") + "/" if key else ""
        container = base + "%s/containers/application_1700000000000_0001/container_1700000000000_0001_01_000002/stderr.gz" % cluster.id
        s3.put_object(Bucket=bucket, Key=container, Body=gzip.compress(stderr.encode()))
        step_log = base + "%s/steps/%s/stderr.gz" % (cluster.id, step.id)
        s3.put_object(Bucket=bucket, Key=step_log, Body=gzip.compress(b"Streaming Command Failed!\n"))
        return "s3://%s/%s" % (bucket, step_log)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--hold-steps", action="store_true")
    ap.add_argument("--slow-run-job-flow", type=float, default=0.0,
                    help="answer RunJobFlow this many seconds late")
    ap.add_argument("--bucket", action="append", default=[], help="create this bucket first")
    a = ap.parse_args()
    app = logging_app(DomainDispatcherApplication(create_backend_app), a.log, a.slow_run_job_flow)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    endpoint = "http://127.0.0.1:%d" % server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    executor = Executor(endpoint, a.hold_steps)
    for b in a.bucket:
        executor.s3("us-east-1").create_bucket(Bucket=b)
    threading.Thread(target=executor.loop, daemon=True).start()
    print("READY " + endpoint, flush=True)
    # Serve until the test closes our stdin (or dies).
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
