// A CommonJS consumer (`.cts`, module node16): compiled to `require("hail-sdk")` and run.
import { createRelayClient, initSync, isHailError, validate, type CallResult } from "hail-sdk";

declare const process: { env: Record<string, string | undefined> };

async function main(): Promise<void> {
  initSync({ module: new Uint8Array() }); // nothing to do in Node: already loaded
  const hail = createRelayClient({ relayUrl: process.env.HAIL_RELAY_URL ?? "http://127.0.0.1:1" });
  const sent: CallResult<unknown> = await hail.memoio.startConversation({
    receiver: "anna@example.com", message: `cts ${process.env.HAIL_MARK}`, channel: "sales",
  });
  let code = "none";
  try {
    await hail.memoio.startConversation({ receiver: "anna@", message: "m", channel: "c" });
  } catch (e) {
    if (isHailError(e)) code = e.code;
  }
  console.log(JSON.stringify({ status: sent.upstreamStatus, code, violations: validate("memoio/start-conversation", {}).length }));
}

void main();
