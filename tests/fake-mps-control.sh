#!/usr/bin/env bash
# A fake nvidia-cuda-mps-control for tests without a GPU (GVB_MPS_CONTROL=<this file>).
#   -d                      start a "daemon" (and one "server") that carry the caller's
#                           CUDA_MPS_PIPE_DIRECTORY; create $CUDA_MPS_PIPE_DIRECTORY/control
#   stdin: quit             the daemon stops its server and exits
#          get_server_list  the server's pid
#          get_client_list PID   pids listed in $CUDA_MPS_PIPE_DIRECTORY/clients (tests write it)
# Knobs: GVB_FAKE_MPS_FAIL=1 (-d fails and logs why), GVB_FAKE_MPS_HANG=1 (quit is ignored).
set -u
PIPE=${CUDA_MPS_PIPE_DIRECTORY:?}
LOG=${CUDA_MPS_LOG_DIRECTORY:-$PIPE}

if [ "${1:-}" = "-d" ]; then
    if [ "${GVB_FAKE_MPS_FAIL:-0}" = 1 ]; then
        echo "[fake] cannot start: GVB_FAKE_MPS_FAIL is set" >>"$LOG/control.log"
        echo "fake daemon failed to start" >&2
        exit 1
    fi
    setsid bash -c '
        PIPE=$1; LOG=$2
        sleep 1000 & echo $! >"$PIPE/server.pid"
        echo $$ >"$PIPE/daemon.pid"
        echo "[fake] daemon $$ started, server $(cat "$PIPE/server.pid")" >>"$LOG/control.log"
        : >"$PIPE/control"
        while :; do
            if [ -e "$PIPE/quit" ] && [ "${GVB_FAKE_MPS_HANG:-0}" != 1 ]; then break; fi
            sleep 0.05
        done
        kill "$(cat "$PIPE/server.pid")" 2>/dev/null; wait
        rm -f "$PIPE/control"
        echo "[fake] daemon $$ stopped" >>"$LOG/control.log"
    ' fake-mps-daemon "$PIPE" "$LOG" </dev/null >/dev/null 2>&1 &
    exit 0
fi

[ -e "$PIPE/control" ] || { echo "Cannot find MPS control daemon process" >&2; exit 1; }
while read -r cmd arg; do
    case $cmd in
    quit) : >"$PIPE/quit" ;;
    get_server_list) cat "$PIPE/server.pid" ;;
    get_client_list) [ "$arg" = "$(cat "$PIPE/server.pid")" ] && cat "$PIPE/clients" 2>/dev/null ;;
    *) echo "unknown command $cmd" >&2 ;;
    esac
done
exit 0
