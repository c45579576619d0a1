//! Filling a stream's gap when it opens: webhooks the relay missed (it was down past the
//! vendor's retries) are read from the vendor's list of the conversation's recent messages
//! (`hail::inbound::Backfill`, LiveDesk's) and stored like deliveries: what the relay already
//! has is a duplicate by its key, so only what it missed is added. A vendor without such a list
//! (mluvii) has no gap filling. A failure here only means nothing is filled now.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hail::inbound::{visit_backfills, Backfill, BackfillVisitor};

use crate::replies::log::{Appended, StreamRecord};
use crate::state::AppState;

/// How long a stream's opening waits for the vendor's list.
const WAIT: Duration = Duration::from_secs(3);

/// Reads `record`'s conversation at its vendor and stores what the relay missed.
pub async fn fill(state: &Arc<AppState>, record: &StreamRecord) {
    if !state.replies.backfill_due(&record.id) {
        return;
    }
    struct Find<'a> {
        state: &'a Arc<AppState>,
        record: &'a StreamRecord,
        task: Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>>,
    }
    impl<'a> BackfillVisitor for Find<'a> {
        fn visit<B: Backfill>(&mut self) {
            if B::VENDOR == self.record.vendor {
                self.task = Some(Box::pin(fill_with::<B>(self.state, self.record)));
            }
        }
    }
    let mut find = Find {
        state,
        record,
        task: None,
    };
    visit_backfills(&mut find);
    if let Some(task) = find.task {
        task.await;
    }
}

async fn fill_with<B: Backfill>(state: &Arc<AppState>, record: &StreamRecord) {
    let deadline = Instant::now() + WAIT;
    let Some(account) = state.vendors.accounts.get::<B::Credential>() else {
        return;
    };
    let Ok(credential) = account.credential(deadline).await else {
        return;
    };
    let Some(request) = B::request(&account.api.base, &credential, &record.conversation) else {
        return;
    };
    let answer =
        crate::upstream::exchange(&account.api, request, deadline, "replies/backfill").await;
    let deliveries = match answer {
        Ok((status, body)) => B::read(&record.conversation, status, &body),
        Err(e) => {
            tracing::warn!(vendor = B::VENDOR, error = %e, "replies: cannot read the conversation to fill a gap");
            return;
        }
    };
    let deliveries = match deliveries {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(vendor = B::VENDOR, error = %e, "replies: the conversation's messages are not understood");
            return;
        }
    };
    for delivery in deliveries {
        match state.replies.log.append(B::VENDOR, &delivery).await {
            Ok(Appended::Streamed(streams)) => {
                crate::metrics::webhook(B::VENDOR, "backfilled");
                for (id, _) in streams {
                    let _ = state.replies.hub.send(Arc::from(id.as_str()));
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "replies: cannot store a filled gap");
                return;
            }
        }
    }
}
