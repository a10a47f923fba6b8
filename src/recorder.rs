//! The microphone: opened without the browser's voice processing, captured through an
//! AudioWorklet (`public/recorder-worklet.js`) at the audio context's own rate, and kept in
//! JavaScript's memory as it arrives, ready to be analysed and saved as a WAV file. The plain
//! bookkeeping (length, level, warnings, envelope) is [`crate::take`]'s.

use js_sys::{Array, Date, Float32Array, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    AudioContext, AudioWorkletNode, Blob, BlobPropertyBag, CanvasRenderingContext2d, DomException,
    HtmlCanvasElement, MediaStream, MediaStreamAudioSourceNode, MediaStreamConstraints,
    MediaStreamTrack, MediaTrackConstraints, MessageEvent,
};

use crate::browser::describe;
use crate::error::AppError;
use crate::take::{self, Take};

/// The worklet's script, copied next to index.html by Trunk. Relative, so the app works under
/// any sub-path.
const WORKLET_URL: &str = "./recorder-worklet.js";
/// The name the worklet registers its processor under.
const PROCESSOR: &str = "heartbeat-recorder";
/// The live waveform's colour (the brand's).
const WAVE_COLOUR: &str = "#8f1537";
/// The live waveform's largest magnification (26 dB): a quiet take looks quiet.
const MAX_GAIN: f32 = 20.0;

/// An open microphone feeding the recorder worklet. Stopping (or dropping) it releases the
/// microphone, so the browser's "recording" indicator goes out.
pub struct Capture {
    context: AudioContext,
    stream: Option<MediaStream>,
    source: Option<MediaStreamAudioSourceNode>,
    node: Option<AudioWorkletNode>,
    on_message: Option<Closure<dyn FnMut(MessageEvent)>>,
    on_ended: Option<Closure<dyn FnMut()>>,
    stopped: bool,
}

impl Capture {
    /// Asks for the microphone and starts capturing: `on_chunk` hears each chunk of mono
    /// samples, `on_ended` that the microphone went away (unplugged, or taken by the system).
    pub async fn start(
        on_chunk: impl FnMut(Float32Array) + 'static,
        on_ended: impl FnMut() + 'static,
    ) -> Result<Capture, AppError> {
        // Made first, while the click that asked for it still counts as a user gesture (Safari
        // keeps a context made later suspended). Its rate is the device's own: Firefox cannot
        // connect a microphone to a context at another rate.
        let context = AudioContext::new().map_err(unavailable)?;
        let mut capture = Capture {
            context,
            stream: None,
            source: None,
            node: None,
            on_message: None,
            on_ended: None,
            stopped: false,
        };
        // From here on, an error drops `capture`, which releases whatever was opened.
        capture.stream = Some(open_microphone().await?);
        capture
            .connect(on_chunk, on_ended)
            .await
            .map_err(unavailable)?;
        Ok(capture)
    }

