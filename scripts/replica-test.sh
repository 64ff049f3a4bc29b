#!/usr/bin/env bash
# Read scaling against a real streaming replica.
#
#   scripts/replica-test.sh [PATH/TO/hutong]
#
# Makes two PostgreSQL clusters on loopback ports in a temporary folder (a primary, and a hot
# standby made by pg_basebackup -R that streams from it), then:
#   1. writes through hutong (demo certificates, issuers) with --database on the primary and
#      --read-database on the replica, and waits until the replica has replayed the writes;
#   2. pauses replay on the replica, writes more through the primary, and checks that hutong
#      with --read-database still answers from the replica (the old data) while hutong on the
#      primary alone sees the new data; resumes replay and checks the replica catches up;
#   3. checks that the replica cannot be used as --database (it is read-only).
# The clusters are stopped and the folder removed on exit, failed or not.
#
# Needs the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup: PGBIN, default the
# newest /usr/lib/postgresql/*/bin). Run as root, it runs them as the postgres user.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
hutong="${1:-$repo/target/release/hutong}"
[ -x "$hutong" ] || { echo "error: no hutong binary at $hutong (build it, or pass its path)" >&2; exit 1; }
hutong="$(cd "$(dirname "$hutong")" && pwd)/$(basename "$hutong")"

if [ -z "${PGBIN:-}" ]; then
    PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
fi
for tool in initdb pg_ctl pg_basebackup; do
    [ -x "$PGBIN/$tool" ] || { echo "error: $tool not found in PGBIN=$PGBIN" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/hutong-replica.XXXXXX")"
chmod 755 "$work"
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$work"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

step() { echo "== $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

cleanup() {
    local status=$?
    for c in replica primary; do
        if [ -f "$work/$c/postmaster.pid" ]; then
            as_pg "$PGBIN/pg_ctl" -D "$work/$c" stop -m immediate -w >/dev/null 2>&1 || true
        fi
    done
    if [ $status -ne 0 ]; then
        for log in "$work"/primary.log "$work"/replica.log "$work"/basebackup.log; do
            [ -f "$log" ] && { echo "--- $(basename "$log") (last lines)"; tail -n 20 "$log"; }
        done
    fi
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two free loopback ports.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports=()
p=$((56000 + RANDOM % 2000))
while [ ${#ports[@]} -lt 2 ]; do
    port_free "$p" && ports+=("$p")
    p=$((p + 1))
done
primary_port=${ports[0]}
replica_port=${ports[1]}

step "primary cluster on 127.0.0.1:$primary_port"
as_pg "$PGBIN/initdb" -D "$work/primary" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$work/initdb.log"
cat >>"$work/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$work'
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
shared_buffers = 32MB
EOF
as_pg "$PGBIN/pg_ctl" -D "$work/primary" -l "$work/primary.log" -w start >/dev/null

psql_at() { psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d "${3:-postgres}" -Atc "$2"; }
psql_at "$primary_port" "CREATE DATABASE registry" >/dev/null

step "replica cluster on 127.0.0.1:$replica_port (pg_basebackup -R, streaming)"
as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$work/replica" -R -X stream -c fast >"$work/basebackup.log" 2>&1
echo "port = $replica_port" | as_pg tee -a "$work/replica/postgresql.auto.conf" >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$work/replica" -l "$work/replica.log" -w start >/dev/null
[ "$(psql_at "$replica_port" "SELECT pg_is_in_recovery()")" = t ] || fail "the replica is not in recovery"
for _ in $(seq 1 100); do
    [ "$(psql_at "$primary_port" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ] && break
    sleep 0.1
done
[ "$(psql_at "$primary_port" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ] \
    || fail "the replica does not stream from the primary"

primary="postgres://postgres@127.0.0.1:$primary_port/registry"
replica="postgres://postgres@127.0.0.1:$replica_port/registry"
mkdir -p "$work/data"
on_primary() { RUST_LOG=warn "$hutong" --policy "$repo/policy" --data-dir "$work/data" --database "$primary" "$@"; }
split() { on_primary --read-database "$replica" "$@"; }

# Waits until the replica has replayed everything the primary has written so far.
wait_for_replay() {
    local lsn
    lsn="$(psql_at "$primary_port" "SELECT pg_current_wal_lsn()")"
    for _ in $(seq 1 300); do
        [ "$(psql_at "$replica_port" "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && return 0
        sleep 0.1
    done
    fail "the replica did not replay up to $lsn within 30 s"
}

step "writes through hutong go to the primary"
split demo --certificates 2000 --today 2026-11-26
# It amends demo issuers, which changes some demo certificates' issuer check: --yes.
split issuers import --yes "$repo/examples/issuers.toml"
wait_for_replay

step "reads through hutong come from the replica"
count() { psql_at "$1" "SELECT count(*) FROM certificates" registry; }
[ "$(count "$replica_port")" = 2000 ] || fail "the replica holds $(count "$replica_port") certificates, expected 2000"
issuers_before="$(split issuers list --json | wc -l)"
[ "$issuers_before" -gt 4 ] || fail "issuers list through the replica shows $issuers_before issuers"

psql_at "$replica_port" "SELECT pg_wal_replay_pause()" >/dev/null
cat >"$work/late.toml" <<'EOF'
[[issuer]]
id = "mem.99"
name_zh = "复制延迟测试应急管理厅"
department = "mem"
role = "authority"
kinds = ["mem.electrical.low-voltage"]
registered_on = 2020-01-01
EOF
set +e
late_import="$(on_primary issuers import "$work/late.toml" 2>&1)"
rc=$?
set -e
if [ $rc != 0 ]; then
    echo "$late_import"
    fail "registering an issuer on the primary exited $rc"
fi
[ "$(on_primary issuers list --json | grep -c '"mem.99"')" = 1 ] || fail "the primary does not show the new issuer"
[ "$(split issuers list --json | grep -c '"mem.99"' || true)" = 0 ] \
    || fail "with replay paused, --read-database still showed the new issuer: reads did not come from the replica"
echo "with replay paused: the primary shows the new issuer, reads through the replica do not"

psql_at "$replica_port" "SELECT pg_wal_replay_resume()" >/dev/null
wait_for_replay
[ "$(split issuers list --json | grep -c '"mem.99"')" = 1 ] || fail "after replay, the replica does not show the new issuer"
echo "after replay: reads through the replica show it"

step "the replica cannot be the write database"
set +e
err="$(RUST_LOG=warn "$hutong" --policy "$repo/policy" --data-dir "$work/data" --database "$replica" issuers list 2>&1)"
rc=$?
set -e
[ $rc != 0 ] || fail "hutong accepted the read-only replica as --database"
echo "$err" | grep -q "is a read-only replica" || fail "unexpected error for a replica as --database: $err"
echo "refused: $(echo "$err" | tail -n 1)"

echo "replica test: 1 passed, 0 failed"
