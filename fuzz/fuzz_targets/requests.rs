//! Any bytes as the JSON body of any operation: parsing, validation and (when valid) encoding
//! never panic, and whatever validates also encodes.
#![no_main]

use std::any::{Any, TypeId};

use hail::catalog::{visit_all, Visitor};
use hail::operation::parse_request;
use hail::vendors::{chayns, livedesk, memoio, mluvii};
use hail::{BaseUrl, Operation};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

struct Check<'a> {
    which: usize,
    index: usize,
    body: &'a [u8],
}

fn credential<C: 'static>() -> Box<dyn Any> {
    let s = |v: &str| SecretString::from(v.to_owned());
    let id = TypeId::of::<C>();
    if id == TypeId::of::<memoio::SecretKey>() {
        Box::new(memoio::SecretKey::new(s("k")))
    } else if id == TypeId::of::<chayns::TappCredential>() {
        Box::new(chayns::TappCredential { tapp_id: 1, secret: s("s"), location_id: 2 })
    } else if id == TypeId::of::<livedesk::ApiKey>() {
        Box::new(livedesk::ApiKey { key: s("k"), secret: s("s") })
    } else {
        Box::new(mluvii::AccessToken(s("t")))
    }
}

impl Visitor for Check<'_> {
    fn visit<Op: Operation>(&mut self) {
        let mine = self.index == self.which;
        self.index += 1;
        if !mine {
            return;
        }
        let Ok(mut op) = parse_request::<Op>(self.body) else {
            return;
        };
        if op.validate().is_err() {
            return;
        }
        if op.wants_caller_token() {
            op.set_caller_token(SecretString::from("caller".to_owned()));
        }
        let cred = credential::<Op::Credential>();
        let cred = cred.downcast_ref::<Op::Credential>().expect("a credential for every kind");
        let base = BaseUrl::parse("https://vendor.example").expect("base");
        let first = op.next_request(&Op::Progress::default(), &base, cred);
        assert!(matches!(first, Ok(Some(_))), "{} validated but did not encode", Op::ID);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let mut check = Check { which: usize::from(which) % hail::catalog::ids().len(), index: 0, body };
    visit_all(&mut check);
});
