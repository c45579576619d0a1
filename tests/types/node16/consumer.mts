// An ESM consumer (`.mts`, module node16): the default export loads, named ones work.
import init, { createRelayClient, type CallResult } from "hail-sdk";
import { init as initWeb } from "hail-sdk/web";

declare const process: { env: Record<string, string | undefined> };

await init();
await initWeb();
const hail = createRelayClient({ relayUrl: process.env.HAIL_RELAY_URL ?? "http://127.0.0.1:1" });
const sent: CallResult<unknown> = await hail.memoio.startConversation({
  receiver: "anna@example.com", message: `mts ${process.env.HAIL_MARK}`, channel: "sales",
});
console.log(JSON.stringify({ status: sent.upstreamStatus }));
