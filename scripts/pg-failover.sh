#!/usr/bin/env bash
# Promote the standby of a windowsvc PostgreSQL pair when the primary is lost (docs/operations.md,
# "A PostgreSQL pair"). The app needs no change: its multi-host URL with
# target_session_attrs=read-write finds whichever server accepts writes.
#
#   pg-failover.sh promote STANDBY            fence the old primary, then promote STANDBY now
#   pg-failover.sh watch PRIMARY STANDBY      watchdog: promote once PRIMARY has not answered
#                                             for FAILOVER_AFTER seconds, then exit
#
# PRIMARY and STANDBY are libpq connection strings ("host=db2 port=5432 user=postgres
# dbname=postgres"), of a role allowed to run pg_promote() and ALTER SYSTEM (a superuser).
#
# Environment:
#   FENCE_COMMAND   required: a shell command that makes sure the old primary can no longer
#                   accept writes, now and after a reboot or a service restart (stop it AND
#                   mask its unit or put a standby.signal in its data directory, power its
#                   host off until a person turns it on, cut it from the network), and exits 0
#                   only when it is sure. It must be safe to run again. Without it two
#                   primaries could take writes (split brain): the script refuses to promote
#                   when it is unset or fails, and it fences even when the standby was
#                   already promoted (by an earlier run or by hand).
#   FENCE_TIMEOUT   seconds the fence may take before it counts as failed (default 60)
#   FAILOVER_AFTER  watch: seconds of unanswered checks before the failover (default 10)
#   CHECK_EVERY     watch: seconds between checks (default 1)
#   PGBIN           directory of psql and pg_isready (default: from PATH)
#
# Exit status: 0 promoted (or STANDBY already was a primary), 1 promotion failed, 2 refused
# (no fence, fence failed, STANDBY unreachable).
set -euo pipefail

psql_cmd=${PGBIN:+$PGBIN/}psql
isready_cmd=${PGBIN:+$PGBIN/}pg_isready

say() { printf '%s pg-failover: %s\n' "$(date -u +%FT%T.%3NZ)" "$*" >&2; }
query() { "$psql_cmd" -X -A -t -v ON_ERROR_STOP=1 -d "$1" "${@:2}"; }

promote() {
    local standby=$1 started=$SECONDS recovering
    if ! recovering=$(query "$standby" -c 'SELECT pg_is_in_recovery()'); then
        say "standby unreachable: not promoting"
        return 2
    fi
    if [[ -z ${FENCE_COMMAND:-} ]]; then
        say "FENCE_COMMAND is not set: not promoting (two primaries would split the data)"
        return 2
    fi
    # fenced first, whatever the standby says: promoted by an earlier run or by hand, it may
    # still have an old primary beside it that a reboot would bring back as a primary
    say "fencing the old primary: $FENCE_COMMAND"
    if ! timeout "${FENCE_TIMEOUT:-60}" bash -c "$FENCE_COMMAND"; then
        say "fence command failed or timed out: not promoting"
        return 2
    fi
    if [[ $recovering == f ]]; then
        say "the standby already accepts writes: fenced, nothing else to do"
        return 0
    fi
    say "standby received WAL up to $(query "$standby" -c 'SELECT pg_last_wal_receive_lsn()')"
    # Alone, the new primary has no standby to wait for: with synchronous_standby_names still
    # set every commit would wait for ever. It runs unprotected until a standby rejoins.
    query "$standby" -c "ALTER SYSTEM SET synchronous_standby_names = ''" \
        -c 'SELECT pg_reload_conf()' >/dev/null
    if [[ $(query "$standby" -c 'SELECT pg_promote(true, 60)') != t ]]; then
        say "pg_promote did not finish within 60 s; the standby was left with" \
            "synchronous_standby_names = '' (ALTER SYSTEM RESET synchronous_standby_names" \
            "undoes it if it stays a standby)"
        return 1
    fi
    if [[ $(query "$standby" -c 'SELECT pg_is_in_recovery()') != f ]]; then
        say "promoted, but the server still reports recovery"
        return 1
    fi
    say "promoted in $((SECONDS - started)) s: it accepts writes (synchronous replication off" \
        "until a standby rejoins)"
}

watch() {
    local primary=$1 standby=$2 after=${FAILOVER_AFTER:-10} every=${CHECK_EVERY:-1}
    local down_since=""
    say "watching the primary; failover after ${after} s without an answer"
    while true; do
        if "$isready_cmd" -q -t 2 -d "$primary"; then
            [[ -n $down_since ]] && say "the primary answers again"
            down_since=""
        else
            if [[ -z $down_since ]]; then
                down_since=$(date +%s.%N)
                say "the primary does not answer"
            fi
            if (($(awk -v s="$down_since" -v n="$(date +%s.%N)" -v a="$after" \
                'BEGIN { print (n - s >= a) }'))); then
                say "no answer for ${after} s: failing over"
                promote "$standby"
                return
            fi
        fi
        sleep "$every"
    done
}

case ${1:-} in
    promote) [[ $# -eq 2 ]] || { sed -n 6p "$0" >&2; exit 2; }; promote "$2" ;;
    watch) [[ $# -eq 3 ]] || { sed -n 7,8p "$0" >&2; exit 2; }; watch "$2" "$3" ;;
    *) sed -n 2,28p "$0" >&2; exit 2 ;;
esac
