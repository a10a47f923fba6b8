#!/usr/bin/env bash
# Native speed of HeartBeat, printed as one JSON document on stdout (progress on stderr):
#
# * `core`: the core's stages (decode, prepare = checks + conditioning + features, score =
#   CNN + report) on every recording of training-a, one at a time on one thread, timed by
#   heartbeat-bench (bench/native/src/main.rs): throughput in seconds of audio per second and the
#   median time per recording.
# * `cli_classify_all`: wall time of `heartbeat classify` over the whole development set
#   (all subsets, output discarded), the way a user would run it, on every core of this machine.
#   Target: under 60 s on 2 cores.
#
# Release builds. A benchmark, not a test: numbers depend on the machine and its load, so nothing
# here passes or fails except the build.
#
# Usage: bench/native/run.sh [DATA]   (DATA defaults to ../shared/data/physionet2016)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
data="${1:-$root/../shared/data/physionet2016}"
[ -d "$data/training-a" ] || { echo "no PhysioNet data at $data" >&2; exit 1; }
target_s=60

cargo build --release --quiet -p heartbeat-cli -p heartbeat-bench >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release"

echo "timing the core's stages on $data/training-a ..." >&2
# Timings are wall clock: on a shared machine, read them with the load average beside them.
load_core=$(cut -d' ' -f1-3 /proc/loadavg)
core="$("$bin/heartbeat-bench" "$data/training-a")"

echo "timing heartbeat classify on all of $data ..." >&2
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)
# Wall, user and system seconds. The output goes to a file (not /dev/null) so we can count
# recordings, failures and audio; writing a few MB costs nothing next to the analysis.
TIMEFORMAT='%R %U %S'
read -r wall user sys < <({ time "$bin/heartbeat" classify "$data" > "$out" 2> /dev/null; } 2>&1)
echo "classify: $(wc -l < "$out") recordings in $wall s" >&2

jq -n --argjson core "$core" --slurpfile lines "$out" --argjson target "$target_s" \
    --argjson wall "$wall" --argjson cpu_s "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" \
    --argjson cores "$(nproc)" --arg load "$load" --arg load_core "$load_core" \
    --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" '
    def r(d): (. * pow(10; d) | round) / pow(10; d);
    ($lines | map(.duration_s // 0) | add) as $audio |
    {
      machine: { cpu: $cpu, cores: $cores, load_average_before_core: $load_core,
                 load_average_before_classify: $load },
      core: $core,
      cli_classify_all: {
        command: "heartbeat classify DATA",
        recordings: ($lines | length),
        failed: ($lines | map(select(.error)) | length),
        audio_s: ($audio | r(1)),
        wall_s: $wall,
        cpu_s: ($cpu_s | r(2)),
        audio_s_per_wall_s: ($audio / $wall | r(1)),
        # What the wall time would be with both cores to ourselves (perfect scaling assumed).
        wall_s_if_2_idle_cores: ($cpu_s / 2 | r(2)),
        target_s: $target,
        target_note: "whole development set under 60 s on 2 cores",
        meets_target: ($wall < $target)
      }
    }'
