// Must compile with `tsc --strict --noEmit`: the SDK as its README shows it.
import init, {
  createRelayClient,
  createChaynsUserClient,
  fromChaynsApi,
  fromChaynsEnv,
  validate,
  isHailError,
  type CallResult,
  type Contact,
  type Conversation,
  type ConversationResult,
  type NoRepliesResult,
  type RepliesAccess,
  type ReplyEvent,
  type ReplyStream,
  type ResultOf,
  type ErrorCode,
  type HailError,
  type InputOf,
  type JsonValue,
  type MemoioReply,
  type MemoioStartConversation,
  type Message,
  type OutputOf,
  type WhatsappSendTemplatesReply,
  type Subscription,
  type OperationId,
  type StartedConversation,
  type Violation,
} from "hail-sdk";

// What npm chayns-api 3.6.3 declares for the functions fromChaynsApi uses
// (dist/types/calls/index.d.ts, types/IChaynsReact.d.ts), so that `import * as chayns from
// "chayns-api"; fromChaynsApi(chayns)` is checked without installing it.
declare const chaynsApi: {
  getAccessToken: (value?: { external?: boolean }) => Promise<{ accessToken: string | undefined }>;
  getUser: () => { firstName?: string; userId?: number; personId?: string; isAnonymous?: boolean } | undefined;
  getSite: () => { id: string; locationId: number; locationPersonId: string; title: string };
  refreshAccessToken: (...args: []) => Promise<void>;
  sendMessageToPage: (message: { text: string; images?: string[] }) => Promise<Response>;
};

export async function main(): Promise<void> {
  await init();
  const hail = createRelayClient({ relayUrl: "https://relay.example.com", token: async () => "jwt", retries: 3 });
  const input: MemoioStartConversation = { receiver: "anna@example.com", message: "Hello", channel: "sales", tags: ["vip"], groupBy: ["sameDay"] };
  const sent: CallResult<MemoioReply> = await hail.memoio.startConversation(input, { timeoutMs: 5000, idempotencyKey: "k-1" });
  // MEMOIO documents no answer: its JSON (or text) as it came.
  const reply: JsonValue = sent.data;
  if (typeof reply === "object" && reply !== null && !Array.isArray(reply)) {
    const field: JsonValue | undefined = reply["id"];
    console.log(field);
  }
  const requestId: string = sent.requestId;
  const replayed: boolean = sent.replayed;
  const contact: CallResult<Contact> = await hail.livedesk.createContact({ inboxId: 407, name: "Anna" });
  const started: CallResult<StartedConversation> = await hail.livedesk.startConversation({ inboxId: 407, contact: { email: "anna@example.com" }, content: "Hi" });
  const id: number | string = started.data.conversation.id;
  // Ids flow: what one call returns is what the next one takes (the README's LiveDesk example).
  await hail.livedesk.sendMessage({ conversationId: started.data.conversation.id, content: "Hi", inReplyTo: started.data.message.id });
  const conversation = await hail.livedesk.createConversation({ inboxId: 407, contactId: contact.data.id });
  const reply2: CallResult<Message> = await hail.livedesk.sendMessage({ conversationId: conversation.data.id, content: "Hi" });
  // `call` is typed by the operation id: its input is checked, its result is the operation's.
  const viaCall = await hail.call("livedesk/create-contact", { inboxId: 407, email: "anna@example.com" });
  const contactAgain: Contact = viaCall.data;
  const subs: Subscription[] = (await hail.call("mluvii/whatsapp-subscriptions", {})).data;
  const memoio: MemoioReply = (await hail.call("memoio/start-conversation", input, { idempotencyKey: "k-2" })).data;
  const nextInput: InputOf<"livedesk/send-message"> = { conversationId: contactAgain.id, content: "x" };
  const nextOutput: OutputOf<"livedesk/send-message"> = reply2.data;
  const templates: WhatsappSendTemplatesReply = (await hail.mluvii.sendWhatsAppTemplates({ subscriptionId: "6f9619ff-8b86-d011-b42d-00c04fc964ff", formId: 1, language: "cs", recipients: [{ contactId: "+420123456789" }] })).data;
  const sameObject: boolean = hail.memoio === hail.memoio;
  console.log(subs, memoio, nextInput, nextOutput, templates, sameObject);
  await hail.chayns.intercom({ message: "Hi", userIds: [1], asCaller: false });
  await hail.mluvii.sendWhatsAppTemplates({ subscriptionId: "6f9619ff-8b86-d011-b42d-00c04fc964ff", formId: 1, language: "cs", recipients: [{ contactId: "+420123456789", fieldValues: ["Anna"] }] });
  const subscriptions = await hail.mluvii.whatsappSubscriptions({});
  const firstName: string | undefined = subscriptions.data[0]?.name;
  const op: OperationId = "livedesk/send-message";
  await hail.call(op, { conversationId: 40, content: "Hi" }, { signal: new AbortController().signal });
  const caps = await hail.capabilities();
  const access: "public" | "jwt" | "chayns" = caps.operations[0].access;
  const problems: Violation[] = validate("memoio/start-conversation", { receiver: "x" });
  const me = fromChaynsEnv({ env: { user: { id: 1, tobitAccessToken: "t" }, site: { locationId: 2 } } });
  await me.sendMessageToPage({ text: "Hi" });
  await createChaynsUserClient({ accessToken: "t", userId: 1, locationId: 2 }).sendMessageToGroup(42, { text: "Hi", images: ["https://x.io/a.png"] });
  const tapp = fromChaynsApi(chaynsApi, { timeoutMs: 5000 });
  const toPage: CallResult<unknown> = await tapp.sendMessageToPage({ text: "Hi" }, { signal: new AbortController().signal, timeoutMs: 3000 });
  await tapp.sendMessageToUser(1234567, { text: "Hi" });
  await createChaynsUserClient({ accessToken: async () => "t", userId: 1, locationId: 2 }).sendMessageToPage({ text: "Hi" });
  console.log(toPage.requestId);
  try {
    await hail.memoio.startConversation(input);
  } catch (e: unknown) {
    if (isHailError(e)) {
      const err: HailError = e;
      const code: ErrorCode = err.code;
      const field: string | undefined = err.field;
      const retry: boolean = err.retryable;
      const violations: Violation[] | undefined = err.violations;
      const key: string | undefined = err.idempotencyKey;
      const maybeSent: boolean | undefined = err.possiblySent;
      if (maybeSent && key !== undefined) await hail.memoio.startConversation(input, { idempotencyKey: key });
      console.log(code, field, retry, err.status, err.requestId, err.message, violations, err.cause);
    }
  }
  console.log(requestId, replayed, contact.data.id, id, firstName, access, problems.length);
}

