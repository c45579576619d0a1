// The conversation a LiveDesk send opened, as a chat: the agent's replies appear as the
// simulated LiveDesk delivers them (through the relay's webhook intake and the SDK's
// `replies()` stream), the visitor answers in the same conversation (`stream.send`), and in the
// sandbox a simulated agent can be made to answer from here (`POST /v1/sandbox/replies`).

/** Adds a chat for the conversation `result` opened to `container`; returns the stream. */
export function openChat(container, result, { relayUrl, firstMessage, conversationId, isHailError }) {
  const chat = Object.assign(document.createElement("section"), { className: "chat" });
  chat.setAttribute("aria-label", "Conversation");
  const title = Object.assign(document.createElement("h3"), { className: "sub", textContent: "Conversation" });
  const state = Object.assign(document.createElement("p"), { className: "muted chat-state", textContent: "Waiting for the agent…" });
  const log = Object.assign(document.createElement("ol"), { className: "chat-log" });
  log.setAttribute("aria-live", "polite");

  const line = (who, text, cls) => {
    const li = Object.assign(document.createElement("li"), { className: `chat-line ${cls}` });
    li.append(Object.assign(document.createElement("span"), { className: "who", textContent: who }), " ", text);
    log.append(li);
    li.scrollIntoView({ block: "nearest" });
    return li;
  };
  if (firstMessage) line("You", firstMessage, "visitor");

  // The visitor's answer.
  const answer = Object.assign(document.createElement("form"), { className: "chat-answer" });
  const input = Object.assign(document.createElement("input"), { name: "answer", placeholder: "Answer the agent…", required: true });
  input.setAttribute("aria-label", "Your answer");
  const send = Object.assign(document.createElement("button"), { type: "submit", textContent: "Answer" });
  answer.append(input, send);

  // The simulated agent (sandbox only): what an agent typing in LiveDesk's console would do.
  const agent = Object.assign(document.createElement("form"), { className: "chat-agent" });
  const agentInput = Object.assign(document.createElement("input"), { name: "agent", placeholder: "As the agent (simulated LiveDesk)…", required: true });
  agentInput.setAttribute("aria-label", "The simulated agent's reply");
  const agentSend = Object.assign(document.createElement("button"), { type: "submit", className: "secondary", textContent: "Agent answers" });
  agent.append(agentInput, agentSend);

  chat.append(title, state, log, answer, agent);
  container.append(chat);

  const stream = result.replies();
  stream.onReply(
    (event) => {
      if (event.kind === "status") {
        line("Status", event.text, "status");
        return;
      }
      line(event.author === "bot" ? "Bot" : "Agent", event.text, "agent");
      state.textContent = "The agent answered.";
    },
    (error) => {
      state.textContent = `The reply stream ended: ${isHailError(error) ? error.code : ""} ${error.message}`;
    },
  );

  answer.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    send.disabled = true;
    try {
      await stream.send(text);
      line("You", text, "visitor");
      input.value = "";
    } catch (error) {
      line("Not sent", `${error.code}: ${error.message}`, "failure");
    } finally {
      send.disabled = false;
    }
  });
  agent.addEventListener("submit", async (e) => {
    e.preventDefault();
    const content = agentInput.value.trim();
    if (!content) return;
    agentSend.disabled = true;
    try {
      const r = await fetch(`${relayUrl}/v1/sandbox/replies`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ vendor: "livedesk", conversationId, content }),
      });
      if (!r.ok) throw new Error(`the simulated agent could not answer (HTTP ${r.status})`);
      agentInput.value = "";
    } catch (error) {
      line("Not sent", error.message, "failure");
    } finally {
      agentSend.disabled = false;
    }
  });
  return stream;
}
