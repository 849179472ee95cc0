#!/bin/sh
# /usr/bin/laundrybot: the packaged command, using the same folders as the systemd units.
# Run as root (sudo laundrybot ...), it switches to the laundrybot user, so that what it writes
# (the spool, installed models) stays readable and writable by the services.
STATE_DIRECTORY="${STATE_DIRECTORY:-/var/lib/laundrybot}"
CACHE_DIRECTORY="${CACHE_DIRECTORY:-/var/cache/laundrybot}"
RUNTIME_DIRECTORY="${RUNTIME_DIRECTORY:-/run/laundrybot}"
export STATE_DIRECTORY CACHE_DIRECTORY RUNTIME_DIRECTORY
venv=/opt/venvs/laundrybot
if [ "$(id -u)" = 0 ]; then
    HOME=/var/lib/laundrybot
    export HOME
    exec setpriv --reuid=laundrybot --regid=laundrybot --init-groups -- "$venv/bin/laundrybot" "$@"
fi
exec "$venv/bin/laundrybot" "$@"
