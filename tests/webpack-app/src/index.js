// A webpack app using hail-sdk as a user would: import, send one message, show the outcome.
import { createRelayClient, isHailError } from "hail-sdk";

async function main() {
  const params = new URLSearchParams(location.search);
  const hail = createRelayClient({ relayUrl: params.get("relay") });
  const result = document.querySelector("#result");
  try {
    const r = await hail.memoio.startConversation({ receiver: "anna@example.com", message: `webpack ${params.get("mark")}`, channel: "sales" });
    result.textContent = `sent ${r.upstreamStatus}`;
  } catch (e) {
    result.textContent = isHailError(e) ? `failed ${e.code}` : `failed ${e}`;
  }
}

main();
