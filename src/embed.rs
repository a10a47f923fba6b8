//! The embed API's rules, as plain data: when the app is in embed mode, which portals may talk
//! to it, and which recordings a portal may hand over. The wasm glue that listens and answers is
//! `app::embed`; the messages themselves are in [`heartbeat_worker::protocol`].

use heartbeat_core::audio::SAMPLE_RATES;
use heartbeat_core::{Error as CoreError, Limits};
use serde::Deserialize;

use crate::error::AppError;

/// The allow-list's file, served next to `index.html` by whoever deploys the app.
pub const ALLOW_LIST_FILE: &str = "embed.json";

/// How the app runs inside a portal: set by the iframe's URL (`?embed=1&history=1&nav=1`).
/// These only shape the page; who may send recordings is never a URL's say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Keep the portal's and the user's results in this browser's history.
    pub history: bool,
    /// Show the navigation between the app's pages.
    pub nav: bool,
}

impl EmbedOptions {
    /// The options a query string (`location.search`, with or without `?`) asks for; `None`
    /// unless it has `embed=1`.
    pub fn from_query(query: &str) -> Option<Self> {
        let flag = |name: &str| {
            query
                .trim_start_matches('?')
                .split('&')
                .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
                .any(|(key, value)| key == name && matches!(value, "1" | "true"))
        };
        flag("embed").then(|| Self {
            history: flag("history"),
            nav: flag("nav"),
        })
    }
}

/// The portals allowed to talk to the app, by exact origin (`https://portal.example:8443`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    origins: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowListFile {
    allowed_origins: Vec<String>,
}

impl AllowList {
    /// Reads `embed.json`. Every entry must be an origin as browsers write `MessageEvent.origin`
    /// (scheme, host, optional port; no path, no wildcard), so a typo fails loudly instead of
    /// silently admitting nobody, or everybody.
    pub fn from_json(json: &str) -> Result<Self, AppError> {
        let file: AllowListFile =
            serde_json::from_str(json).map_err(|e| AppError::EmbedConfig(e.to_string()))?;
        for origin in &file.allowed_origins {
            check_origin(origin).map_err(|why| {
                AppError::EmbedConfig(format!("“{origin}” is not an origin: {why}"))
            })?;
        }
        Ok(Self {
            origins: file.allowed_origins,
        })
    }

    /// Whether messages from `origin` are listened to.
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }

    /// The allowed origins, in the file's order.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// True when no portal may talk to the app.
    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }
}

fn check_origin(origin: &str) -> Result<(), &'static str> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or("it must start with https:// (or http:// for a local test)")?;
    if rest.is_empty() {
        return Err("it has no host");
    }
    if rest.contains(['/', '?', '#', '*', ' ', '@']) {
        return Err("an origin is scheme://host[:port], without path, wildcard or credentials");
    }
    if origin.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("browsers write origins in lower case");
    }
    Ok(())
}

/// Refuses PCM a portal sends that the page would refuse as a file: an absurd rate, or longer
/// than the core analyses. Checked before the samples go anywhere.
pub fn check_pcm(samples: u32, sample_rate: u32) -> Result<(), AppError> {
    if !SAMPLE_RATES.contains(&sample_rate) {
        return Err(AppError::Core(CoreError::InvalidSampleRate(sample_rate)));
    }
    if samples == 0 {
        return Err(AppError::Core(CoreError::Empty));
    }
    let duration_s = samples as f32 / sample_rate as f32;
    let max_s = Limits::default().max_seconds;
    if duration_s > max_s {
        return Err(AppError::Core(CoreError::TooLong { duration_s, max_s }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn embed_mode_is_on_only_with_embed_1() {
        assert_eq!(EmbedOptions::from_query(""), None);
        assert_eq!(EmbedOptions::from_query("?history=1"), None);
        assert_eq!(EmbedOptions::from_query("?embed=0"), None);
        assert_eq!(
            EmbedOptions::from_query("?embed=1"),
            Some(EmbedOptions {
                history: false,
                nav: false
            })
        );
        assert_eq!(
            EmbedOptions::from_query("embed=true&nav=1&history=1"),
            Some(EmbedOptions {
                history: true,
                nav: true
            })
        );
    }

    #[test]
    fn the_allow_list_admits_exact_origins_only() {
        let list = AllowList::from_json(
            r#"{"allowed_origins": ["https://portal.example", "http://127.0.0.1:9000"]}"#,
        )
        .expect("valid");
        assert!(list.allows("https://portal.example"));
        assert!(list.allows("http://127.0.0.1:9000"));
        for stranger in [
            "https://portal.example.evil",
            "http://portal.example",
            "https://portal.example:443/",
            "null",
            "",
        ] {
            assert!(!list.allows(stranger), "{stranger}");
        }
        assert!(AllowList::from_json(r#"{"allowed_origins": []}"#)
            .expect("empty is valid")
            .is_empty());
    }

    #[test]
    fn a_mistyped_allow_list_is_refused_with_the_reason() {
        for (json, says) in [
            (r#"{"allowed_origins": ["*"]}"#, "https://"),
            (
                r#"{"allowed_origins": ["https://a.example/app"]}"#,
                "without path",
            ),
            (r#"{"allowed_origins": ["https://*.example"]}"#, "wildcard"),
            (
                r#"{"allowed_origins": ["https://Portal.example"]}"#,
                "lower case",
            ),
            (
                r#"{"allowed_origin": ["https://a.example"]}"#,
                "unknown field",
            ),
            ("not json", "expected"),
        ] {
            let message = AllowList::from_json(json).expect_err(json).to_string();
            assert!(message.contains(says), "{json}: {message}");
            assert!(message.contains("embed.json"), "{message}");
        }
    }

    #[test]
    fn portal_pcm_is_bounded_like_files() {
        assert!(check_pcm(8000 * 30, 8000).is_ok());
        let long = check_pcm(8000 * 601, 8000).expect_err("601 s").to_string();
        assert!(long.contains("too long"), "{long}");
        assert_eq!(
            check_pcm(100, 0),
            Err(AppError::Core(CoreError::InvalidSampleRate(0)))
        );
        assert_eq!(check_pcm(0, 8000), Err(AppError::Core(CoreError::Empty)));
    }
}
