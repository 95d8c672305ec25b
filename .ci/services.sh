#!/usr/bin/env bash
# Installs (if missing) and starts the real servers the tests use: PostgreSQL 15, MariaDB, OpenSSH sshd.
# Every service listens on 127.0.0.1 only and keeps its state under $REAUTH_SVC_DIR (default /tmp/reauth-ci).
# Prints nothing on success but writes $REAUTH_SVC_DIR/env, a file of `export` lines the tests read.
# Idempotent: a service that is already answering is left alone.
set -euo pipefail
ROOT=${REAUTH_SVC_DIR:-/tmp/reauth-ci}
PG_PORT=${REAUTH_PG_PORT:-5433}
MY_PORT=${REAUTH_MY_PORT:-3307}
SSH_PORT=${REAUTH_SSH_PORT:-2222}
mkdir -p "$ROOT"

need=()
command -v mariadbd >/dev/null 2>&1 || need+=(mariadb-server)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
[ -f /usr/share/java/bcprov.jar ] || need+=(libbcprov-java)  # BouncyCastle: the provider Atlassian's AES tool uses
[ -f /etc/tomcat10/server.xml ] || need+=(tomcat10)           # a real Tomcat 10.1 install for the persistence check
command -v chromium >/dev/null 2>&1 || need+=(chromium)            # headless browser: the evidence report is checked in it
command -v ansible-inventory >/dev/null 2>&1 || need+=(ansible-core)   # the real ansible-inventory --list JSON the nodes_from tests read
if [ ${#need[@]} -gt 0 ]; then
  echo "services: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # No package may start its service (tomcat10 would listen on every interface): deny it.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; fi
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# --- PostgreSQL 15 -----------------------------------------------------------------------------
P=$ROOT/pg; BIN=/usr/lib/postgresql/15/bin
if ! runuser -u postgres -- "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then
  rm -rf "$P"; mkdir -p "$P"; chown postgres:postgres "$P"
  echo pgpw > "$P/pwfile"; chown postgres "$P/pwfile"; chmod 600 "$P/pwfile"
  runuser -u postgres -- "$BIN/initdb" -D "$P/data" -U postgres --pwfile="$P/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 > "$P/initdb.log"
  runuser -u postgres -- "$BIN/pg_ctl" -D "$P/data" -l "$P/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $P -c listen_addresses=127.0.0.1 -c max_connections=300" start > /dev/null
  # A superuser for tests that create databases and roles of their own.
  runuser -u postgres -- psql -h "$P" -p "$PG_PORT" -U postgres -qAt -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE reauth LOGIN SUPERUSER PASSWORD 'reauthpw'" -c "CREATE DATABASE reauth OWNER reauth"
fi

# --- MariaDB -----------------------------------------------------------------------------------
D=$ROOT/mariadb
if ! mariadb-admin --no-defaults -S "$D/run/mysqld.sock" -uroot ping >/dev/null 2>&1; then
  rm -rf "$D"; mkdir -p "$D/data" "$D/run"
  mariadb-install-db --no-defaults --user=root --datadir="$D/data" \
    --auth-root-authentication-method=socket --skip-test-db > "$D/install.log" 2>&1
  (mariadbd --no-defaults --user=root --datadir="$D/data" --socket="$D/run/mysqld.sock" \
    --pid-file="$D/run/mysqld.pid" --port="$MY_PORT" --bind-address=127.0.0.1 \
    --log-error="$D/error.log" --skip-log-bin --max-connections=300 > /dev/null 2>&1 &)
  for i in $(seq 1 200); do mariadb-admin --no-defaults -S "$D/run/mysqld.sock" -uroot ping >/dev/null 2>&1 && break; sleep 0.1; done
  mariadb --no-defaults -S "$D/run/mysqld.sock" -uroot -e "
    CREATE USER IF NOT EXISTS 'reauth'@'127.0.0.1' IDENTIFIED BY 'reauthpw';
    CREATE USER IF NOT EXISTS 'reauth'@'localhost' IDENTIFIED BY 'reauthpw';
    GRANT ALL ON *.* TO 'reauth'@'127.0.0.1' WITH GRANT OPTION; GRANT ALL ON *.* TO 'reauth'@'localhost' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS reauth;"
fi

# --- OpenSSH sshd (key auth as root, loopback) -------------------------------------------------
S=$ROOT/sshd
if ! (exec 3<>/dev/tcp/127.0.0.1/$SSH_PORT) 2>/dev/null; then
  rm -rf "$S"; mkdir -p "$S"; chmod 700 "$S"; mkdir -p /run/sshd
  ssh-keygen -q -t ed25519 -N '' -C hostkey -f "$S/ssh_host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -C client  -f "$S/client_key"
  cp "$S/client_key.pub" "$S/authorized_keys"; chmod 600 "$S/authorized_keys"
  echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$S/ssh_host_ed25519_key.pub")" > "$S/known_hosts"
  cat > "$S/sshd_config" <<CFG
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $S/ssh_host_ed25519_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
MaxStartups 50
MaxSessions 50
SetEnv PATH=$PATH
LogLevel VERBOSE
CFG
  /usr/sbin/sshd -t -f "$S/sshd_config"
  (/usr/sbin/sshd -D -e -f "$S/sshd_config" > "$S/sshd.log" 2>&1 &)
  for i in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$SSH_PORT) 2>/dev/null && break; sleep 0.1; done
fi

cat > "$ROOT/env" <<ENV
export REAUTH_TEST_PG_URL='postgres://reauth:reauthpw@127.0.0.1:$PG_PORT/reauth?sslmode=disable'
export REAUTH_TEST_MYSQL_URL='reauth:reauthpw@tcp(127.0.0.1:$MY_PORT)/reauth'
export REAUTH_TEST_SSH_ADDR='127.0.0.1:$SSH_PORT'
export REAUTH_TEST_SSH_USER='root'
export REAUTH_TEST_SSH_KEY='$S/client_key'
export REAUTH_TEST_SSH_KNOWN_HOSTS='$S/known_hosts'
export REAUTH_TEST_SSH_HOSTKEY_PUB='$S/ssh_host_ed25519_key.pub'
ENV