    async fn connect(
        &mut self,
        mut on_chunk: impl FnMut(Float32Array) + 'static,
        on_ended: impl FnMut() + 'static,
    ) -> Result<(), JsValue> {
        let stream = self.stream.as_ref().ok_or("no microphone stream")?;
        JsFuture::from(self.context.audio_worklet()?.add_module(WORKLET_URL)?).await?;
        let source = self.context.create_media_stream_source(stream)?;
        let node = AudioWorkletNode::new(&self.context, PROCESSOR)?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Ok(chunk) = ev.data().dyn_into::<Float32Array>() {
                on_chunk(chunk);
            }
        });
        node.port()?
            .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let on_ended = Closure::<dyn FnMut()>::new(on_ended);
        for track in stream.get_audio_tracks().iter() {
            track
                .unchecked_into::<MediaStreamTrack>()
                .set_onended(Some(on_ended.as_ref().unchecked_ref()));
        }
        source.connect_with_audio_node(&node)?;
        // The worklet outputs silence; connected, it is processed in every browser.
        node.connect_with_audio_node(&self.context.destination())?;
        self.source = Some(source);
        self.node = Some(node);
        self.on_message = Some(on_message);
        self.on_ended = Some(on_ended);
        JsFuture::from(self.context.resume()?).await?;
        Ok(())
    }

    /// The capture's sample rate (Hz): the audio context's.
    pub fn sample_rate(&self) -> u32 {
        self.context.sample_rate().round() as u32
    }

    /// Stops capturing and releases the microphone. Chunks already posted are not delivered.
    pub fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        if let Some(port) = self.node.as_ref().and_then(|n| n.port().ok()) {
            port.set_onmessage(None);
            port.close();
        }
        if let Some(node) = self.node.take() {
            let _ = node.disconnect();
        }
        if let Some(source) = self.source.take() {
            let _ = source.disconnect();
        }
        if let Some(stream) = self.stream.take() {
            for track in stream.get_tracks().iter() {
                let track: MediaStreamTrack = track.unchecked_into();
                track.set_onended(None);
                track.stop();
            }
        }
        if let Ok(closing) = self.context.close() {
            // Awaited so that a refusal is handled here, not reported as uncaught.
            spawn_local(async move {
                let _ = JsFuture::from(closing).await;
            });
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

fn unavailable(e: JsValue) -> AppError {
    AppError::MicrophoneUnavailable(describe(&e))
}

/// `getUserMedia` for one channel with echo cancellation, noise suppression and automatic gain
/// off: made for speech, they take heart sounds for noise and remove or pump them.
async fn open_microphone() -> Result<MediaStream, AppError> {
    let devices = web_sys::window()
        .map(|w| w.navigator().media_devices())
        .transpose()
        .map_err(unavailable)?
        .filter(|d| !d.is_undefined())
        .ok_or_else(|| {
            AppError::MicrophoneUnavailable(
                "this browser cannot record on this page: open HeartBeat over https".into(),
            )
        })?;
    let audio = MediaTrackConstraints::new();
    audio.set_echo_cancellation_bool(false);
    audio.set_noise_suppression_bool(false);
    audio.set_auto_gain_control_bool(false);
    audio.set_channel_count_i32(1);
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio_media_track_constraints(&audio);
    constraints.set_video_bool(false);
    let refused = |e: JsValue| match e.dyn_ref::<DomException>() {
        Some(dom) => take::microphone_error(&dom.name(), describe(&e)),
        None => unavailable(e),
    };
    let stream = JsFuture::from(
        devices
            .get_user_media_with_constraints(&constraints)
            .map_err(refused)?,
    )
    .await
    .map_err(refused)?;
    Ok(stream.unchecked_into())
}

/// A take's samples as they arrive, in JavaScript's memory (the wasm heap never shrinks): the
/// chunks for the analysis, and their 16-bit PCM for the WAV file, built as the take grows.
pub struct LiveTake {
    take: Take,
    chunks: Vec<Float32Array>,
    pcm: Vec<Uint8Array>,
}

/// A finished take.
pub struct Finished {
    /// Its samples, mono, at the capture's rate.
    pub samples: Float32Array,
    /// The rate (Hz).
    pub sample_rate: u32,
    /// The take as a WAV file, if the browser could make one.
    pub wav: Option<Blob>,
}

impl LiveTake {
    /// An empty take at `rate` (Hz) that holds at most `max_seconds`.
    pub fn new(rate: u32, max_seconds: f32) -> Self {
        Self {
            take: Take::new(rate, max_seconds),
            chunks: Vec::new(),
            pcm: Vec::new(),
        }
    }

    /// Its length, level and envelope.
    pub fn take(&self) -> &Take {
        &self.take
    }

    /// Keeps what fits of a captured chunk; true once the take is full.
    pub fn push(&mut self, chunk: Float32Array) -> bool {
        let samples = chunk.to_vec();
        let keep = self.take.push(&samples);
        if keep > 0 {
            self.chunks.push(chunk.subarray(0, keep as u32));
            self.pcm
                .push(Uint8Array::from(take::pcm16(&samples[..keep]).as_slice()));
        }
        self.take.is_full()
    }

    /// The whole take, for the analysis and for saving.
    pub fn finish(self) -> Finished {
        let samples = Float32Array::new_with_length(self.take.frames() as u32);
        let mut at = 0;
        for chunk in &self.chunks {
            samples.set(chunk, at);
            at += chunk.length();
        }
        let header =
            Uint8Array::from(take::wav_header(self.take.frames(), self.take.rate()).as_slice());
        let parts: Array = std::iter::once(header).chain(self.pcm).collect();
        let options = BlobPropertyBag::new();
        options.set_type("audio/wav");
        Finished {
            samples,
            sample_rate: self.take.rate(),
            wav: Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok(),
        }
    }
}

/// A take's file name from the local time now: `recording-2026-12-08-1432.wav`.
pub fn take_name_now() -> String {
    let now = Date::new_0();
    take::take_name(
        now.get_full_year(),
        now.get_month() + 1,
        now.get_date(),
        now.get_hours(),
        now.get_minutes(),
    )
}

/// Draws the live waveform: one bar per slice of the last seconds, newest on the right, scaled
/// so the loudest fills the height (heart sounds peak far below full scale) but never magnified
/// more than `MAX_GAIN`, so a silent microphone still looks silent. Plain 2D-context calls,
/// cheap enough for every chunk.
pub fn draw_envelope(canvas: &HtmlCanvasElement, take: &Take) {
    let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
    let width = (f64::from(canvas.client_width()) * ratio).round() as u32;
    let height = (f64::from(canvas.client_height()) * ratio).round() as u32;
    if canvas.width() != width || canvas.height() != height {
        canvas.set_width(width);
        canvas.set_height(height);
    }
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let (w, h) = (f64::from(width), f64::from(height));
    ctx.clear_rect(0.0, 0.0, w, h);
    ctx.set_fill_style_str(WAVE_COLOUR);
    let mid = h / 2.0;
    // The centre line, so silence still shows a trace.
    ctx.fill_rect(0.0, mid - ratio / 2.0, w, ratio);
    let slots = Take::bars_shown();
    let bar = w / slots as f64;
    let bars: Vec<(f32, f32)> = take.envelope().collect();
    let loudest = bars.iter().fold(0.0f32, |m, &(lo, hi)| m.max(hi).max(-lo));
    let scale = mid / f64::from(loudest.max(1.0 / MAX_GAIN));
    let first = slots - bars.len();
    for (i, (lo, hi)) in bars.into_iter().enumerate() {
        let top = mid - f64::from(hi) * scale;
        let bottom = mid - f64::from(lo) * scale;
        ctx.fill_rect(
            (first + i) as f64 * bar,
            top,
            (bar - ratio).max(ratio),
            (bottom - top).max(ratio),
        );
    }
}
