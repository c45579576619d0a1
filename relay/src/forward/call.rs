//! A request with the caller's credential beside it.

use hail::Operation;
use secrecy::SecretString;

/// A request and whom it is made as: the caller's verified vendor token when the operation acts
/// as the caller. The token is a credential, so it travels beside the request, never inside it
/// (nor in what the idempotency store keeps of it).
pub(crate) struct Call<Op> {
    pub op: Op,
    pub caller_token: Option<SecretString>,
}

impl<Op: Operation> Call<Op> {
    /// [`Operation::next_request`] with this call's caller token.
    pub fn next_request(
        &self,
        progress: &Op::Progress,
        base: &hail::BaseUrl,
        credential: &Op::Credential,
    ) -> Result<Option<http::Request<Vec<u8>>>, hail::encode::EncodeError> {
        self.op
            .next_request(progress, base, credential, self.caller_token.as_ref())
    }
}
