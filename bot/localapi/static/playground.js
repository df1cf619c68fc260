// The playground page: one person's chats, live, drawn from /api/state; what they do goes to
// /api/act. Plain JavaScript, no build step, nothing fetched from elsewhere.
"use strict";

const view = {
  person: null,     // the id of who we are
  chat: null,       // the id of the open chat
  thread: null,     // the open forum topic (null: General, or a chat without topics)
  state: null,      // the last state the server sent
  toastsSeen: {},   // person id -> how many of their toasts were shown
  replyTo: null,    // the message the next one answers: {id, sender, text}
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "html") node.innerHTML = value;   // sanitised by the server
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// Each run of the playground has its own token, in the page it serves: another site's page
// cannot read it, so it cannot act as anyone here.
const TOKEN = document.querySelector('meta[name="playground-token"]').content;

function ask(url) {
  return fetch(url, { headers: { "X-Playground-Token": TOKEN } });
}

async function act(action) {
  const response = await fetch("/api/act", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Playground-Token": TOKEN },
    body: JSON.stringify({ person: view.person, ...action }),
  });
  if (response.ok) show(await response.json());
}

function currentChat() {
  return view.state && view.state.chats.find((c) => c.id === view.chat);
}

function show(state) {
  const first = view.state === null || view.state.me.id !== state.me.id;
  view.state = state;
  if (!state.chats.some((c) => c.id === view.chat)) {
    view.chat = state.chats[0].id;
    view.thread = null;
  }
  drawPeople();
  drawChats();
  drawChat(first);
  drawToasts(first);
}

function drawPeople() {
  const people = view.state.people.map((p) =>
    el("button", {
      type: "button",
      class: p.id === view.person ? "active" : "",
      "data-person": p.name,
      title: p.language ? `${p.name}'s phone speaks ${p.language}` : p.name,
      onclick: () => switchTo(p.id),
    }, p.name, ...(p.language
      ? [" ", el("span", { class: "language" }, p.language.split("-")[0].toUpperCase())]
      : [])));
  $("people").replaceChildren(...people);
}

function plain(message) {
  if (message.photo) return "🖼 Photo";
  if (message.sticker) return "🙂 Sticker";
  const div = document.createElement("div");
  div.innerHTML = message.html;
  return div.textContent.slice(0, 80);
}

function setReply(message) {
  view.replyTo = message ? { id: message.id } : null;
  $("replying").hidden = !message;
  if (message) {
    const who = message.from_bot ? "fixbot" : (message.sender || "");
    $("replying-to").textContent = "Replying to " + who + ": " + plain(message);
    $("text").focus();
  }
}

// What a Telegram client offers as you type: the bot's "/" menu (from setMyCommands, for
// this chat and person) and its @username.
function suggestions(value) {
  const chat = currentChat();
  if (!chat) return [];
  if (/^\/[a-z0-9_]*$/i.test(value)) {
    const typed = value.slice(1).toLowerCase();
    return chat.commands.filter((c) => c.command.startsWith(typed)).map((c) => ({
      label: "/" + c.command, description: c.description, text: "/" + c.command + " ",
    }));
  }
  const at = value.match(/(^|\s)@([A-Za-z0-9_]*)$/);
  const bot = view.state.bot;
  if (at && bot.toLowerCase().startsWith(at[2].toLowerCase()) && at[2].length < bot.length) {
    const text = value.slice(0, value.length - at[2].length - 1) + "@" + bot + " ";
    return [{ label: "@" + bot, description: "fixbot (bot)", text }];
  }
  return [];
}

function drawSuggestions() {
  const input = $("text");
  const found = suggestions(input.value);
  const box = $("suggestions");
  box.hidden = found.length === 0;
  box.replaceChildren(...found.map((s) => el("button", {
    type: "button",
    role: "option",
    onclick: () => { input.value = s.text; drawSuggestions(); input.focus(); },
  }, el("span", { class: "command" }, s.label), el("span", { class: "description" }, s.description))));
}

function lastWords(chat) {
  const last = chat.messages[chat.messages.length - 1];
  if (!last) return "";
  return (last.sender ? last.sender + ": " : "") + plain(last);
}

function drawChats() {
  const items = view.state.chats.map((chat) => {
    const letter = chat.kind === "private" ? "🤖" : chat.title[0];
    return el("div", {
      class: "chat-item" + (chat.id === view.chat ? " active" : ""),
      "data-chat": chat.title,
      onclick: () => openChat(chat.id),
    },
      el("div", { class: "avatar " + chat.kind }, letter),
      el("div", { class: "chat-text" },
        el("div", { class: "chat-name" }, chat.title),
        el("div", { class: "last" }, lastWords(chat))));
  });
  $("chats").replaceChildren(...items);
}

function openChat(id) {
  view.chat = id;
  view.thread = null;
  setReply(null);
  document.body.classList.add("in-chat");  // on a phone, the chat takes the screen
  drawChats();
  drawChat(true);
}

function drawChat(scrollDown) {
  const chat = currentChat();
  if (!chat) return;
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const topic = chat.topics.find((t) => t.id === view.thread);
  $("chat-title").textContent = chat.title + (topic ? " › " + topic.name : "");
  $("chat-subtitle").textContent = chat.kind === "private"
    ? "@" + view.state.bot + " · bot"
    : chat.members.length + " members: " + chat.members.join(", ");
  const tabs = chat.topics.length ? [{ id: null, name: "General" }, ...chat.topics] : [];
  $("topics").replaceChildren(...tabs.map((t) => el("button", {
    type: "button",
    class: t.id === view.thread ? "active" : "",
    "data-topic": t.name,
    onclick: () => { view.thread = t.id; drawChat(true); },
  }, "# " + t.name)));
  const shown = chat.messages.filter((m) => !chat.topics.length || m.thread === view.thread);
  const bubbles = shown.filter((m) => m.html || m.photo || m.sticker || m.document || m.buttons.length)
    .map((m) => drawMessage(chat, m));
  box.replaceChildren(...(bubbles.length ? bubbles
    : [el("div", { class: "empty" }, chat.kind === "private"
      ? "Say hello, or tell fixbot what's wrong with your iPhone." : "No messages here yet.")]));
  if (scrollDown || atBottom) box.scrollTop = box.scrollHeight;
}

