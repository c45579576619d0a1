// A server component: validates on the server, renders the client component.
import { validate } from "hail-sdk";
import ClientSend from "./client-send";

export const dynamic = "force-dynamic";

export default function Page() {
  const violations = validate("memoio/start-conversation", { receiver: "anna@", message: "Hi", channel: "sales" });
  return (
    <main>
      <p id="server">{`server ${violations.map((v) => v.field).join(",")}`}</p>
      <ClientSend relayUrl={process.env.HAIL_RELAY_URL} />
    </main>
  );
}