// Replies: only a send that opens a conversation has them.
export async function replies(): Promise<void> {
  const hail = createRelayClient({ relayUrl: "https://relay.example.com" });
  const opened: ConversationResult<StartedConversation> = await hail.livedesk.startConversation({ inboxId: 407, contact: { identifier: "v" }, content: "Hi" });
  const byCall: ResultOf<"livedesk/create-conversation"> = await hail.call("livedesk/create-conversation", { inboxId: 407, contactId: 1 });
  const conversation: ConversationResult<Conversation> = byCall;
  const access: RepliesAccess | undefined = opened.repliesAccess;
  if (!opened.replies || !access) return;
  const kept: RepliesAccess = JSON.parse(JSON.stringify(access));
  const stream: ReplyStream = opened.replies({ signal: new AbortController().signal, lastEventId: 0 });
  for await (const reply of stream) {
    const seq: number = reply.seq;
    const kind: "message" | "status" = reply.kind;
    const author: "agent" | "bot" | "system" = reply.author;
    const text: string = reply.text;
    console.log(seq, kind, author, text, reply.at, reply.vendorMessageId);
    break;
  }
  const stop: () => void = stream.onReply((e: ReplyEvent) => console.log(e.text), (e: HailError) => console.log(e.code));
  stop();
  stream.onReply((e) => console.log(e.seq));
  const sent: CallResult<Message> = await stream.send("Thanks", { idempotencyKey: "k-3", timeoutMs: 5000, signal: new AbortController().signal });
  const last: number = stream.lastEventId;
  const closed: boolean = stream.closed;
  stream.close();
  const again: ReplyStream = hail.replies(kept, { lastEventId: last });
  const iterable: AsyncIterable<ReplyEvent> = again;
  conversation.replies?.().close();
  // MEMOIO and chayns deliver no replies, typed.
  const memo: NoRepliesResult<MemoioReply> = await hail.memoio.startConversation({ receiver: "a@b.co", message: "m", channel: "c" });
  const none: undefined = memo.replies;
  const noAccess: undefined = (await hail.chayns.intercom({ message: "m", userIds: [1] })).repliesAccess;
  console.log(sent.data.id, closed, iterable, none, noAccess);
}
