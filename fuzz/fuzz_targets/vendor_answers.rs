//! Any vendor answer (status, body) for any operation and any step: decoding never panics.
#![no_main]

use hail::catalog::{visit_all, Visitor};
use hail::Operation;
use libfuzzer_sys::fuzz_target;

struct Decode<'a> {
    status: http::StatusCode,
    body: &'a [u8],
    steps: u8,
}

impl Visitor for Decode<'_> {
    fn visit<Op: Operation>(&mut self) {
        let Ok(op) = hail::operation::check_request::<Op>(Op::EXAMPLE.as_bytes()) else { return };
        let mut progress = Op::Progress::default();
        // Walk several steps of multi-call operations with the same answer.
        for _ in 0..=self.steps % 3 {
            if op.record(&mut progress, self.status, self.body).is_err() {
                break;
            }
        }
        let _ = Op::output(progress);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = 100 + u16::from_le_bytes([data[0], data[1]]) % 500;
    let Ok(status) = http::StatusCode::from_u16(status) else { return };
    visit_all(&mut Decode { status, body: &data[3..], steps: data[2] });
});
