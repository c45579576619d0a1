//! The embedded store against its own file.
use super::*;
use crate::idempotency::StoredResponse;
use crate::store::held;

type Outcome = Result<(), Box<dyn std::error::Error>>;

const HOLD: Duration = Duration::from_secs(30);

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hail-embedded-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn limits() -> Limits {
    Limits {
        retention: Duration::from_secs(3600),
        max_entries: 1000,
        max_bytes: 1 << 20,
    }
}

#[tokio::test]
async fn records_survive_reopening_and_a_flight_becomes_unknown() -> Outcome {
    let d = dir("reopen");
    let a = Fingerprint::of("op", b"a");
    {
        let s = EmbeddedStore::open(&d, limits(), SyncMode::Normal)?;
        let (begin, h) = held(&s, "done", a, HOLD).await;
        assert!(matches!(begin, Begin::Proceed { progress: None, .. }));
        let ok = StoredResponse::restored(200, false, Bytes::from_static(b"{\"data\":1}"));
        assert!(s.settle("done", a, h, Settle::Final(ok)).await?);
        let (_, h) = held(&s, "flying", a, Duration::ZERO).await;
        assert!(s.progress("flying", h, Bytes::from_static(b"step")).await?);
    }
    // Dropped without settling "flying": as after kill -9.
    let s = EmbeddedStore::open(&d, limits(), SyncMode::Normal)?;
    match s.begin("done", a, HOLD).await? {
        Begin::Replay(r) => assert_eq!(&r.body[..], b"{\"data\":1}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.begin("flying", a, HOLD).await?,
        Begin::Unknown { progress: Some(p), .. } if &p[..] == b"step"
    ));
    assert_eq!(s.begin("flying", a, HOLD).await?, Begin::InFlight);
    Ok(())
}

#[tokio::test]
async fn the_sweep_bounds_entries_and_bytes_but_keeps_flights_and_unknowns() -> Outcome {
    let d = dir("bounds");
    let s = EmbeddedStore::open(
        &d,
        Limits {
            retention: Duration::from_secs(3600),
            max_entries: 50,
            max_bytes: 20_000,
        },
        SyncMode::Normal,
    )?;
    let a = Fingerprint::of("op", b"a");
    held(&s, "flight", a, HOLD).await;
    let (_, h) = held(&s, "unknown", a, HOLD).await;
    let unknown = Settle::Unknown {
        progress: Some(Bytes::from(vec![b'p'; 5000])),
        sent: true,
    };
    assert!(s.settle("unknown", a, h, unknown).await?);
    let big = Bytes::from(vec![b'x'; 1000]);
    for i in 0..200 {
        let key = format!("k{i}");
        let (_, h) = held(&s, &key, a, HOLD).await;
        let done = Settle::Final(StoredResponse::restored(200, false, big.clone()));
        assert!(s.settle(&key, a, h, done).await?);
    }
    s.sweep()?;
    let (count, bytes): (i64, i64) = Connection::open(s.path())?.query_row(
            "SELECT count(*), coalesce(sum(length(body)), 0) + coalesce(sum(length(progress)), 0) FROM records",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        ?;
    assert!(
        count <= 50 && bytes <= 20_000,
        "{count} records, {bytes} bytes"
    );
    assert_eq!(s.begin("flight", a, HOLD).await?, Begin::InFlight);
    assert!(matches!(
        s.begin("unknown", a, HOLD).await?,
        Begin::Unknown { .. }
    ));
    assert!(matches!(s.begin("k199", a, HOLD).await?, Begin::Replay(_)));
    Ok(())
}
