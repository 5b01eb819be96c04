#!/usr/bin/env bash
# start.sh BASE_DIR [PORT_BASE]  -- start a throw-away Dovecot on 127.0.0.1.
#   IMAP  = PORT_BASE+143   IMAPS = PORT_BASE+993 (self-signed)
#   LMTP  = PORT_BASE+24    ManageSieve = PORT_BASE+4190
# Prints the master PID on stdout (everything else goes to stderr).
# Users (passwd-file BASE_DIR/users, {PLAIN}):
#   support@example.test / support-pw   (has an active Sieve vacation script)
#   agent@example.test   / agent-pw
#   customer@example.test/ customer-pw
# Vacation replies are written to BASE_DIR/outbox/*.eml (+ *.args = sendmail argv),
# or, if DOVECOT_SUBMISSION_HOST=127.0.0.1:PORT is set, sent by SMTP to that host;
# DOVECOT_EXTRA_CONF=FILE includes FILE there instead (e.g. a sendmail_path of its own).
# Run as a normal user: everything runs as that user. Run as root: the whole
# instance is started as DOVECOT_RUN_USER (default: dovecot) via setpriv, and
# BASE_DIR is chown'ed to it (its parent dirs must be traversable by that user).
# DOVECOT_BIN overrides the daemon (default: dovecot on PATH, else /usr/sbin/dovecot:
# a non-root PATH often lacks /usr/sbin).
# DOVECOT_OAUTH2=MECHS (e.g. "xoauth2 oauthbearer") also accepts OAuth2 bearer tokens over
# those SASL mechanisms: JWTs validated locally (passdb oauth2, introspection_mode = local)
# with iss https://issuer.test, sub = the user, signed HS256 with the key whose standard
# base64 start.sh writes to BASE_DIR/keys/default/HS256/default.
# DOVECOT_SENT names the folder marked \Sent (RFC 6154; default Sent), e.g. "Sent Items".
# Used by tests/dovecot/fixture.py and scripts/demo.py; adapted from the team's verified testbed recipe.
set -euo pipefail

