// The chat page: asks /v1/chat/completions with stream: true and renders the answer as it
// arrives. Every piece of retrieved or server text goes in through textContent or a text
// node, never innerHTML: a brief that contains <script> shows it as text.
"use strict";

(() => {
  const form = document.getElementById("ask");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const conversation = document.getElementById("conversation");
  const statusLine = document.getElementById("status");
  const keyBox = document.getElementById("key-box");
  const keyInput = document.getElementById("api-key");
  const KEY_STORE = "brief-rag-api-key";
  const FOOTER = "\n\n**Sources**";
  // A backslash-escaped character (the server escapes Markdown in quotes), or a citation.
  const TOKEN = /\\([\\`*_[\]<>])|\[(\d{1,3})\]/g;
  const history = [];
  let turns = 0;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setStatus(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("error", Boolean(isError));
  }

  function safeUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch {
      return null;
    }
  }

  function headers() {
    const result = { "Content-Type": "application/json" };
    const key = keyInput.value.trim();
    if (key) result.Authorization = "Bearer " + key;
    return result;
  }

  function askForKey(message) {
    keyBox.hidden = false;
    setStatus(message, true);
    keyInput.focus();
  }

  keyInput.value = sessionStorage.getItem(KEY_STORE) || "";
  keyInput.addEventListener("change", () => {
    sessionStorage.setItem(KEY_STORE, keyInput.value.trim());
    setStatus("");
  });

  const briefBox = document.getElementById("brief-box");
  const briefSelect = document.getElementById("brief");

  // Offer the briefs to choose from (one model per brief) when there are several.
  function showBriefs(models) {
    const briefs = models.filter((m) => m.id.startsWith("brief-rag/"));
    if (briefs.length < 2) return;
    for (const model of briefs) {
      const option = document.createElement("option");
      option.value = model.id;
      option.textContent = model.name || model.id; // text, never markup
      briefSelect.appendChild(option);
    }
    briefBox.hidden = false;
  }

  // Find out up front whether this server wants a key, and which briefs it holds.
  fetch("v1/models", { headers: headers() })
    .then((response) => {
      if (response.status === 401) {
        askForKey("This server needs an API key; enter it below.");
        return null;
      }
      return response.ok ? response.json() : null;
    })
    .then((body) => {
      if (body && Array.isArray(body.data)) showBriefs(body.data);
    })
    .catch(() => setStatus("The server cannot be reached.", true));

  function citation(turn, number) {
    const link = el("a", "cite", "[" + number + "]");
    link.href = "#t" + turn + "-s" + number;
    link.dataset.source = number;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const card = document.getElementById("t" + turn + "-s" + number);
      if (!card) return;
      card.scrollIntoView({ behavior: "smooth", block: "nearest" });
      card.classList.add("flash");
      setTimeout(() => card.classList.remove("flash"), 1500);
    });
    return link;
  }

  // The answer text up to the Markdown Sources footer (the passages are shown as cards),
  // with escapes undone and each [n] made a link to passage n.
  function renderAnswer(target, raw, turn) {
    const cut = raw.indexOf(FOOTER);
    const body = cut >= 0 ? raw.slice(0, cut) : raw;
    const nodes = [];
    let text = "";
    let last = 0;
    for (const match of body.matchAll(TOKEN)) {
      text += body.slice(last, match.index);
      if (match[1] !== undefined) {
        text += match[1];
      } else {
        nodes.push(document.createTextNode(text), citation(turn, match[2]));
        text = "";
      }
      last = match.index + match[0].length;
    }
    nodes.push(document.createTextNode(text + body.slice(last)));
    target.replaceChildren(...nodes);
    return body;
  }

  function footnoteItem(note) {
    const item = el("li", "footnote");
    item.append(el("span", "fn-number", "Footnote " + note.number + ": "));
    item.append(el("span", "fn-citation", note.citation || ""));
    const href = note.url ? safeUrl(note.url) : null;
    if (href) {
      const link = el("a", "fn-link", note.url);
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      item.append(" ", link);
    }
    return item;
  }

  function renderSource(list, turn, data) {
    const meta = (data.metadata && data.metadata[0]) || {};
    const number = meta.citation || list.childElementCount + 1;
    const card = el("li", "source");
    card.id = "t" + turn + "-s" + number;
    const head = el("div", "source-head");
    head.append(el("span", "num", "[" + number + "]"));
    head.append(el("span", "path", ((meta.section && meta.section.path) || []).join(" › ")));
    if (meta.document && meta.document.title) head.append(el("span", "doc", meta.document.title));
    // The document opens with a heading for Open WebUI's source window; the card has its own.
    const text = ((data.document && data.document[0]) || "").slice(meta.text_start || 0);
    card.append(head, el("blockquote", "passage", text));
    const notes = el("ul", "footnotes");
    for (const note of meta.footnotes || []) notes.append(footnoteItem(note));
    if (notes.childElementCount) card.append(notes);
    list.append(card);
  }

  async function problem(response) {
    if (response.status === 401) {
      askForKey("Missing or wrong API key; enter it below and ask again.");
      return "The server needs an API key.";
    }
    try {
      const body = await response.json();
      if (typeof body.detail === "string") return body.detail;
    } catch {
      // not JSON: fall through to the status line
    }
    return "The server answered " + response.status + " " + response.statusText + ".";
  }

  // Calls onEvent for each JSON payload of a Server-Sent Events stream.
  async function readEvents(response, onEvent) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data:")) continue;
          const payload = line.slice(5).trim();
          if (payload && payload !== "[DONE]") onEvent(JSON.parse(payload));
        }
      }
    }
  }

  function newTurn(question) {
    const turn = ++turns;
    const block = el("article", "turn");
    block.dataset.state = "asking";
    const answer = el("p", "answer");
    answer.setAttribute("aria-busy", "true");
    const title = el("h2", "sources-title", "Passages behind this answer");
    title.hidden = true;
    const sources = el("ol", "sources");
    block.append(el("p", "question", question), answer, title, sources);
    conversation.append(block);
    block.scrollIntoView({ behavior: "smooth", block: "end" });
    return { turn, block, answer, title, sources };
  }

  async function ask(question) {
    const view = newTurn(question);
    const messages = history.concat([{ role: "user", content: question }]);
    let raw = "";
    let body = "";
    setStatus("Searching the briefs…");
    try {
      const response = await fetch("v1/chat/completions", {
        method: "POST",
        headers: headers(),
        body: JSON.stringify({ model: briefSelect.value, stream: true, messages }),
      });
      if (!response.ok) throw new Error(await problem(response));
      await readEvents(response, (chunk) => {
        if (chunk.error) throw new Error(chunk.error.message || "The server reported an error.");
        if (chunk.event && chunk.event.type === "source") {
          renderSource(view.sources, view.turn, chunk.event.data);
          view.title.hidden = false;
        }
        const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
        if (delta && delta.content) {
          raw += delta.content;
          body = renderAnswer(view.answer, raw, view.turn);
          setStatus("Answering…");
        }
      });
      // Earlier turns let the server resolve follow-ups; the footer is not needed for that.
      history.push({ role: "user", content: question }, { role: "assistant", content: body });
      view.block.dataset.state = "done";
      setStatus("");
    } catch (error) {
      view.block.dataset.state = "error";
      view.answer.replaceChildren(el("span", "error", String(error.message || error)));
      if (!statusLine.classList.contains("error")) setStatus("");
    } finally {
      view.answer.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    send.disabled = true;
    try {
      await ask(question);
    } finally {
      send.disabled = false;
      input.focus();
    }
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
