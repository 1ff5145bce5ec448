#!/usr/bin/env bash
# The Flotilla demo, on one machine: a manager and three agents (env=dev,
# env=test, env=prod) whose "clusters" are directories, a GitRepo pointing at a
# local repository made from examples/, and then a commit that only env=prod
# clusters receive.
#
# Needs the binaries built (default build/release; set FLOTILLA_BUILD_DIR for
# another build directory, e.g. build/debug) and git.
# FLOTILLA_DEMO_KEEP=1 keeps the work directory (logs, repository, clusters).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${FLOTILLA_BUILD_DIR:-build/release}"
case "$BUILD_DIR" in
  /*) ;;
  *) BUILD_DIR="$ROOT/$BUILD_DIR" ;;
esac
MANAGER="$BUILD_DIR/manager/flotilla-manager"
AGENT="$BUILD_DIR/agent/flotilla-agent"
CLI="$BUILD_DIR/cli/flotilla"
DEADLINE_SECONDS=60
ENVS=(dev test prod)

if [[ -t 1 ]]; then
  BOLD=$'\e[1m' GREEN=$'\e[32m' RED=$'\e[31m' DIM=$'\e[2m' RESET=$'\e[0m'
else
  BOLD='' GREEN='' RED='' DIM='' RESET=''
fi

step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$RESET"; }
note() { printf '    %s\n' "$*"; }
ok() { printf '    %s✔%s %s\n' "$GREEN" "$RESET" "$*"; }

for binary in "$MANAGER" "$AGENT" "$CLI"; do
  if [[ ! -x "$binary" ]]; then
    echo "demo: $binary is missing." >&2
    echo "      Build first (cmake --preset release && cmake --build --preset release)," >&2
    echo "      or point FLOTILLA_BUILD_DIR at another build directory." >&2
    exit 1
  fi
done
command -v git >/dev/null || { echo "demo: git is not installed." >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/flotilla-demo.XXXXXX")"
PIDS=()
SUCCEEDED=0

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ "$SUCCEEDED" == 1 && -z "${FLOTILLA_DEMO_KEEP:-}" ]]; then
    rm -rf "$WORK"
  else
    printf '\n%sThe work directory (logs, repository, clusters) is kept at %s%s\n' \
      "$DIM" "$WORK" "$RESET"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Prints what went wrong and the end of every log, then exits non-zero.
fail() {
  printf '\n%sdemo failed: %s%s\n' "$RED$BOLD" "$*" "$RESET" >&2
  local log
  for log in "$WORK"/manager.log "$WORK"/agent-*.log; do
    [[ -f "$log" ]] || continue
    printf '\n%s--- last lines of %s%s\n' "$BOLD" "$log" "$RESET" >&2
    tail -n 25 "$log" >&2
  done
  exit 1
}

# wait_for DESCRIPTION COMMAND...: runs COMMAND every half second until it
# succeeds, for at most DEADLINE_SECONDS.
wait_for() {
  local what="$1"
  shift
  local deadline=$((SECONDS + DEADLINE_SECONDS))
  until "$@"; do
    check_processes
    if ((SECONDS >= deadline)); then
      fail "timed out after ${DEADLINE_SECONDS}s waiting for $what"
    fi
    sleep 0.5
  done
}

check_processes() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "a Flotilla process (pid $pid) exited unexpectedly"
  done
}

flotilla() { "$CLI" "$@"; }

# The values of "key": "..." in JSON on stdin, one a line.
json_values() { grep -o "\"$1\": *\"[^\"]*\"" | sed 's/^.*: *"\(.*\)"$/\1/' || true; }

connected_clusters() {
  flotilla get clusters -o json 2>/dev/null | grep -c '"connected": *true' || true
}
all_connected() { [[ "$(connected_clusters)" == "${#ENVS[@]}" ]]; }

# True when the GitRepo has stored commit $1.
gitrepo_at() {
  flotilla get gitrepos -o json 2>/dev/null | json_values applied_commit | grep -qx "$1"
}

# True when there are exactly $1 bundle deployments, all READY with their
# current deployment applied.
all_ready() {
  local json
  json="$(flotilla get bundledeployments -o json 2>/dev/null)" || return 1
  [[ "$(json_values bundle_name <<<"$json" | wc -l)" == "$1" ]] || return 1
  [[ "$(grep -c '"state": *"READY"' <<<"$json")" == "$1" ]] || return 1
  [[ "$(json_values deployment_id <<<"$json" | sort)" == \
     "$(json_values applied_deployment_id <<<"$json" | sort)" ]]
}

show_tables() {
  step "flotilla get clusters"
  flotilla get clusters
  step "flotilla get bundles"
  flotilla get bundles
  step "flotilla get bundledeployments"
  flotilla get bundledeployments
}

show_clusters() {
  local env
  for env in "${ENVS[@]}"; do
    printf '    %s%s%s (env=%s):\n' "$BOLD" "$env" "$RESET" "$env"
    (cd "$WORK/clusters/$env" && find . -type f | sed 's|^\./|      |' | sort)
  done
}

git_in_repo() {
  git -C "$WORK/repo" -c user.name="Flotilla Demo" -c user.email=demo@flotilla.invalid \
    -c commit.gpgsign=false "$@"
}

printf '%sFlotilla demo%s: one manager, three clusters (dev, test, prod), one Git repository.\n' \
  "$BOLD" "$RESET"
note "binaries: $BUILD_DIR"
note "work dir: $WORK"

# ---------------------------------------------------------------------------
step "Making a Git repository from examples/"
mkdir -p "$WORK/repo"
cp -a "$ROOT/examples/." "$WORK/repo/"
git -C "$WORK/repo" init -q -b main
git_in_repo add -A
git_in_repo commit -q -m "Flotilla examples: web and config"
note "$WORK/repo at $(git -C "$WORK/repo" rev-parse --short HEAD):"
(cd "$WORK/repo" && find apps -type f | sort | sed 's/^/      /')

# ---------------------------------------------------------------------------
step "Starting flotilla-manager"
"$MANAGER" --data-dir "$WORK/manager" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  >"$WORK/manager.log" 2>&1 &
PIDS+=($!)
wait_for "the manager to listen ($WORK/manager/endpoints.json)" \
  test -s "$WORK/manager/endpoints.json"
GRPC="$(json_values grpc <"$WORK/manager/endpoints.json")"
HTTP="$(json_values http <"$WORK/manager/endpoints.json")"
[[ -n "$GRPC" && -n "$HTTP" ]] || fail "cannot read $WORK/manager/endpoints.json"
export FLOTILLA_SERVER="$GRPC"
export FLOTILLA_CA_FILE="$WORK/manager/ca.crt"
export FLOTILLA_TOKEN_FILE="$WORK/manager/admin.token"
note "agents and the CLI connect to $GRPC (gRPC, TLS); metrics at http://$HTTP/metrics"
note "the CLI reads FLOTILLA_SERVER, FLOTILLA_CA_FILE and FLOTILLA_TOKEN_FILE"

# ---------------------------------------------------------------------------
step "Registering three agents with one token"
TOKEN="$(flotilla token create --ttl 10m | head -n 1)" || fail "flotilla token create failed"
[[ -n "$TOKEN" ]] || fail "flotilla token create printed no token"
note "flotilla token create --ttl 10m  ->  ${TOKEN:0:12}..."
for env in "${ENVS[@]}"; do
  mkdir -p "$WORK/agents" "$WORK/clusters/$env"
  "$AGENT" --manager "$GRPC" --token "$TOKEN" --ca-file "$WORK/manager/ca.crt" \
    --state-dir "$WORK/agents/$env" --name "$env" --label "env=$env" \
    --target "dir:$WORK/clusters/$env" >"$WORK/agent-$env.log" 2>&1 &
  PIDS+=($!)
  note "agent $env: --label env=$env --target dir:$WORK/clusters/$env"
done
wait_for "all three agents to connect" all_connected
ok "3 clusters connected"

# ---------------------------------------------------------------------------
step "Applying the GitRepo (examples/gitrepo.yaml, with spec.repo filled in)"
sed "s|^  repo: .*|  repo: file://$WORK/repo|" "$ROOT/examples/gitrepo.yaml" >"$WORK/gitrepo.yaml"
grep -v '^ *#' "$WORK/gitrepo.yaml" | sed 's/^/      /'
flotilla apply -f "$WORK/gitrepo.yaml" || fail "flotilla apply -f $WORK/gitrepo.yaml failed"
FIRST="$(git -C "$WORK/repo" rev-parse HEAD)"
wait_for "the manager to fetch commit ${FIRST:0:12}" gitrepo_at "$FIRST"
ok "commit ${FIRST:0:12} fetched and split into bundles"
wait_for "every bundle deployment to be Ready" all_ready 6
ok "2 bundles x 3 clusters = 6 bundle deployments, all Ready"

show_tables
step "What each cluster (directory) now holds"
show_clusters
note "web runs in namespace web on dev and test, and in web-prod on prod (a targetCustomization)."

# ---------------------------------------------------------------------------
step "Committing a new bundle, apps/audit, that only env=prod clusters get"
mkdir -p "$WORK/repo/apps/audit"
cat >"$WORK/repo/apps/audit/fleet.yaml" <<'EOF'
# The audit log shipper runs on production clusters only.
defaultNamespace: audit
targetCustomizations:
- name: not-prod
  clusterSelector:
    matchExpressions:
    - key: env
      operator: NotIn
      values: [prod]
  doNotDeploy: true
EOF
cat >"$WORK/repo/apps/audit/deployment.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: audit-shipper
  labels:
    app: audit-shipper
spec:
  replicas: 1
  selector:
    matchLabels:
      app: audit-shipper
  template:
    metadata:
      labels:
        app: audit-shipper
    spec:
      containers:
      - name: fluent-bit
        image: fluent/fluent-bit:3.0
EOF
sed 's/^/      /' "$WORK/repo/apps/audit/fleet.yaml"
git_in_repo add -A
git_in_repo commit -q -m "audit: ship audit logs from production"
SECOND="$(git -C "$WORK/repo" rev-parse HEAD)"
note "committed ${SECOND:0:12}; the GitRepo polls every 2s"
wait_for "the manager to fetch commit ${SECOND:0:12}" gitrepo_at "$SECOND"
ok "commit ${SECOND:0:12} fetched"
wait_for "the new bundle to be Ready on prod" all_ready 7
ok "7 bundle deployments, all Ready"

step "Where the audit shipper landed"
show_clusters
AUDIT="audit/deployment/audit-shipper.yaml"
[[ -f "$WORK/clusters/prod/$AUDIT" ]] || fail "prod does not hold $AUDIT"
ok "prod holds $AUDIT"
for env in dev test; do
  [[ ! -e "$WORK/clusters/$env/$AUDIT" ]] || fail "$env holds $AUDIT but is not env=prod"
  ok "$env does not"
done

show_tables

SUCCEEDED=1
printf '\n%s%sDemo complete.%s A commit reached exactly the clusters its labels selected.\n' \
  "$GREEN" "$BOLD" "$RESET"
if [[ -z "${FLOTILLA_DEMO_KEEP:-}" ]]; then
  note "Run with FLOTILLA_DEMO_KEEP=1 to keep $WORK and explore it afterwards."
fi
