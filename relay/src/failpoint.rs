//! Named failpoints for the crash tests (feature `failpoints`, never in a release build): the
//! tests arm one through the `FAILPOINTS` environment variable (the `fail` crate's syntax), e.g.
//! `FAILPOINTS=relay::before_store=return(hang)`, and kill the relay with SIGKILL once it logs
//! that it reached the point. Without the feature, [`hit`] is an empty inline function.

/// Reached a named point: with the point armed, logs `failpoint reached` and then hangs
/// (`return(hang)`) or waits that many milliseconds (`return(2000)`).
#[cfg(feature = "failpoints")]
pub async fn hit(name: &str) {
    let Some(arg) = fail::eval(name, |arg| arg) else {
        return;
    };
    tracing::warn!(failpoint = name, "failpoint reached");
    match arg.as_deref().map(str::parse::<u64>) {
        Some(Ok(ms)) => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
        _ => std::future::pending::<()>().await,
    }
}

/// Without the feature: nothing.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub async fn hit(_name: &str) {}

/// [`hit`] on a thread of its own (the embedded store's writer): hangs or sleeps that thread.
#[cfg(feature = "failpoints")]
pub fn hit_sync(name: &str) {
    let Some(arg) = fail::eval(name, |arg| arg) else {
        return;
    };
    tracing::warn!(failpoint = name, "failpoint reached");
    match arg.as_deref().map(str::parse::<u64>) {
        Some(Ok(ms)) => std::thread::sleep(std::time::Duration::from_millis(ms)),
        _ => loop {
            std::thread::park();
        },
    }
}

/// Without the feature: nothing.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit_sync(_name: &str) {}

/// Reads `FAILPOINTS` once at start (feature `failpoints` only).
pub fn setup() {
    #[cfg(feature = "failpoints")]
    std::mem::forget(fail::FailScenario::setup());
}
