// Must compile with `tsc --strict --noEmit`: each vendor entry has the API shape of `hail-sdk`
// with that vendor's operations only. Every `@ts-expect-error` line must fail to compile.
import initMemoio, * as memoio from "hail-sdk/memoio";
import * as chayns from "hail-sdk/chayns";
import * as livedesk from "hail-sdk/livedesk";
import * as mluvii from "hail-sdk/mluvii";
import * as memoioWeb from "hail-sdk/memoio/web";
import type { OperationId } from "hail-sdk";

/** `true` only when `A` and `B` are the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The ids of the all-vendors entry that belong to `V`. */
type Of<V extends string> = Extract<OperationId, `${V}/${string}`>;

// Each vendor entry has exactly its vendor's operations (no list to keep here).
export const idsAreTheVendors: [
  Same<memoio.OperationId, Of<"memoio">>,
  Same<chayns.OperationId, Of<"chayns">>,
  Same<livedesk.OperationId, Of<"livedesk">>,
  Same<mluvii.OperationId, Of<"mluvii">>,
  Same<Of<"livedesk">, never>,
] = [true, true, true, true, false];

export async function vendors(): Promise<void> {
  await initMemoio();
  await memoioWeb.init();
  const m = memoio.createRelayClient({ relayUrl: "https://relay.example.com", token: () => "t" });
  const sent: memoio.CallResult<memoio.MemoioReply> = await m.memoio.startConversation({ receiver: "a@b.co", message: "m", channel: "c" });
  await m.call("memoio/start-direct-conversation", { sender: "b@c.co", receiver: "a@b.co", message: "m" }, { timeoutMs: 5000 });
  const violations: memoio.Violation[] = memoio.validate("memoio/start-conversation", {});
  if (memoio.isHailError(sent) || violations.length > 0) return;
  // @ts-expect-error hail-sdk/memoio has no LiveDesk namespace
  m.livedesk.createContact({ inboxId: 1 });
  // @ts-expect-error nor LiveDesk operations
  await m.call("livedesk/create-contact", { inboxId: 1 });
  // @ts-expect-error nor the chayns user client
  memoio.createChaynsUserClient({ accessToken: "t", userId: 1, locationId: 2 });

  const c = chayns.createRelayClient({ relayUrl: "https://relay.example.com" });
  await c.chayns.intercom({ message: "m", userIds: [1] });
  const me = chayns.createChaynsUserClient({ accessToken: "t", userId: 1, locationId: 2 });
  await me.sendMessageToPage({ text: "Hi" });
  // @ts-expect-error hail-sdk/chayns has no MEMOIO namespace
  c.memoio.startConversation({ receiver: "a@b.co", message: "m", channel: "c" });

  // @ts-expect-error hail-sdk/memoio has no reply streams
  m.replies({ url: "/v1/replies/s", token: "t", expiresAt: "" });
  // @ts-expect-error nor has hail-sdk/chayns
  c.replies({ url: "/v1/replies/s", token: "t", expiresAt: "" });

  const l = livedesk.createRelayClient({ relayUrl: "https://relay.example.com" });
  const contact: livedesk.Contact = (await l.livedesk.createContact({ inboxId: 407, name: "Anna" })).data;
  const opened = await l.livedesk.startConversation({ inboxId: 407, contact: { identifier: "v" }, content: "Hi" });
  const stream: livedesk.ReplyStream | undefined = opened.replies?.({ lastEventId: 0 });
  const followUp: livedesk.CallResult<livedesk.Message> | undefined = await stream?.send("Thanks");
  void followUp;
  // @ts-expect-error hail-sdk/livedesk has no mluvii namespace
  l.mluvii.whatsappSubscriptions({});
  void contact;

  const w = mluvii.createRelayClient({ relayUrl: "https://relay.example.com" });
  const subscriptions: mluvii.Subscription[] = (await w.mluvii.whatsappSubscriptions({})).data;
  // mluvii delivers replies (none of its operations opens a session yet): a stream's follow-up
  // is the vendor's JSON there.
  const reopened: mluvii.ReplyStream = w.replies({ url: "/v1/replies/s", token: "t", expiresAt: "" });
  const followUp2: mluvii.CallResult<mluvii.JsonValue> = await reopened.send("Hi");
  void followUp2;
  // @ts-expect-error hail-sdk/mluvii has no chayns namespace
  w.chayns.intercom({ message: "m", userIds: [1] });
  // @ts-expect-error nor chayns operations in validate
  mluvii.validate("chayns/intercom", {});
  void subscriptions;
}
