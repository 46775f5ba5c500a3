#!/bin/sh
for f in "$1"/*.jpg; do convert "$f" -resize 200x200 "thumb-$(basename "$f")"; done
