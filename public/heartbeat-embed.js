// HeartBeat embed client: lets a portal page talk to the HeartBeat app in one of its iframes.
//
//   <iframe id="heartbeat" src="https://heartbeat.example/?embed=1"></iframe>
//   <script src="https://heartbeat.example/heartbeat-embed.js"></script>
//   <script>
//     const hb = await HeartBeat.embed(document.getElementById('heartbeat'));
//     const report = await hb.analyze(file);          // a File, Blob or ArrayBuffer
//     console.log(report.label, report.probability_abnormal, report.heart_rate_bpm);
//   </script>
//
// The app answers only origins listed in the embed.json its deployer serves next to index.html.
// Messages are the app's protocol (README: "Embedding HeartBeat in a portal"): an envelope
// `{ heartbeat: <message>, audio?: <buffer> }`, sent to and accepted from the iframe's origin only.
(function (global) {
  'use strict';

  const FIELD = 'heartbeat';

  /** An answer HeartBeat gave in words (a recording it could not analyse, say). */
  class HeartBeatError extends Error {
    constructor(message) {
      super(message);
      this.name = 'HeartBeatError';
    }
  }

  /** A connection to the app in one iframe. Events: 'ready' (detail: the model) when the app has (re)started. */
  class Client extends EventTarget {
    constructor(iframe, origin) {
      super();
      this.iframe = iframe;
      this.origin = origin;
      /** The model that answers: { name, version, trained }. */
      this.model = null;
      /** The app's page load; a new one means it reloaded and forgot what it was asked. */
      this._instance = null;
      this._nextId = 1;
      this._waiting = new Map();
      this._onMessage = (event) => this._receive(event);
      global.addEventListener('message', this._onMessage);
    }

    /**
     * Analyses a recording: a File, Blob, ArrayBuffer or Uint8Array holding an audio file (WAV,
     * MP3, FLAC, OGG…), or `{ samples: Float32Array, sampleRate }` of mono PCM. Resolves to the
     * report (the fields `heartbeat classify` prints as JSON: label, probability_abnormal,
     * threshold, heart_rate_bpm, quality, duration_s, windows…); rejects with a HeartBeatError
     * saying why in plain words. `options.name` labels it in the app's results list;
     * `options.timeoutMs` (default 120 s, waiting in the app's queue included) bounds the wait.
     */
    async analyze(recording, options = {}) {
      const message = { type: 'analyze', id: this._id() };
      if (options.name != null) message.name = String(options.name);
      let audio;
      if (recording && recording.samples instanceof Float32Array) {
        audio = recording.samples;
        message.sample_rate = recording.sampleRate;
      } else if (typeof Blob !== 'undefined' && recording instanceof Blob) {
        audio = await recording.arrayBuffer();
        if (options.name == null && recording.name) message.name = recording.name;
      } else if (recording instanceof ArrayBuffer || recording instanceof Uint8Array) {
        audio = recording;
      } else {
        throw new TypeError('analyze() takes a File, Blob, ArrayBuffer, Uint8Array or { samples, sampleRate }');
      }
      return this._request(message, audio, options.timeoutMs ?? 120000).then((reply) => reply.report);
    }

    /** How the app stands: { engine, model, error, pending, answered, rejected_messages }. */
    async status(options = {}) {
      const reply = await this._request({ type: 'status', id: this._id() }, undefined, options.timeoutMs ?? 5000);
      return reply.status;
    }

    /** Stops listening; requests still waiting are rejected. */
    close() {
      global.removeEventListener('message', this._onMessage);
      this._rejectAll('the HeartBeat client was closed');
    }

    _id() {
      return this._nextId++;
    }

    _request(message, audio, timeoutMs) {
      return new Promise((resolve, reject) => {
        const target = this.iframe.contentWindow;
        if (!target) return reject(new HeartBeatError('the HeartBeat iframe is not in the page'));
        const waiting = { resolve, reject, timer: null };
        if (timeoutMs) {
          waiting.timer = setTimeout(() => {
            this._waiting.delete(message.id);
            reject(new HeartBeatError(`HeartBeat did not answer within ${Math.round(timeoutMs / 1000)} s`));
          }, timeoutMs);
        }
        this._waiting.set(message.id, waiting);
        const envelope = { [FIELD]: message };
        if (audio !== undefined) envelope.audio = audio;
        target.postMessage(envelope, this.origin);
      });
    }

    _receive(event) {
      if (event.origin !== this.origin || event.source !== this.iframe.contentWindow) return;
      const reply = event.data && event.data[FIELD];
      if (!reply || typeof reply !== 'object') return;
      if (reply.type === 'ready') {
        this._started(reply.instance, reply.model);
        return;
      }
      if (reply.type === 'status' && reply.status && reply.status.engine === 'ready') {
        this._started(reply.status.instance, reply.status.model);
      }
      const waiting = this._waiting.get(reply.id);
      if (!waiting) return;
      this._waiting.delete(reply.id);
      clearTimeout(waiting.timer);
      if (reply.type === 'error') waiting.reject(new HeartBeatError(reply.message));
      else waiting.resolve(reply);
    }

    /** The app in the iframe is ready: tell listeners, once per page load of the app. */
    _started(instance, model) {
      if (instance === this._instance) return;
      const reloaded = this._instance !== null;
      this._instance = instance;
      this.model = model;
      // A reloaded app has forgotten what it was asked.
      if (reloaded) this._rejectAll('the HeartBeat app reloaded: send the recording again');
      this.dispatchEvent(new CustomEvent('ready', { detail: model }));
    }

    _rejectAll(message) {
      for (const [id, waiting] of this._waiting) {
        clearTimeout(waiting.timer);
        waiting.reject(new HeartBeatError(message));
        this._waiting.delete(id);
      }
    }
  }

  /**
   * Connects to the HeartBeat app in `iframe` (whose src has `?embed=1`) and resolves once its
   * model is loaded. Rejects after `options.timeoutMs` (default 60 s) when the app does not
   * answer: most often because embed.json does not list this page's origin.
   */
  function embed(iframe, options = {}) {
    const timeoutMs = options.timeoutMs ?? 60000;
    const origin = new URL(iframe.src, global.location.href).origin;
    const client = new Client(iframe, origin);
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error) => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        clearTimeout(timer);
        if (error) {
          client.close();
          reject(error);
        } else {
          resolve(client);
        }
      };
      client.addEventListener('ready', () => finish(), { once: true });
      // The app announces `ready` once; asking its status covers an iframe that loaded first.
      const ask = () =>
        client.status({ timeoutMs: 2000 }).then(
          (status) => {
            if (status.engine === 'failed') finish(new HeartBeatError(status.error));
          },
          () => {},
        );
      const poll = setInterval(ask, 500);
      const timer = setTimeout(
        () =>
          finish(
            new HeartBeatError(
              `HeartBeat at ${origin} did not answer within ${Math.round(timeoutMs / 1000)} s: ` +
                `check that its embed.json lists ${global.location.origin} and that the iframe's src has ?embed=1`,
            ),
          ),
        timeoutMs,
      );
      ask();
    });
  }

  global.HeartBeat = Object.freeze({ embed, HeartBeatError, protocol: 1 });
})(globalThis);