function drawMessage(chat, m) {
  const mine = !m.from_bot && m.sender === view.state.me.name;
  const sender = m.from_bot ? (chat.kind === "private" ? null : "fixbot")
    : (mine ? null : m.sender);
  const media = m.photo ? el("div", { class: "media" }, "🖼")
    : m.sticker ? el("div", { class: "sticker" }, "🐱")
    : m.document ? el("div", { class: "media" }, "📄 " + m.document) : null;
  const body = m.html ? el("div", { class: "text", html: m.html })
    : m.caption ? el("div", { class: "text" }, m.caption) : null;
  const replied = m.reply_to ? chat.messages.find((r) => r.id === m.reply_to) : null;
  const quote = replied ? el("div", { class: "reply-quote" },
    el("b", {}, replied.from_bot ? "fixbot" : (replied.sender || "")), " ", plain(replied))
    : null;
  const reply = el("button", {
    type: "button",
    class: "reply-to",
    title: "Reply",
    "aria-label": "Reply",
    onclick: () => setReply(m),
  }, "↩ Reply");
  const bubble = el("div", { class: "bubble" },
    sender ? el("div", { class: "sender" }, sender) : null,
    quote, media, body,
    el("div", { class: "meta" }, reply, m.edited ? "edited" : ""));
  const keyboard = m.buttons.length ? el("div", { class: "keyboard" },
    ...m.buttons.map((row) => el("div", { class: "row" },
      ...row.map((b) => el("button", {
        type: "button",
        class: b.url ? "link" : "",
        onclick: () => press(chat, m, b),
      }, b.text))))) : null;
  return el("div", {
    class: "message" + (mine ? " mine" : ""),
    "data-message": m.id,
    "data-from": m.from_bot ? "bot" : (m.sender || ""),
  }, bubble, keyboard);
}

async function press(chat, message, button) {
  if (button.url) {
    const link = new URL(button.url);
    const bot = view.state.bot.toLowerCase();
    if (link.hostname === "t.me" && link.pathname.slice(1).toLowerCase() === bot) {
      // A deep link to the bot: its private chat opens and /start goes with the payload.
      view.chat = view.state.chats.find((c) => c.kind === "private").id;
      view.thread = null;
      await act({ kind: "start", chat: view.chat, payload: link.searchParams.get("start") || "" });
    } else {
      window.open(button.url, "_blank", "noopener");
    }
    return;
  }
  await act({ kind: "press", chat: chat.id, message: message.id, data: button.data });
}

function drawToasts(first) {
  const toasts = view.state.toasts;
  const seen = view.toastsSeen[view.person];
  view.toastsSeen[view.person] = toasts.length;
  if (first || seen === undefined || toasts.length <= seen) return;
  const box = $("toast");
  box.textContent = toasts[toasts.length - 1];
  box.hidden = false;
  clearTimeout(drawToasts.timer);
  drawToasts.timer = setTimeout(() => { box.hidden = true; }, 3500);
}

function switchTo(person) {
  view.person = person;
  view.chat = null;
  view.state = null;
  const url = new URL(location.href);
  url.searchParams.set("as", person);
  history.replaceState(null, "", url);
  refresh();
}

async function refresh() {
  const response = await ask(`/api/state?person=${view.person}`);
  if (response.ok) show(await response.json());
}

async function listen() {
  // A long poll: the server answers when something changed, or after a while with no news.
  for (;;) {
    try {
      const since = view.state ? view.state.version : -1;
      const person = view.person;
      const response = await ask(`/api/state?person=${person}&since=${since}`);
      if (response.ok && person === view.person) show(await response.json());
      else if (!response.ok) await new Promise((r) => setTimeout(r, 1000));
    } catch (error) {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("text");
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  const replyTo = view.replyTo ? view.replyTo.id : null;
  setReply(null);
  drawSuggestions();
  await act({ kind: "text", chat: view.chat, thread: view.thread, text, reply_to: replyTo });
});
$("text").addEventListener("input", drawSuggestions);
$("text").addEventListener("keydown", (event) => {
  const first = $("suggestions").querySelector("button");
  if (event.key === "Tab" && first) { event.preventDefault(); first.click(); }
  if (event.key === "Escape") { setReply(null); $("suggestions").hidden = true; }
});
$("cancel-reply").addEventListener("click", () => setReply(null));
$("back").addEventListener("click", () => document.body.classList.remove("in-chat"));
$("send-sticker").addEventListener("click",
  () => act({ kind: "sticker", chat: view.chat, thread: view.thread }));
$("send-photo").addEventListener("click",
  () => act({ kind: "photo", chat: view.chat, thread: view.thread }));

(async function start() {
  const response = await ask("/api/state?person=first");
  const asked = new URL(location.href).searchParams.get("as");
  if (response.ok) {
    const state = await response.json();
    view.person = asked && state.people.some((p) => String(p.id) === asked)
      ? Number(asked) : state.me.id;
    if (view.person === state.me.id) show(state); else await refresh();
  }
  listen();
})();
