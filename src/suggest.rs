//! "Did you mean …?" for a misspelt operation id or option name.

/// The candidate closest to `word`, if one is close: spelt the same but for case and `-`/`_`
/// (`memoio/startConversation` → `memoio/start-conversation`), or within two edits of it
/// (`timeout` → `timeoutMs`).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let plain = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let word = plain(word);
    candidates
        .into_iter()
        .map(|c| (edits(&word, &plain(c)), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance.
fn edits(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn near_misses_are_found_and_strangers_are_not() {
        let ids = [
            "memoio/start-conversation",
            "memoio/start-direct-conversation",
        ];
        assert_eq!(
            did_you_mean("memoio/startConversation", ids),
            Some("memoio/start-conversation")
        );
        assert_eq!(
            did_you_mean("memoio/start-convesation", ids),
            Some("memoio/start-conversation")
        );
        assert_eq!(did_you_mean("livedesk/x", ids), None);
        let options = ["signal", "timeoutMs", "idempotencyKey"];
        assert_eq!(did_you_mean("timeout", options), Some("timeoutMs"));
        assert_eq!(
            did_you_mean("idempotency_key", options),
            Some("idempotencyKey")
        );
        assert_eq!(did_you_mean("retries", options), None);
    }
}
