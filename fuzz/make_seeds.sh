#!/usr/bin/env bash
# Writes the fuzzer's seed corpus to tests/fixtures/fuzz/valid/: one small valid file per container and
# sample encoding HeartBeat accepts, named by content. The 4.5 s ones are long enough to pass the
# default config's too-short check, so mutations of them reach conditioning and features.
# Needs python3 + numpy, sox, ffmpeg (libmp3lame, libvorbis) and flac.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/fuzz/valid"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# A heart-like base signal: two decaying low-frequency bursts (S1, S2) per beat at 75 bpm plus
# a little noise, 4.5 s at 8 kHz as 32-bit float.
python3 - "$tmp/base.wav" <<'PY'
import sys, wave
import numpy as np
sr, n = 8000, int(4.5 * 8000)
t = np.arange(n) / sr
x = 0.01 * np.random.default_rng(1).standard_normal(n)
for beat in np.arange(0.1, 4.5, 0.8):
    for off, f, a in ((0.0, 50, 0.6), (0.3, 80, 0.4)):
        k = t - beat - off
        m = (k >= 0) & (k < 0.08)
        x[m] += a * np.exp(-k[m] / 0.02) * np.sin(2 * np.pi * f * k[m])
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
    w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
PY
b="$tmp/base.wav"
sox() { command sox -R -V1 "$@"; }  # -R: repeatable dither
# Bit-exact output (no random Ogg serial, no version strings): reruns give identical files.
ff() { ffmpeg -hide_banner -loglevel error -y "${@:1:$#-1}" -fflags +bitexact -flags:a +bitexact "${@: -1}"; }

sox "$b" -r 1000 -e unsigned -b 8 "$out/pcm-u8-1000Hz-mono-4.5s.wav"
sox "$b" -r 1000 -e signed -b 16 "$out/pcm-s16-1000Hz-mono-4.5s.wav"
sox "$b" -r 2000 -e signed -b 24 "$out/pcm-s24-2000Hz-mono-0.5s.wav" trim 0 0.5
sox "$b" -r 2000 -e signed -b 32 "$out/pcm-s32-2000Hz-mono-0.5s.wav" trim 0 0.5
sox "$b" -r 2000 -e floating-point -b 32 "$out/float32-2000Hz-mono-0.5s.wav" trim 0 0.5
sox "$b" -r 44100 -e signed -b 16 -c 2 "$out/pcm-s16-44100Hz-stereo-0.05s.wav" trim 0.1 0.05
# WAVE_FORMAT_EXTENSIBLE (fmt chunk of 40 bytes, sub-format GUID): ffmpeg writes it for 24-bit.
ff -i "$b" -t 0.3 -ar 2000 -ac 2 -c:a pcm_s24le "$out/extensible-pcm-s24-2000Hz-stereo-0.3s.wav"
# RIFF pads an odd-sized chunk with one byte; a 3-byte chunk before `data` checks we skip it.
python3 - "$out/pcm-u8-1000Hz-mono-4.5s.wav" "$out/pcm-u8-odd-sized-chunk-before-data-1000Hz-mono-4.5s.wav" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
i = b.find(b"data")
b = b[:i] + b"note" + struct.pack("<I", 3) + b"abc\0" + b[i:]
open(sys.argv[2], "wb").write(b[:4] + struct.pack("<I", len(b) - 8) + b[8:])
PY
# Encodings hound does not read, decoded by the symphonia fallback.
ff -i "$b" -t 0.5 -ar 2000 -c:a pcm_f64le "$out/float64-2000Hz-mono-0.5s.wav"
ff -i "$b" -t 0.5 -c:a pcm_mulaw "$out/mulaw-8000Hz-mono-0.5s.wav"
ff -i "$b" -t 0.5 -c:a pcm_alaw "$out/alaw-8000Hz-mono-0.5s.wav"
# IMA ADPCM needs symphonia's `adpcm` feature, which heartbeat-core does not enable (yet):
# kept apart as an input that must be refused cleanly.
mkdir -p "$out/../unsupported"
ff -i "$b" -t 0.5 -c:a adpcm_ima_wav "$out/../unsupported/ima-adpcm-8000Hz-mono-0.5s.wav"
# Compressed formats.
sox "$b" -r 1000 -b 16 "$tmp/1k.wav"
flac --silent --force -8 -o "$out/flac-s16-1000Hz-mono-4.5s.flac" "$tmp/1k.wav"
ff -i "$b" -c:a libmp3lame -b:a 8k "$out/mp3-8kbps-8000Hz-mono-4.5s.mp3"
ff -i "$b" -c:a libvorbis -q:a 0 "$out/vorbis-8000Hz-mono-4.5s.ogg"
ls -l "$out"
