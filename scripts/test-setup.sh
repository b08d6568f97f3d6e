#!/usr/bin/env bash
# What `make test` needs besides Python: Debian's chromium and a CJK font for the browser tests,
# pango for PDF reports, and Redis and PostgreSQL on 127.0.0.1. Installs only what is missing
# (Debian packages, as root) and starts only what is not running, so it is cheap to run again.
set -euo pipefail

packages=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium || packages+=(chromium)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || packages+=(fonts-noto-cjk fontconfig)
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0" || packages+=(libpango-1.0-0 libpangoft2-1.0-0)
have pdftotext || packages+=(poppler-utils)
have redis-server || packages+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || packages+=(postgresql)

if [ ${#packages[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "test-setup: missing Debian packages ${packages[*]}; run 'make test' as root" >&2
        echo "or install them yourself (apt-get install ${packages[*]})." >&2
        exit 1
    fi
    echo "test-setup: installing ${packages[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}" >/dev/null
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "test-setup: starting Redis on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null

# The tests connect as postgres over TCP without a password (README: trust on 127.0.0.1). A
# cluster Debian set up itself asks for a password there, so allow it whenever the line is
# missing, running or not; a machine whose PostgreSQL already trusts 127.0.0.1 is left alone.
if ! psql -h 127.0.0.1 -U postgres -d postgres -w -c "select 1" >/dev/null 2>&1; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$version" ]; then
        echo "test-setup: PostgreSQL is installed but has no cluster" >&2
        exit 1
    fi
    hba=/etc/postgresql/$version/main/pg_hba.conf
    if ! grep -q "^host all postgres 127.0.0.1/32 trust" "$hba"; then
        echo "test-setup: allowing user postgres from 127.0.0.1 without a password (test machine)"
        sed -i "1i host all postgres 127.0.0.1/32 trust" "$hba"
    fi
    if pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    else
        echo "test-setup: starting PostgreSQL $version"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start
    fi
    for _ in $(seq 1 50); do
        psql -h 127.0.0.1 -U postgres -d postgres -w -c "select 1" >/dev/null 2>&1 && break
        sleep 0.2
    done
fi
psql -h 127.0.0.1 -U postgres -d postgres -w -c "select 1" >/dev/null
echo "test-setup: chromium, CJK font, pango, Redis and PostgreSQL ready"
