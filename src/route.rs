//! Which page the address shows. Pages live in the URL's fragment (`#/history`), so links work
//! under any sub-path, inside an iframe, and from a static file server with no rewrite rules.

/// A page of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Pick recordings and see their results (the start page).
    Analyse,
    /// Past analyses; with an id, one of them opened.
    History(Option<String>),
    /// Statistics of the history.
    Analytics,
    /// The model card.
    Model,
}

impl Route {
    /// The page a fragment (`location.hash`, with or without `#`) names; unknown ones are the
    /// start page, so a stale bookmark still opens the app.
    pub fn from_hash(hash: &str) -> Self {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let mut parts = path.splitn(2, '/');
        match (parts.next().unwrap_or(""), parts.next()) {
            ("history", Some(id)) if !id.is_empty() => Route::History(Some(id.to_owned())),
            ("history", _) => Route::History(None),
            ("analytics", _) => Route::Analytics,
            ("model", _) => Route::Model,
            _ => Route::Analyse,
        }
    }

    /// The fragment that shows this page.
    pub fn hash(&self) -> String {
        match self {
            Route::Analyse => "#/".to_owned(),
            Route::History(None) => "#/history".to_owned(),
            Route::History(Some(id)) => format!("#/history/{id}"),
            Route::Analytics => "#/analytics".to_owned(),
            Route::Model => "#/model".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn fragments_round_trip() {
        for route in [
            Route::Analyse,
            Route::History(None),
            Route::History(Some("18c-2f".into())),
            Route::Analytics,
            Route::Model,
        ] {
            assert_eq!(Route::from_hash(&route.hash()), route);
        }
    }

    #[test]
    fn unknown_or_empty_fragments_open_the_start_page() {
        for hash in ["", "#", "#/", "#/nope", "garbage"] {
            assert_eq!(Route::from_hash(hash), Route::Analyse, "{hash}");
        }
        assert_eq!(Route::from_hash("#/history/"), Route::History(None));
    }
}
