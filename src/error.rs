//! The app's one error type. Every message says what happened in the user's terms and what to
//! do next; none of them loses anything the user already has on screen or in the history.

use heartbeat_core::Error as CoreError;

/// Everything that can go wrong in the page.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// A check the page makes itself before handing a file over (empty file, say).
    #[error("{0}")]
    Core(#[from] CoreError),
    /// The analysis worker's verdict on this recording (already worded for the user).
    #[error("{0}")]
    Analysis(String),
    /// The file is bigger than any recording HeartBeat accepts.
    #[error(
        "the file is too large ({mb:.0} MB): HeartBeat accepts recordings up to ten minutes. \
         Trim it to the part with the heart sounds"
    )]
    TooLarge {
        /// File size in megabytes.
        mb: f64,
    },
    /// The browser could not read the file (moved, deleted, or permission revoked).
    #[error("the browser could not read the file ({0}): choose it again")]
    Read(String),
    /// Neither the core (WAV) nor the browser's decoders understand the file.
    #[error(
        "this is not audio this browser can decode ({0}): choose a WAV, MP3, FLAC or OGG \
         recording"
    )]
    Undecodable(String),
    /// The analysis worker could not start or stopped.
    #[error("the analysis engine stopped ({0}): reload the page to analyse recordings")]
    Engine(String),
    /// A history file to import is not one HeartBeat wrote.
    #[error(
        "this is not a HeartBeat history file ({0}): choose a file exported from the History page"
    )]
    Import(String),
    /// The stored history could not be read; its text was kept under another key.
    #[error(
        "the history stored in this browser could not be read ({0}); its text was set aside \
         (localStorage key “heartbeat.history.unreadable”) and a new history was started"
    )]
    StoredHistoryUnreadable(String),
    /// One stored analysis cannot be read (written by a later HeartBeat, say); it stays stored.
    #[error(
        "this analysis is stored in this browser but cannot be shown ({0}); it is kept, and \
         goes into the history's export"
    )]
    StoredEntryUnreadable(String),
    /// The browser's storage for this site is full: nothing more goes into the history, and
    /// nothing in it is lost.
    #[error(
        "the browser's storage for HeartBeat is full, so results are shown but not saved in the \
         history. To make room, export the history (to keep a copy), then delete old entries on \
         the History page"
    )]
    StorageFull,
    /// The browser refuses storage (a private window, or disabled by policy).
    #[error(
        "this browser does not let HeartBeat keep a history ({0}), as private windows and some \
         privacy settings do: results are shown but not saved, and go when the page is closed. \
         Use a normal window to keep them"
    )]
    StorageUnavailable(String),
    /// A patient reference could not be stored (storage full, refused or disabled).
    #[error(
        "the patient reference cannot be kept in this browser ({0}): it is printed on this \
         report, but will have to be typed again when the result is reopened"
    )]
    ReferenceNotKept(String),
    /// The browser would not open its print dialog.
    #[error("the browser could not open its print dialog ({0}): use its own menu to print")]
    Print(String),
    /// The deployer's `embed.json` cannot be used; no portal is listened to until it is fixed.
    #[error(
        "embed.json, the list of portals allowed to send recordings, cannot be used ({0}); no \
         portal is listened to. Write it as {{\"allowed_origins\": [\"https://portal.example\"]}}"
    )]
    EmbedConfig(String),
    /// A portal's message that cannot be answered as it is.
    #[error("{0}")]
    EmbedRequest(String),
    /// The user, or the browser's settings, refused HeartBeat the microphone.
    #[error(
        "HeartBeat is not allowed to use the microphone: allow it for this site (the icon beside \
         the address), then press Record again, or choose a recording made with another app"
    )]
    MicrophoneDenied,
    /// No microphone is connected.
    #[error(
        "no microphone was found: connect the stethoscope or a microphone, then press Record \
         again"
    )]
    NoMicrophone,
    /// There is a microphone but it could not be opened (another app holds it, or this browser
    /// cannot record on this page).
    #[error(
        "the microphone could not be started ({0}): close other apps that use it, then press \
         Record again"
    )]
    MicrophoneUnavailable(String),
    /// The microphone went away (unplugged, or taken by another app) during a take.
    #[error(
        "the microphone was disconnected during the recording{}: reconnect it, then press \
         Record again",
        if *.analysed { "; what was recorded until then is analysed below" } else { "" }
    )]
    MicrophoneDisconnected {
        /// Whether what was recorded before was long enough to be analysed, and was.
        analysed: bool,
    },
    /// The take was stopped before it was as long as the analysis needs.
    #[error(
        "the recording lasted only {seconds:.1} s and the analysis needs at least \
         {min_seconds:.0} s: press Record again and keep recording for longer"
    )]
    RecordingTooShort {
        /// How long it lasted.
        seconds: f32,
        /// The shortest take the model can judge (its window).
        min_seconds: f32,
    },
}

/// Files larger than this are refused before their bytes are read into the tab's memory. Ten
/// minutes of 48 kHz stereo 32-bit float WAV, the most the core accepts, is about 230 MB.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Refuses files too large to be a recording, before reading them.
pub fn check_size(bytes: u64) -> Result<(), AppError> {
    if bytes > MAX_FILE_BYTES {
        return Err(AppError::TooLarge {
            mb: bytes as f64 / 1e6,
        });
    }
    if bytes == 0 {
        return Err(CoreError::Empty.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn sizes_are_checked_before_reading() {
        assert!(check_size(10_000_000).is_ok());
        let msg = check_size(2_000_000_000).expect_err("2 GB").to_string();
        assert!(msg.contains("2000 MB") && msg.contains("Trim"), "{msg}");
        assert_eq!(check_size(0), Err(AppError::Core(CoreError::Empty)));
    }

    #[test]
    fn messages_say_what_to_do() {
        let undecodable = AppError::Undecodable("EncodingError".into()).to_string();
        assert!(
            undecodable.contains("choose a WAV, MP3, FLAC or OGG"),
            "{undecodable}"
        );
        assert!(AppError::Engine("crashed".into())
            .to_string()
            .contains("reload the page"));
        assert!(AppError::StorageFull
            .to_string()
            .contains("export the history"));
    }
}
