// HeartBeat's recorder, on the audio rendering thread (an AudioWorklet; src/recorder.rs loads it
// from ./recorder-worklet.js). It mixes the microphone's channels to mono, fills chunks of
// CHUNK frames and posts each one to the page, transferring its buffer rather than copying it.
// It writes nothing to its output: the page records, nothing is played back.
const CHUNK = 2048;

class HeartbeatRecorder extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunk = new Float32Array(CHUNK);
    this.filled = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    // No channels while the source is not (or no longer) connected: nothing to record.
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (const channel of channels) sum += channel[i];
      this.chunk[this.filled++] = sum / channels.length;
      if (this.filled === CHUNK) {
        this.port.postMessage(this.chunk, [this.chunk.buffer]);
        this.chunk = new Float32Array(CHUNK);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('heartbeat-recorder', HeartbeatRecorder);
