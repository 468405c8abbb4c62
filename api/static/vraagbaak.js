/* Vraagbaak web page: ask (POST /v1/ask as Server-Sent Events, read with fetch), show the answer as it
   streams in with numbered citation links, open a cited passage in its document (GET /v1/passages/{id},
   /v1/documents/{id}), and send feedback (POST /v1/feedback). Plain JavaScript, no libraries. */
(function () {
  "use strict";

  var STRINGS = window.VRAAGBAAK_STRINGS;  // api/static/strings.js

  var MAX_QUESTION = 2000;
  var MAX_COMMENT = 2000;
  var CONTEXT_CHARS = 240;
  var SNIPPET_CHARS = 260;

  var $ = function (id) { return document.getElementById(id); };
  var state = {
    lang: "nl",
    controller: null,
    question: "",
    text: "",
    citations: [],
    answer: null,        // the "done" payload
    deltas: 0,
    phase: "idle",       // idle | searching | streaming | done | error
    error: null,
    opener: null,
    passage: null,       // {n, citation, detail, whole}
    feedbackSent: false,
    messages: {}         // element id -> strings.js key of the message shown there (null: none)
  };

  // ------------------------------------------------------------------ language

  var LANGS = (window.VRAAGBAAK_LANGUAGES || [["nl"], ["en"]]).map(function (l) { return l[0]; });
  var RTL = window.VRAAGBAAK_RTL || [];
  var LOCALES = { nl: "nl-NL", en: "en-GB", tr: "tr-TR", ar: "ar", pl: "pl-PL", uk: "uk-UA" };

  function known(lang) { return LANGS.indexOf(lang) >= 0; }
  function direction(lang) { return RTL.indexOf(lang) >= 0 ? "rtl" : "ltr"; }

  /* A fixed string in the page's language, or in ``lang`` (the answer's). */
  function t(key, values, lang) {
    var strings = STRINGS[lang || state.lang];
    var text = strings && strings[key];
    if (text === undefined) text = STRINGS.nl[key];
    if (text === undefined) return key;
    if (values) {
      text = text.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
    }
    return text;
  }

  function initialLanguage() {
    var asked = new URLSearchParams(window.location.search).get("lang");
    if (known(asked)) return asked;
    try {
      var saved = window.localStorage.getItem("vraagbaak-lang");
      if (known(saved)) return saved;
    } catch (e) { /* storage may be off */ }
    // No choice made yet: the browser's first language the page has, else Dutch.
    var wanted = (navigator.languages || [navigator.language || ""]).map(function (l) { return String(l).slice(0, 2).toLowerCase(); });
    for (var i = 0; i < wanted.length; i++) if (known(wanted[i])) return wanted[i];
    return "nl";
  }

  function applyLanguage(lang) {
    state.lang = lang;
    document.documentElement.lang = lang;
    document.documentElement.dir = direction(lang);
    document.title = t("page-title");
    document.querySelector("meta[name=description]").setAttribute("content", t("description"));
    var nodes = document.querySelectorAll("[data-i18n]");
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute("data-i18n"));
    for (var id in state.messages) showMessage(id, state.messages[id]);
    $("lang-switch").value = lang;
    renderExamples();
    renderCounter();
    renderStatus();
    renderResult();
    renderDocuments();
    if (state.passage && $("passage-dialog").open) renderPassage();
  }

  // ------------------------------------------------------------------ small DOM helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var name in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, name) || attrs[name] === null || attrs[name] === undefined) continue;
        if (name === "text") node.textContent = attrs[name];
        else if (name === "className") node.className = attrs[name];
        else node.setAttribute(name, attrs[name]);
      }
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  /* The documents' own words (titles, types, authors, sections, references) are Dutch in any page
     language: marked so, for screen readers, and set apart left to right in an Arabic page. */
  function dutch(text) { return el("span", { lang: "nl", dir: "ltr", text: text }); }

  /* ``parts`` (strings and nodes, empty ones left out) with " · " between them. */
  function joined(parts) {
    var out = [];
    parts.filter(Boolean).forEach(function (part) { if (out.length) out.push(" · "); out.push(part); });
    return out;
  }

  /* A message in element ``id`` (hidden when ``key`` is null), kept by its key: a change of language
     rewrites it. */
  function showMessage(id, key) {
    state.messages[id] = key || null;
    $(id).textContent = key ? t(key, { max: MAX_QUESTION }) : "";
    $(id).hidden = !key;
  }

  function formatDate(iso) {
    if (!iso) return t("date-unknown");
    var parts = String(iso).split("-");
    var locale = LOCALES[state.lang] || "nl-NL";
    try {
      if (parts.length === 3) {
        return new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })
          .format(new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2])));
      }
      if (parts.length === 2) {
        return new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" })
          .format(new Date(Date.UTC(+parts[0], +parts[1] - 1, 1)));
      }
    } catch (e) { /* fall through */ }
    return String(iso);
  }

  /* A document's date; one known only as a lower bound (rag/ingest/dates.py) as "March 2025 or later". */
  function formatDocDate(doc) {
    if (doc && doc.date_source === "derived-bound" && doc.date_bound) {
      return t("date-or-later", { date: formatDate(doc.date_bound) });
    }
    return formatDate(doc && doc.date);
  }

  function isKamerstuk(reference) { return /^kamerstuk/i.test(reference || ""); }

  function safeUrl(url) { return /^https?:\/\//i.test(url || "") ? url : null; }

  function shorten(text, max, fromEnd) {
    text = (text || "").replace(/\s+/g, " ").trim();
    if (text.length <= max) return text;
    if (fromEnd) {
      var tail = text.slice(text.length - max);
      var space = tail.indexOf(" ");
      return "… " + (space > 0 && space < 40 ? tail.slice(space + 1) : tail);
    }
    var head = text.slice(0, max);
    var cut = head.lastIndexOf(" ");
    return (cut > max - 40 ? head.slice(0, cut) : head) + " …";
  }

  function citationTitle(c) { return (c.document && c.document.title) || c.citation || ""; }

  function citationMeta(c) {
    var doc = c.document || {};
    var page = pages(c);
    return joined([(doc.date || doc.date_bound) && formatDocDate(doc), doc.reference && dutch(doc.reference), whereInDocument(c),
                   page && t("page-n", { n: page })]);
  }

  /* A PDF passage's page ("12", or "12–13" across a page break); null for other formats. */
  function pages(c) {
    if (!c || c.page == null) return null;
    return c.page_end != null && c.page_end !== c.page ? c.page + "–" + c.page_end : String(c.page);
  }

  /* "question 12" in the page's language, else the section heading (the document's Dutch), else null. */
  function whereInDocument(c) {
    var numbers = c.question_numbers || [];
    if (numbers.length === 1) return t("question-n", { n: numbers[0] });
    if (numbers.length > 1) return t("questions-n", { n: numbers.join(", ") });
    return c.section ? dutch(c.section) : null;
  }

  // ------------------------------------------------------------------ examples and documents

  function renderExamples() {
    var list = $("example-list");
    clear(list);
    t("examplesList").forEach(function (question) {
      var button = el("button", { type: "button", className: "example", text: question });
      button.addEventListener("click", function () {
        $("vraag").value = question;
        ask(question);
      });
      list.appendChild(el("li", null, [button]));
    });
  }

  var documents = null;

  function loadDocuments(attempt) {
    fetch("/v1/documents", { headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (body) { documents = body.documents || []; renderDocuments(); })
      .catch(function () { if ((attempt || 0) < 20) window.setTimeout(function () { loadDocuments((attempt || 0) + 1); }, 3000); });
  }

  function renderDocuments() {
    var list = $("documents");
    clear(list);
    (documents || []).forEach(function (doc) {
      // A Dutch entry; only its date is written in the page's language.
      var date = doc.date || doc.date_bound ? el("span", { lang: state.lang, dir: direction(state.lang), text: formatDocDate(doc) }) : null;
      var url = safeUrl(doc.url);
      var title = url ? el("a", { href: url, rel: "noopener", text: doc.title }) : el("span", { text: doc.title });
      list.appendChild(el("li", { lang: "nl" }, [title, el("span", { className: "doc-line" }, joined([doc.doc_type, date, doc.reference]))]));
    });
  }

  // ------------------------------------------------------------------ asking

  /* The message under the question field: a strings.js key, or null for none. */
  function setFieldError(key) {
    var field = $("vraag");
    showMessage("vraag-error", key);
    if (key) {
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", "vraag-error vraag-hint");
    } else {
      field.removeAttribute("aria-invalid");
      field.setAttribute("aria-describedby", "vraag-hint");
    }
  }

  /* Only spaces, control or invisible characters: what the server calls an empty question. */
  function isBlank(text) { return !/[^\s\p{Cc}\p{Cf}]/u.test(text); }

  function onSubmit(event) {
    event.preventDefault();
    var question = $("vraag").value.trim();
    if (isBlank(question)) {
      // The answer on screen belongs to the previous question, not to this empty one: it goes.
      startOver(null, "idle");
      setFieldError("empty-question");
      $("vraag").focus();
      return;
    }
    if (question.length > MAX_QUESTION) { setFieldError("too-long"); $("vraag").focus(); return; }
    ask(question);
  }

  /* Forget the answer on screen (stopping one still coming in) and show ``phase``: "searching" for
     ``question``, or "idle", the page as it was before any question. */
  function startOver(question, phase) {
    if (state.controller) state.controller.abort();
    state.controller = null;
    state.question = question || "";
    state.text = "";
    state.citations = [];
    state.answer = null;
    state.deltas = 0;
    state.error = null;
    state.feedbackSent = false;
    state.revealed = false;
    state.scrolledToAnswer = false;
    state.phase = phase;
    $("examples").hidden = phase !== "idle";
    $("ask-button").disabled = phase !== "idle";
    resetFeedback();
    renderStatus();
    renderResult();
  }

  function ask(question) {
    setFieldError(null);
    startOver(question, "searching");
    var controller = new AbortController();
    state.controller = controller;

    fetch("/v1/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ question: question, stream: true }),
      signal: controller.signal
    }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return null; }).then(function (body) {
          fail(response.status, body && body.error);
        });
      }
      return readEvents(response, controller, onEvent);
    }).catch(function (error) {
      if (controller.signal.aborted) return;
      fail(0, null, error);
    }).then(function () {
      if (state.controller === controller) {
        state.controller = null;
        $("ask-button").disabled = false;
        if (state.phase === "searching" || state.phase === "streaming") fail(0, null);  // the stream ended without "done"
      }
    });
  }

  /* Server-Sent Events over fetch: blocks separated by a blank line, "event:" and "data:" fields. */
  function readEvents(response, controller, handle) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder("utf-8");
    var buffer = "";

    function dispatch(block) {
      var name = "message", data = [];
      block.split("\n").forEach(function (line) {
        if (!line || line.charAt(0) === ":") return;
        var colon = line.indexOf(":");
        var field = colon < 0 ? line : line.slice(0, colon);
        var value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.charAt(0) === " ") value = value.slice(1);
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      });
      if (data.length && state.controller === controller) handle(name, JSON.parse(data.join("\n")));
    }

    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          buffer += decoder.decode();
          if (buffer.trim()) dispatch(buffer.replace(/\r\n/g, "\n"));
          return;
        }
        buffer = (buffer + decoder.decode(chunk.value, { stream: true })).replace(/\r\n/g, "\n");
        var cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          var block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          dispatch(block);
        }
        return pump();
      });
    }
    return pump();
  }

  /* Once per question: bring the answer up when it starts in the lower part of the window. */
  function revealResult() {
    if (state.revealed) return;
    state.revealed = true;
    var title = $("answer-title");
    var top = title.getBoundingClientRect().top;
    if (top > window.innerHeight * 0.4) {
      var smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      title.scrollIntoView({ block: "start", behavior: smooth ? "smooth" : "auto" });
      state.scrolledToAnswer = true;
    }
  }

  /* The status line above the answer may wrap onto another line when the answer is done; keep the
     answer's title where revealResult put it, unless the reader has scrolled away since. */
  function keepResultInPlace() {
    if (!state.scrolledToAnswer) return;
    var top = $("answer-title").getBoundingClientRect().top;
    if (Math.abs(top) >= 2 && Math.abs(top) < 100) $("answer-title").scrollIntoView({ block: "start" });
  }

  function onEvent(name, data) {
    if (name === "sources") {
      state.citations = data.citations || [];
      state.phase = "streaming";
    } else if (name === "delta") {
      state.text += data.text || "";
      state.deltas += 1;
      state.phase = "streaming";
    } else if (name === "done") {
      state.answer = data;
      state.text = data.answer;
      state.citations = data.citations || state.citations;
      state.phase = "done";
    } else if (name === "error") {
      fail(0, data.error);
      return;
    }
    renderStatus();
    renderResult();
    if (name === "delta" || name === "done") revealResult();
    if (name === "done") setTimeout(keepResultInPlace, 600);  // after a smooth scroll has ended
  }

  function fail(status, error, exception) {
    var key = "failed";
    if (exception && !status) key = "network";
    if (status === 503) key = "not-ready";
    if (status === 401) key = "needs-key";
    if (error && error.code === "empty_question") key = "empty-question";
    if (error && error.code === "question_too_long") key = "too-long";
    state.phase = "error";
    state.error = { key: key, code: error && error.code, id: error && error.request_id };
    renderStatus();
    renderResult();
  }

  // ------------------------------------------------------------------ rendering the answer

  function renderStatus() {
    var status = $("status"), box = $("error");
    status.classList.toggle("busy", state.phase === "searching" || state.phase === "streaming");
    if (state.phase === "searching") status.textContent = t("searching");
    else if (state.phase === "streaming") status.textContent = t("writing");
    else if (state.phase === "done") {
      var count = citedNumbers().length;
      status.textContent = state.answer.abstained ? t("done-abstained") : count === 1 ? t("done-status-1") : t("done-status", { n: count });
    } else status.textContent = "";

    clear(box);
    if (state.phase === "error") {
      box.appendChild(el("p", { text: t(state.error.key, { max: MAX_QUESTION }) }));
      if (state.error.code) {
        box.appendChild(el("p", { className: "error-code", text: t("error-code", { code: state.error.code, id: state.error.id || "–" }) }));
      }
      box.hidden = false;
    } else box.hidden = true;
  }

  /* The numbers the answer text cites, in order of first use. */
  function citedNumbers() {
    var seen = [];
    var re = /\[(\d+)\]/g, m;
    while ((m = re.exec(state.text)) !== null) {
      var n = +m[1];
      if (seen.indexOf(n) < 0 && n >= 1 && n <= state.citations.length) seen.push(n);
    }
    return seen;
  }

  function citationLink(n) {
    var c = state.citations[n - 1];
    var link = el("a", {
      href: "#bron-" + n, className: "cite", "data-n": String(n),
      "aria-label": t("cite-label", { n: n, title: c ? citationTitle(c) : "" })
    }, ["[" + n + "]"]);
    return link;
  }

  function renderAnswerText(container, text) {
    clear(container);
    var re = /\[(\d+)\]/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      appendDated(container, text.slice(last, m.index));
      var n = +m[1];
      container.appendChild(n >= 1 && n <= state.citations.length ? citationLink(n) : document.createTextNode(m[0]));
      last = m.index + m[0].length;
    }
    appendDated(container, text.slice(last));
  }

  /* Text with the answer's date labels ("Brief van 21 november 2024", "Eerder, brief van december 2013": the
     citations' date_label, in the question's language) set apart, in their own language and direction. */
  function appendDated(container, text) {
    var labels = [];
    state.citations.forEach(function (c) {
      if (c && c.date_label && labels.indexOf(c.date_label) < 0) labels.push(c.date_label);
    });
    if (!labels.length || !text) { container.appendChild(document.createTextNode(text)); return; }
    labels.sort(function (a, b) { return b.length - a.length; });
    var lang = (state.answer && state.answer.language) || state.lang;
    var re = new RegExp(labels.map(function (l) { return l.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }).join("|"), "g");
    var at = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > at) container.appendChild(document.createTextNode(text.slice(at, m.index)));
      container.appendChild(el("span", { className: "date-label", lang: lang, dir: direction(lang), text: m[0] }));
      at = m.index + m[0].length;
    }
    if (at < text.length) container.appendChild(document.createTextNode(text.slice(at)));
  }

  /* Plain answers: the exact source sentences behind the rewritten ones, each once, with its [n]. */
  function renderQuotes(sentences) {
    var list = $("quotes"), seen = {};
    clear(list);
    sentences.forEach(function (s) {
      if (!s.source || seen[s.source]) return;
      seen[s.source] = true;
      var li = el("li");
      renderAnswerText(li, s.source + " " + (s.citations || []).map(function (n) { return "[" + n + "]"; }).join(""));
      list.appendChild(li);
    });
    $("quotes-box").hidden = !list.firstChild;
  }

  function sourceItem(n) {
    var c = state.citations[n - 1];
    var link = el("a", { href: "#bron-" + n, className: "passage-link", "data-n": String(n), lang: "nl", text: citationTitle(c) });
    return el("li", { id: "bron-" + n, className: "source" }, [
      el("span", { className: "source-n", "aria-hidden": "true", text: String(n) }),
      el("div", { className: "source-body" }, [
        el("p", { className: "source-title" }, [el("span", { className: "visually-hidden", text: t("source", { n: n }) + ": " }), link]),
        el("p", { className: "source-meta" }, citationMeta(c)),
        el("p", { className: "source-snippet", lang: "nl", text: snippet(c.text, n) })
      ])
    ]);
  }

  /* What a source says: the first sentence the answer quotes from it, else its beginning. */
  function snippet(text, n) {
    var ranges = citedRanges(text, n);
    var start = ranges[0][0];
    if (start === 0 || ranges[0][1] - start >= text.length) return shorten(text, SNIPPET_CHARS);
    return "… " + shorten(text.slice(start), SNIPPET_CHARS);
  }

  /* "Not answered", where to ask and what the passages below are: in the language of the question
     (the referral's texts), right to left for Arabic, whatever the page's language. */
  function renderNotice(done) {
    var referral = done.referral || null;
    var lang = referral && STRINGS[referral.language] ? referral.language : (STRINGS[done.language] ? done.language : state.lang);
    var box = $("abstain");
    box.lang = lang;
    box.dir = direction(lang);
    $("abstain-title").textContent = t("abstain-title", null, lang);
    $("abstain-text").textContent = t("abstain-text", null, lang);
    var list = $("referral-channels");
    clear(list);
    $("referral").hidden = !referral;
    if (!referral) return;
    $("referral").setAttribute("data-topic", referral.topic || "");
    $("referral-lead").textContent = t(referral.topic ? "refer-ask" : "refer-general", null, lang);
    (referral.channels || []).forEach(function (c) {
      var url = safeUrl(c.url);
      var name = url ? el("a", { href: url, rel: "noopener", className: "referral-link", text: c.name }) : el("strong", { text: c.name });
      list.appendChild(el("li", null, [name, " – " + c.does]));
    });
  }

  function renderResult() {
    var result = $("result");
    var answerBox = $("answer");
    if (state.phase === "idle" || (state.phase === "error" && !state.text)) {
      result.hidden = true;
      result.removeAttribute("data-state");
      // Nothing of an earlier answer stays behind, not even hidden.
      ["asked", "answer", "answer-note", "quotes", "sources", "other-sources"].forEach(function (id) { clear($(id)); });
      return;
    }
    result.hidden = false;
    result.setAttribute("data-state", state.phase);
    result.setAttribute("data-deltas", String(state.deltas));
    // The question as typed, set apart: its own direction, whatever the page's ("Your question: {q}").
    var asked = t("asked").split("{q}");
    clear($("asked"));
    $("asked").appendChild(el("span", null, [asked[0], el("bdi", { text: state.question }), asked.slice(1).join("")]));

    var done = state.phase === "done" ? state.answer : null;
    var abstained = !!(done && done.abstained);
    $("abstain").hidden = !abstained;
    if (abstained) renderNotice(done);
    result.classList.toggle("is-abstained", abstained);
    answerBox.hidden = abstained;  // the notice above says it, in the page's language
    answerBox.setAttribute("aria-busy", state.phase === "searching" || state.phase === "streaming" ? "true" : "false");
    if (done) {
      // Extractive answers quote the Dutch documents; the other answers are in the question's language.
      answerBox.lang = done.mode_used === "extractive" && !abstained ? "nl" : (done.language || state.lang);
    } else answerBox.removeAttribute("lang");
    renderAnswerText(answerBox, state.text);
    // An own-case question answered at policy level: where to ask about one's own situation, in the
    // asker's language, on a line of its own (not one of the answer's cited sentences).
    var personal = done && !abstained ? done.personal_referral : null;
    var personalBox = $("personal-referral");
    personalBox.hidden = !personal;
    personalBox.textContent = personal ? personal.text : "";
    if (personal) {
      personalBox.lang = personal.language;
      personalBox.dir = direction(personal.language);
    }

    var note = "";
    if (done && !abstained) {
      note = done.mode_used === "generative" ? t("note-generative") : done.mode_used === "plain" ? t("note-plain")
        : t("note-extractive") + (state.lang !== "nl" ? " " + t("note-extractive-en") : "");
    }
    if (done && !abstained && done.as_of) note += (note ? " " : "") + t("as-of", { date: formatDate(done.as_of) });
    $("answer-note").textContent = note;
    renderQuotes(done && !abstained && done.mode_used === "plain" ? done.sentences || [] : []);

    // Sources: the cited ones by number; the rest folded away (or, when abstaining, all as the closest passages).
    var cited = citedNumbers().sort(function (a, b) { return a - b; });  // the list goes by number
    var all = state.citations.map(function (c, i) { return i + 1; });
    var main = done ? (abstained ? all : cited) : all;
    var rest = done && !abstained ? all.filter(function (n) { return cited.indexOf(n) < 0; }) : [];
    $("sources-title").textContent = !done ? t("sources-found") : abstained ? t("sources-closest") : t("sources");
    $("sources-title").hidden = main.length === 0;
    var list = $("sources");
    clear(list);
    main.forEach(function (n) { list.appendChild(sourceItem(n)); });
    var more = $("more-sources"), others = $("other-sources");
    clear(others);
    rest.forEach(function (n) { others.appendChild(sourceItem(n)); });
    more.hidden = rest.length === 0;
    $("more-sources-summary").textContent = t("more-sources", { n: rest.length });

    $("feedback-form").hidden = !done || state.feedbackSent;
    $("fb-thanks").hidden = !state.feedbackSent;
  }

  // ------------------------------------------------------------------ the passage dialog

  function openPassage(n, opener) {
    var c = state.citations[n - 1];
    if (!c) return;
    state.opener = opener || document.activeElement;
    state.passage = { n: n, citation: c, detail: null, whole: null, failed: false, showWhole: false };
    var dialog = $("passage-dialog");
    renderPassage();
    if (!dialog.open) dialog.showModal();
    $("passage-title").focus();
    fetch("/v1/passages/" + encodeURIComponent(c.id), { headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (detail) {
        if (state.passage && state.passage.citation === c) {
          state.passage.detail = detail;
          renderPassage();
          revealHighlight();
        }
      })
      .catch(function () {
        if (state.passage && state.passage.citation === c) { state.passage.failed = true; renderPassage(); }
      });
  }

  function closePassage() {
    var dialog = $("passage-dialog");
    if (dialog.open) dialog.close();
  }

  function onDialogClosed() {
    var opener = state.opener;
    state.passage = null;
    state.opener = null;
    if (opener && document.contains(opener)) opener.focus();
  }

  /* The answer sentences that cite source n, found in the passage text (whitespace may differ);
     none found: the whole passage is the cited span. */
  function citedRanges(text, n) {
    var ranges = [];
    var sentences = (state.answer && !state.answer.abstained && state.answer.sentences) || [];
    sentences.forEach(function (s) {
      if ((s.citations || []).indexOf(n) < 0) return;
      var core = (s.source || s.text || "").replace(/(\s*\[\d+\])+\s*$/, "").trim();
      if (core.length < 12) return;
      var pattern = core.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\s+/g, "\\s+");
      var m = new RegExp(pattern).exec(text);
      if (m) ranges.push([m.index, m.index + m[0].length]);
    });
    ranges.sort(function (a, b) { return a[0] - b[0]; });
    var merged = [];
    ranges.forEach(function (r) {
      var lastRange = merged[merged.length - 1];
      if (lastRange && r[0] <= lastRange[1]) lastRange[1] = Math.max(lastRange[1], r[1]);
      else merged.push(r.slice());
    });
    return merged.length ? merged : [[0, text.length]];
  }

  function highlighted(text, ranges) {
    var p = el("p");
    var at = 0;
    var whole = ranges.length === 1 && ranges[0][0] === 0 && ranges[0][1] >= text.length;
    ranges.forEach(function (r) {
      if (r[0] > at) p.appendChild(document.createTextNode(text.slice(at, r[0])));
      p.appendChild(el("mark", { className: whole ? "cited-span whole" : "cited-span", text: text.slice(r[0], r[1]) }));
      at = r[1];
    });
    if (at < text.length) p.appendChild(document.createTextNode(text.slice(at)));
    return p;
  }

  function citedBlock(p, n) {
    // A passage shown because nothing answered the question is framed, not highlighted: nothing cites it.
    var closest = !!(state.answer && state.answer.abstained);
    var label = closest ? t("closest-passage") : t("cited-passage") + " [" + n + "]";
    return el("div", { className: closest ? "cited closest" : "cited", id: "cited-passage" }, [
      el("span", { className: "cited-label", lang: state.lang, text: label }),
      closest ? el("p", { text: p.text }) : highlighted(p.text, citedRanges(p.text, n))
    ]);
  }

  function metaRow(list, term, value) {
    if (!value) return;
    list.appendChild(el("dt", { text: term }));
    list.appendChild(typeof value === "string" ? el("dd", { text: value }) : el("dd", null, [value]));
  }

  function renderPassage() {
    var ps = state.passage;
    if (!ps) return;
    var c = ps.citation, detail = ps.detail;
    var doc = (detail && detail.document) || c.document || {};
    $("passage-kicker").textContent = t("source", { n: ps.n });
    $("passage-title").textContent = doc.title || c.citation;
    $("passage-title").lang = "nl";

    var meta = $("passage-meta");
    clear(meta);
    metaRow(meta, t("meta-date"), formatDocDate(doc));
    if (doc.reference) metaRow(meta, isKamerstuk(doc.reference) ? t("meta-kamerstuk") : t("meta-reference"), dutch(doc.reference));
    metaRow(meta, t("meta-type"), doc.doc_type && dutch(doc.doc_type));
    metaRow(meta, t("meta-author"), doc.author && dutch(doc.author));
    metaRow(meta, t("meta-where"), whereInDocument(detail || c));
    metaRow(meta, t("meta-page"), pages(detail || c));
    // The passage's link opens a PDF at its page; else the document's official page.
    var url = safeUrl((detail && detail.url) || c.url) || safeUrl(doc.url);
    if (url) {
      metaRow(meta, t("meta-official"), el("a", { href: url, target: "_blank", rel: "noopener" },
        [t("official-link") + " ", el("span", { className: "visually-hidden", text: t("new-window") })]));
    }

    var body = $("passage-text");
    clear(body);
    var notes = $("passage-footnotes");
    clear(notes);
    notes.hidden = true;
    var wholeButton = $("whole-document");
    if (ps.failed) {
      body.appendChild(el("p", { className: "alert alert-error", lang: state.lang, text: t("passage-failed") }));
      wholeButton.hidden = true;
      return;
    }
    if (!detail) {
      body.appendChild(citedBlock({ text: c.text }, ps.n));
      wholeButton.hidden = true;
      return;
    }
    wholeButton.hidden = false;
    wholeButton.textContent = ps.showWhole ? t("only-passage") : t("whole-document");
    if (ps.showWhole && ps.whole) {
      ps.whole.passages.forEach(function (p) {
        body.appendChild(p.id === detail.id ? citedBlock(detail, ps.n) : el("p", { className: "context", text: p.text }));
      });
    } else {
      if (detail.context && detail.context !== detail.section) body.appendChild(el("p", { className: "context", text: detail.context }));
      if (detail.previous) body.appendChild(el("p", { className: "context", text: shorten(detail.previous.text, CONTEXT_CHARS, true) }));
      body.appendChild(citedBlock(detail, ps.n));
      if (detail.next) body.appendChild(el("p", { className: "context", text: shorten(detail.next.text, CONTEXT_CHARS) }));
    }
    if (detail.footnotes && detail.footnotes.length) {
      notes.appendChild(el("p", { lang: state.lang }, [el("strong", { text: t("footnotes") })]));
      detail.footnotes.forEach(function (f) { notes.appendChild(el("p", { text: f.number + ". " + f.text })); });
      notes.hidden = false;
    }
  }

  /* Scroll the dialog so the start of the first highlighted span is in view (focus stays on the title). */
  function revealHighlight() {
    var target = document.querySelector("#passage-text mark") || $("cited-passage");
    if (!target) return;
    var box = target.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight - 96) target.scrollIntoView({ block: "start" });
  }

  function toggleWholeDocument() {
    var ps = state.passage;
    if (!ps || !ps.detail) return;
    ps.showWhole = !ps.showWhole;
    if (ps.showWhole && !ps.whole) {
      var button = $("whole-document");
      button.textContent = t("loading");
      fetch("/v1/documents/" + encodeURIComponent(ps.detail.document.id), { headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (whole) {
          if (state.passage !== ps) return;
          ps.whole = whole;
          renderPassage();
          var cited = $("cited-passage");
          if (cited) cited.scrollIntoView({ block: "center" });
        })
        .catch(function () { if (state.passage === ps) { ps.showWhole = false; ps.failed = true; renderPassage(); } });
      return;
    }
    renderPassage();
    var cited = $("cited-passage");
    if (cited) cited.scrollIntoView({ block: "center" });
  }

  // ------------------------------------------------------------------ feedback

  function resetFeedback() {
    var form = $("feedback-form");
    form.reset();
    showMessage("fb-error", null);
    $("fb-send").disabled = false;
    renderCounter();
  }

  function renderCounter() {
    $("fb-count").textContent = t("fb-count", { n: $("fb-comment").value.length, max: MAX_COMMENT });
  }

  function onFeedback(event) {
    event.preventDefault();
    var answer = state.answer;
    if (!answer) return;
    var checked = document.querySelector("input[name=rating]:checked");
    if (!checked) {
      showMessage("fb-error", "fb-need-rating");
      $("fb-up").focus();
      return;
    }
    showMessage("fb-error", null);
    $("fb-send").disabled = true;
    fetch("/v1/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        answer_id: answer.answer_id,
        rating: checked.value,
        comment: $("fb-comment").value.slice(0, MAX_COMMENT),
        question: answer.question,
        answer: answer.answer,
        passage_ids: (answer.citations || []).map(function (c) { return c.id; }),
        mode: answer.mode_used,
        language: answer.language,
        abstained: !!answer.abstained
      })
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      if (state.answer !== answer) return;
      state.feedbackSent = true;
      renderResult();
      $("fb-thanks").focus();
    }).catch(function () {
      $("fb-send").disabled = false;
      showMessage("fb-error", "fb-failed");
    });
  }

  // ------------------------------------------------------------------ wiring

  function init() {
    $("ask-form").addEventListener("submit", onSubmit);
    $("vraag").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("ask-form").requestSubmit();
      }
    });
    $("vraag").addEventListener("input", function () { if (!$("vraag-error").hidden) setFieldError(null); });
    $("lang-switch").addEventListener("change", function () {
      var lang = this.value;
      if (!known(lang)) return;
      try { window.localStorage.setItem("vraagbaak-lang", lang); } catch (e) { /* storage may be off */ }
      applyLanguage(lang);
    });
    document.querySelector(".skip-link").addEventListener("click", function (event) {
      event.preventDefault();
      $("vraag").focus();
    });
    // Citation links in the answer and in the source lists open the passage.
    $("result").addEventListener("click", function (event) {
      var link = event.target.closest("a[data-n]");
      if (!link) return;
      event.preventDefault();
      openPassage(+link.getAttribute("data-n"), link);
    });
    $("passage-close").addEventListener("click", closePassage);
    $("passage-dialog").addEventListener("close", onDialogClosed);
    $("passage-dialog").addEventListener("click", function (event) {
      if (event.target === this) closePassage();  // a click on the backdrop
    });
    $("whole-document").addEventListener("click", toggleWholeDocument);
    $("feedback-form").addEventListener("submit", onFeedback);
    $("fb-comment").addEventListener("input", renderCounter);
    ["fb-up", "fb-down"].forEach(function (id) {
      $(id).addEventListener("change", function () { showMessage("fb-error", null); });
    });

    applyLanguage(initialLanguage());
    loadDocuments(0);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
