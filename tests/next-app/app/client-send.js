"use client";
// A client component: sends from the browser through the relay.
import { useEffect, useState } from "react";
import { createRelayClient, isHailError } from "hail-sdk";

export default function ClientSend({ relayUrl }) {
  const [result, setResult] = useState("ready");
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  async function send() {
    setResult("sending");
    try {
      const hail = createRelayClient({ relayUrl });
      const mark = new URLSearchParams(location.search).get("mark") ?? "none";
      const r = await hail.memoio.startConversation({ receiver: "anna@example.com", message: `next client ${mark}`, channel: "sales" });
      setResult(`sent ${r.upstreamStatus}`);
    } catch (e) {
      setResult(isHailError(e) ? `failed ${e.code}` : `failed ${e}`);
    }
  }
  return (<p><button id="send" onClick={send}>Send</button> <span id="client" data-hydrated={hydrated}>{result}</span></p>);
}
