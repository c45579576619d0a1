//! The rules of `Appending`, the same for every backend: each test runs on the memory log and
//! on the SQLite log (the Redis log runs them in `tests/replies.rs`, over two relays).

use hail::inbound::{Author, Delivery, Kind, ReplyEvent};

use super::embedded::EmbeddedLog;
use super::memory::MemoryLog;
use super::{Appended, Bounds, ReplyLog, StreamRecord};

fn bounds(max_events_per_stream: u64) -> Bounds {
    Bounds {
        retention_ms: 3_600_000,
        max_events_per_stream,
    }
}

fn logs(max: u64, name: &str) -> Vec<Box<dyn ReplyLog>> {
    let dir = std::env::temp_dir().join(format!("hail-reply-log-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    vec![
        Box::new(MemoryLog::new(bounds(max))),
        Box::new(EmbeddedLog::open(&dir, bounds(max)).unwrap()),
    ]
}

fn stream(id: &str, conversation: &str) -> StreamRecord {
    StreamRecord {
        id: id.into(),
        vendor: "livedesk".into(),
        conversation: conversation.into(),
        token_hash: [7; 32],
        expires_ms: u64::MAX / 4,
    }
}

fn reply(conversation: &str, message: &str, visible: bool) -> Delivery {
    Delivery {
        conversation: conversation.into(),
        dedup_key: format!("livedesk:message:{message}"),
        event: visible.then(|| ReplyEvent {
            kind: Kind::Message,
            author: Author::Agent,
            text: format!("text {message}"),
            at: "2026-12-07T10:00:00Z".into(),
            vendor_message_id: message.into(),
        }),
    }
}

#[tokio::test]
async fn duplicates_hidden_events_echoes_and_unbound_conversations_reach_no_stream() {
    for log in logs(100, "rules") {
        log.bind(stream("s1", "40")).await.unwrap();
        log.bind(stream("s2", "40")).await.unwrap();
        log.note_sent("livedesk", &["m-echo".into()]).await.unwrap();
        let append = |d: Delivery| {
            let log = &log;
            async move { log.append("livedesk", &d).await.unwrap() }
        };
        assert_eq!(
            append(reply("40", "m1", true)).await,
            Appended::Streamed(vec![("s1".into(), 1), ("s2".into(), 1)])
        );
        assert_eq!(append(reply("40", "m1", true)).await, Appended::Duplicate);
        assert_eq!(append(reply("40", "m2", false)).await, Appended::Hidden);
        assert_eq!(append(reply("40", "m-echo", true)).await, Appended::Echo);
        assert_eq!(append(reply("41", "m3", true)).await, Appended::Unbound);
        // Another vendor's message with the same id is no echo of this one's.
        let mut other = reply("40", "m-echo", true);
        other.dedup_key = "mluvii:activity:m-echo".into();
        assert_eq!(
            log.append("mluvii", &other).await.unwrap(),
            Appended::Unbound
        );
        let read = log.read("s1", 0, 10).await.unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].seq, 1);
        let json: serde_json::Value = serde_json::from_str(&read[0].json).unwrap();
        assert_eq!(json["seq"], 1);
        assert_eq!(json["text"], "text m1");
        assert_eq!(json["vendorMessageId"], "m1");
    }
}

#[tokio::test]
async fn each_stream_numbers_its_events_keeps_the_newest_and_resumes_after_a_seq() {
    for log in logs(3, "bounds") {
        log.bind(stream("s", "7")).await.unwrap();
        for i in 1..=5 {
            log.append("livedesk", &reply("7", &format!("m{i}"), true))
                .await
                .unwrap();
        }
        let seqs = |v: Vec<super::Numbered>| v.into_iter().map(|n| n.seq).collect::<Vec<_>>();
        // At most 3 kept: the oldest went first.
        assert_eq!(seqs(log.read("s", 0, 10).await.unwrap()), [3, 4, 5]);
        assert_eq!(seqs(log.read("s", 3, 10).await.unwrap()), [4, 5]);
        assert_eq!(seqs(log.read("s", 3, 1).await.unwrap()), [4]);
        assert_eq!(seqs(log.read("s", 5, 10).await.unwrap()), Vec::<u64>::new());
        // Revoked: gone, and nothing more is streamed to it.
        log.revoke("s").await.unwrap();
        assert_eq!(log.stream("s").await.unwrap(), None);
        assert_eq!(
            log.append("livedesk", &reply("7", "m6", true))
                .await
                .unwrap(),
            Appended::Unbound
        );
    }
}
