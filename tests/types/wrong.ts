// Every marked line must fail to compile: `tsc` reports an unused `@ts-expect-error` otherwise.
import { createChaynsUserClient, createRelayClient, fromChaynsApi, fromChaynsEnv, validate, type ErrorCode } from "hail-sdk";

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
  console.log(code, text);
}
