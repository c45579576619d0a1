// Every marked line must fail to compile: `tsc` reports an unused `@ts-expect-error` otherwise.
import { createChaynsUserClient, createRelayClient, fromChaynsApi, fromChaynsEnv, validate, type ErrorCode, type ReplyEvent } from "hail-sdk";

export async function wrong(): Promise<void> {
  const hail = createRelayClient({ relayUrl: "https://relay.example.com" });
  // @ts-expect-error relayUrl is required
  createRelayClient({});
  // @ts-expect-error a missing required field (channel)
  await hail.memoio.startConversation({ receiver: "a@b.co", message: "m" });
  // @ts-expect-error a field of the wrong type
  await hail.memoio.startConversation({ receiver: "a@b.co", message: 7, channel: "c" });
  // @ts-expect-error an unknown field
  await hail.memoio.startConversation({ receiver: "a@b.co", message: "m", channel: "c", reciever: "x" });
  // @ts-expect-error groupBy only takes the documented values
  await hail.memoio.startConversation({ receiver: "a@b.co", message: "m", channel: "c", groupBy: ["daily"] });
  // @ts-expect-error ids are numbers or their decimal strings (`Id`), nothing else
  await hail.livedesk.sendMessage({ conversationId: true, content: "Hi" });
  // @ts-expect-error `call` checks the input against the operation id
  await hail.call("memoio/start-conversation", { bogus: 1 });
  // @ts-expect-error `call` checks the input against the operation id: a LiveDesk input for MEMOIO
  await hail.call("memoio/start-conversation", { conversationId: 40, content: "Hi" });
  const created = await hail.call("livedesk/create-contact", { inboxId: 1 });
  // @ts-expect-error `call`'s result is the operation's: a Contact has no `content`
  created.data.content;
  // @ts-expect-error MEMOIO's reply is JSON, not known to be a string
  const text: string = (await hail.memoio.startConversation({ receiver: "a@b.co", message: "m", channel: "c" })).data;
  // @ts-expect-error unknown client options
  createRelayClient({ relayUrl: "https://relay.example.com", bogus: 1 });
  // @ts-expect-error unknown call options
  await hail.livedesk.sendMessage({ conversationId: 40, content: "Hi" }, { bogus: 1 });
  // @ts-expect-error unknown call options of `call`
  await hail.call("livedesk/send-message", { conversationId: 40, content: "Hi" }, { retries: 1 });
  // @ts-expect-error unknown chayns user client options
  createChaynsUserClient({ accessToken: "t", userId: 1, locationId: 2, bogus: 1 });
  // @ts-expect-error unknown chayns options
  fromChaynsEnv(undefined, { baseUrl: "https://x.io", bogus: 1 });
  // @ts-expect-error an unknown operation id
  await hail.call("memoio/nope", {});
  // @ts-expect-error an unknown error code
  const code: ErrorCode = "oops";
  // @ts-expect-error validate takes an operation id
  validate(42, {});
  // @ts-expect-error no such namespace
  hail.twilio;
  // @ts-expect-error fromChaynsApi needs getAccessToken, getUser and getSite
  fromChaynsApi({ getUser: () => undefined });
  const tapp = fromChaynsApi({ getAccessToken: async () => ({ accessToken: "t" }), getUser: () => ({ userId: 1 }), getSite: () => ({ locationId: 2 }) });
  // @ts-expect-error chayns has no idempotency keys: user-client sends take { signal, timeoutMs }
  await tapp.sendMessageToPage({ text: "Hi" }, { idempotencyKey: "k" });
  // @ts-expect-error MEMOIO delivers no replies: its results have no replies()
  (await hail.memoio.startConversation({ receiver: "a@b.co", message: "m", channel: "c" })).replies();
  // @ts-expect-error chayns delivers no replies: no repliesAccess to keep
  const chaynsAccess: { url: string } = (await hail.chayns.intercom({ message: "m", userIds: [1] })).repliesAccess;
  // @ts-expect-error a message sent into a conversation opens none: no replies
  (await hail.livedesk.sendMessage({ conversationId: 40, content: "Hi" })).replies;
  // @ts-expect-error replies() may be absent (a relay without LiveDesk's webhook): check it first
  (await hail.livedesk.startConversation({ inboxId: 1, contact: { identifier: "v" }, content: "Hi" })).replies();
  const access = { url: "/v1/replies/s", token: "t", expiresAt: "2099-01-01T00:00:00Z" };
  // @ts-expect-error unknown replies() options
  hail.replies(access, { since: 3 });
  // @ts-expect-error a reply stream's access needs its token
  hail.replies({ url: "/v1/replies/s" });
  // @ts-expect-error a follow-up is text
  await hail.replies(access).send({ content: "Hi" });
  // @ts-expect-error a reply event is a message or a status, nothing else
  const typing: ReplyEvent["kind"] = "typing";
  // @ts-expect-error lastEventId is read-only
  hail.replies(access).lastEventId = 3;
  console.log(code, text, chaynsAccess, typing);
}