die() { echo "start.sh: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: start.sh BASE_DIR [PORT_BASE]"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PORT_BASE=${2:-10000}
mkdir -p "$1"
BASE=$(cd "$1" && pwd -P)
IMAP_PORT=$((PORT_BASE + 143)); IMAPS_PORT=$((PORT_BASE + 993))
LMTP_PORT=$((PORT_BASE + 24));  SIEVE_PORT=$((PORT_BASE + 4190))
CONF=$BASE/dovecot.conf
DOVECOT_BIN=${DOVECOT_BIN:-$(command -v dovecot || echo /usr/sbin/dovecot)}
[ -x "$DOVECOT_BIN" ] || die "no dovecot binary at $DOVECOT_BIN"

# --- who runs it ---------------------------------------------------------
LAUNCH=()
if [ "$(id -u)" = 0 ]; then
  RUN_USER=${DOVECOT_RUN_USER:-dovecot}
  RUN_GROUP=$(id -gn "$RUN_USER")
  LAUNCH=(setpriv "--reuid=$RUN_USER" "--regid=$RUN_GROUP" --init-groups)
else
  RUN_USER=$(id -un); RUN_GROUP=$(id -gn)
fi

# --- base_dir holds UNIX sockets: sun_path is max 107 bytes ------------------
RUN_DIR=$BASE/run
if [ ${#RUN_DIR} -gt 60 ]; then               # longest socket name ~ 30 chars
  if [ -f "$BASE/.run_dir" ]; then RUN_DIR=$(cat "$BASE/.run_dir")
  else RUN_DIR=$(mktemp -d /tmp/dovecot-run.XXXXXX); chmod 755 "$RUN_DIR"
       echo "$RUN_DIR" > "$BASE/.run_dir"; fi
fi
# alive = exists and not a zombie (a PID 1 that doesn't reap leaves <defunct> masters)
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st:0:1}" != Z ]; }
if [ -f "$RUN_DIR/master.pid" ]; then
  OLD=$(cat "$RUN_DIR/master.pid")
  alive "$OLD" && grep -qF -- "$CONF" "/proc/$OLD/cmdline" 2>/dev/null \
    && die "already running (pid $OLD)"
fi

mkdir -p "$RUN_DIR" "$BASE"/{state,ssl,bin,outbox,home}

# --- self-signed cert (EC P-256: ~10 ms instead of ~100+ ms for RSA) ----------
if [ ! -s "$BASE/ssl/cert.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 3650 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$BASE/ssl/key.pem" -out "$BASE/ssl/cert.pem" 2>/dev/null
  chmod 600 "$BASE/ssl/key.pem"
fi

# --- users ----------------------------------------------------------------
if [ ! -f "$BASE/users" ]; then
  cat > "$BASE/users" <<'EOF'
support@example.test:{PLAIN}support-pw::::::
agent@example.test:{PLAIN}agent-pw::::::
customer@example.test:{PLAIN}customer-pw::::::
EOF
fi
# Each user's INBOX exists before the first session: otherwise the first LMTP delivery and the
# first IMAP login both create it, and Dovecot 2.3 can panic on the mailbox list index lock
# ("fcntl(dovecot.list.index.log, write-lock, F_SETLKW) locking failed: Resource deadlock
# avoided"), killing that delivery.
while IFS=: read -r u _; do
  [ -n "$u" ] && mkdir -p "$BASE/home/$u/Maildir/"{cur,new,tmp}
done < "$BASE/users"

# --- vacation script for support@ (what ManageSieve would also create) -------
SV=$BASE/home/support@example.test
if [ ! -e "$SV/.dovecot.sieve" ]; then
  mkdir -p "$SV/sieve"
  cat > "$SV/sieve/vacation.sieve" <<'EOF'
require ["vacation"];
vacation :days 1 :addresses ["support@example.test"]
  :subject "Auto-Reply: we received your message"
  "Thank you for contacting support. This is an automatic reply.";
EOF
  ln -s sieve/vacation.sieve "$SV/.dovecot.sieve"
fi

# --- fake sendmail: dovecot runs it as  <path> -i -f <sender> -- <rcpt> ------
cat > "$BASE/bin/sendmail-capture" <<EOF
#!/bin/sh
PATH=/usr/bin:/bin; export PATH
f="$BASE/outbox/\$(date +%s.%N).\$\$"
printf '%s\n' "\$@" > "\$f.args"
cat > "\$f.tmp" && mv "\$f.tmp" "\$f.eml"
EOF
chmod 755 "$BASE/bin/sendmail-capture"
if [ -n "${DOVECOT_EXTRA_CONF:-}" ]; then
  # Settings of the caller's own (e.g. the shipped config/postfix/dovecot-sieve.conf): the
  # file is copied into BASE and included where the sendmail/submission line would be.
  cp "$DOVECOT_EXTRA_CONF" "$BASE/extra.conf"
  SUBMISSION_LINE="!include $BASE/extra.conf"
elif [ -n "${DOVECOT_SUBMISSION_HOST:-}" ]; then
  SUBMISSION_LINE="submission_host = $DOVECOT_SUBMISSION_HOST"
else
  SUBMISSION_LINE="sendmail_path = $BASE/bin/sendmail-capture"
fi

# --- OAuth2: a passdb validating JWTs with a local key ------------------------------
AUTH_MECHANISMS="plain login"
: > "$BASE/oauth2-passdb.conf"
if [ -n "${DOVECOT_OAUTH2:-}" ]; then
  AUTH_MECHANISMS="plain login $DOVECOT_OAUTH2"
  mkdir -p "$BASE/keys/default/HS256"
  [ -s "$BASE/keys/default/HS256/default" ] \
    || head -c 32 /dev/urandom | base64 -w0 > "$BASE/keys/default/HS256/default"
  cat > "$BASE/dovecot-oauth2.conf.ext" <<EOF
introspection_mode = local
local_validation_key_dict = fs:posix:prefix=$BASE/keys/
username_attribute = sub
issuers = https://issuer.test
EOF
  cat > "$BASE/oauth2-passdb.conf" <<EOF
passdb {
  driver = oauth2
  mechanisms = $DOVECOT_OAUTH2
  args = $BASE/dovecot-oauth2.conf.ext
}
EOF
fi

# --- render config -----------------------------------------------------------
sed -e "s|@BASE@|$BASE|g" -e "s|@RUN_DIR@|$RUN_DIR|g" -e "s|@PORT_BASE@|$PORT_BASE|g" \
    -e "s|@RUN_USER@|$RUN_USER|g" -e "s|@RUN_GROUP@|$RUN_GROUP|g" \
    -e "s|@IMAP_PORT@|$IMAP_PORT|g" -e "s|@IMAPS_PORT@|$IMAPS_PORT|g" \
    -e "s|@LMTP_PORT@|$LMTP_PORT|g" -e "s|@SIEVE_PORT@|$SIEVE_PORT|g" \
    -e "s|@SUBMISSION_LINE@|$SUBMISSION_LINE|g" -e "s|@AUTH_MECHANISMS@|$AUTH_MECHANISMS|g" \
    -e "s|@SENT_NAME@|${DOVECOT_SENT:-Sent}|g" \
    "$HERE/dovecot.conf.tmpl" > "$CONF"

if [ "$(id -u)" = 0 ]; then
  chown -R "$RUN_USER:$RUN_GROUP" "$BASE" "$RUN_DIR"
  "${LAUNCH[@]}" test -w "$BASE" -a -x "$BASE" \
    || die "$RUN_USER cannot reach $BASE (a parent dir is not traversable, e.g. mode 0700)"
fi

# --- start (dovecot daemonizes; listeners are bound before it forks) --------
# stdio -> file: the daemon otherwise inherits our stdout/stderr, and a caller
# doing subprocess.run(capture_output=True) / $(start.sh) would hang forever.
: > "$BASE/dovecot.log"; : > "$BASE/startup.err"
[ "$(id -u)" = 0 ] && chown "$RUN_USER:$RUN_GROUP" "$BASE/dovecot.log" "$BASE/startup.err"
if ! "${LAUNCH[@]}" "$DOVECOT_BIN" -c "$CONF" </dev/null >>"$BASE/startup.err" 2>&1; then
  cat "$BASE/startup.err" >&2; tail -n 20 "$BASE/dovecot.log" >&2; die "dovecot failed to start"
fi
# the parent returns right after fork(); the child writes master.pid a bit later
for _ in $(seq 1 500); do [ -s "$RUN_DIR/master.pid" ] && break; sleep 0.01; done
PID=$(cat "$RUN_DIR/master.pid") || die "no master.pid; see $BASE/dovecot.log"
trap 'kill -KILL "$PID" 2>/dev/null; rm -f "$RUN_DIR/master.pid"' EXIT   # undo on failure

# --- wait for the IMAP greeting (max 10 s) --------------------------------------
for _ in $(seq 1 200); do
  if { exec 3<>"/dev/tcp/127.0.0.1/$IMAP_PORT"; } 2>/dev/null; then
    if read -r -t 2 line <&3 && [[ $line == "* OK"* ]]; then exec 3>&-; trap - EXIT; echo "$PID"; exit 0; fi
    exec 3>&-
  fi
  alive "$PID" || break
  sleep 0.05
done
cat "$BASE/startup.err" >&2; tail -n 20 "$BASE/dovecot.log" >&2
die "IMAP port $IMAP_PORT did not answer"
