#!/bin/bash
# Starts Chromium ($GRD_CHROMIUM) with every --disable-features it is given merged into one: Chromium
# reads only the last, and Playwright passes its own list before ours (tests/helpers/browser.ts).
features=()
args=()
for a in "$@"; do
  case "$a" in
    --disable-features=*) features+=("${a#--disable-features=}") ;;
    *) args+=("$a") ;;
  esac
done
if [ ${#features[@]} -gt 0 ]; then
  args+=("--disable-features=$(IFS=,; echo "${features[*]}")")
fi
exec "${GRD_CHROMIUM:?the Chromium to start}" "${args[@]}"
