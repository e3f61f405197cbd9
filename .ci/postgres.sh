#!/usr/bin/env bash
# Run a command beside a throwaway PostgreSQL cluster: `.ci/postgres.sh make test`.
#
# The cluster lives in a temporary folder, listens on 127.0.0.1 only, on a free port, trusts
# loopback connections, and is stopped and deleted when the command ends (whatever its end).
# The command sees CONSENTSYNC_TEST_POSTGRES_URL (a database of its own on that server), which
# the PostgreSQL tests use. When initdb and pg_ctl are missing, Debian's `postgresql` package is
# installed (as root, with apt-get).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]   (e.g. $0 make test)" >&2
    exit 2
fi

find_bindir() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        # resolved: the binaries may be links into the versioned folder that holds createdb too
        dirname "$(readlink -f "$(command -v initdb)")"
        return
    fi
    # Debian keeps the server binaries off PATH, one folder per major version: take the newest
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/createdb" ]; then
        echo "$dir"
    fi
}

BINDIR=$(find_bindir)
if [ -z "$BINDIR" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql" \
             "package, or run as root on Debian/Ubuntu so this script can" >&2
        exit 1
    fi
    echo "postgres.sh: installing Debian's postgresql package" >&2
    # only the binaries: no "main" cluster left running on port 5432 after CI
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
    BINDIR=$(find_bindir)
    [ -n "$BINDIR" ] || { echo "postgresql installed, but no initdb found" >&2; exit 1; }
fi

# initdb and postgres refuse to run as root: the cluster belongs to the postgres user then
as_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as_owner() { runuser -u postgres -- "$@"; }
fi

# as root in /tmp: the postgres user may not reach into root's own TMPDIR
PGTMP=$(mktemp -d "$([ "$(id -u)" -eq 0 ] && echo /tmp || echo "${TMPDIR:-/tmp}")/consentsync-pg.XXXXXX")
chmod 755 "$PGTMP"
[ "$(id -u)" -eq 0 ] && chown postgres "$PGTMP"

stop_cluster() {
    as_owner "$BINDIR/pg_ctl" -D "$PGTMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PGTMP"
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

as_owner "$BINDIR/initdb" -D "$PGTMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$PGTMP/initdb.log" 2>&1 || { cat "$PGTMP/initdb.log" >&2; exit 1; }
# loopback only; a socket folder of its own (the system's may not exist); durability is not
# needed for a cluster that is deleted at the end
if ! as_owner "$BINDIR/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$PGTMP \
     -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null; then
    cat "$PGTMP/server.log" >&2
    exit 1
fi
as_owner "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U postgres consentsync_test

export CONSENTSYNC_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/consentsync_test"
echo "postgres.sh: PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" \
     "(CONSENTSYNC_TEST_POSTGRES_URL=$CONSENTSYNC_TEST_POSTGRES_URL)" >&2
# not exec: the trap stops the cluster when the command ends
"$@"
