#!/usr/bin/env bash
# Runs shardflow's integration suite against a real LocalStack instead of the embedded emulators.
# Needs Docker. Starts LocalStack (localstack/docker-compose.yml), deploys the CDK app with cdklocal
# (fetched by npx at run time, not a project dependency), runs the integration tests with
# SHARDFLOW_TARGET=localstack, and always stops LocalStack again.
#
#   localstack/scripts/run-against-localstack.sh            # whole integration project
#   localstack/scripts/run-against-localstack.sh esm        # only tests matching "esm"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
COMPOSE=(docker compose -f localstack/docker-compose.yml)

command -v docker >/dev/null || { echo "docker is required to run against LocalStack" >&2; exit 2; }

cleanup() { "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM

"${COMPOSE[@]}" up -d --wait

export SHARDFLOW_TARGET=localstack
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test

# cdklocal wraps the project's own aws-cdk CLI and points it at AWS_ENDPOINT_URL.
npx --yes aws-cdk-local bootstrap "aws://000000000000/${AWS_REGION}"
# Glue and Athena are not in LocalStack Community: the app leaves them out with analytics=false
# (set SHARDFLOW_LOCALSTACK_ANALYTICS=true with LocalStack Pro). removalPolicy=destroy: throw-away stack.
npx --yes aws-cdk-local deploy --all --require-approval never \
  --context "analytics=${SHARDFLOW_LOCALSTACK_ANALYTICS:-false}" --context removalPolicy=destroy \
  --outputs-file cdk.out/localstack-outputs.json

npx jest --selectProjects integration ${1:+--testPathPatterns "$1"}
