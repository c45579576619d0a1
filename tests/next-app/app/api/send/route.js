// A route handler: sends from the server through the relay.
import { createRelayClient, isHailError } from "hail-sdk";

export async function POST(request) {
  const { mark } = await request.json();
  const hail = createRelayClient({ relayUrl: process.env.HAIL_RELAY_URL });
  try {
    const r = await hail.memoio.startConversation({ receiver: "anna@example.com", message: `next route ${mark}`, channel: "sales" });
    return Response.json({ status: r.upstreamStatus });
  } catch (e) {
    return Response.json({ error: isHailError(e) ? e.code : String(e) }, { status: 500 });
  }
}
