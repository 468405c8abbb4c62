/* Vraagbaak web page: ask (POST /v1/ask as Server-Sent Events, read with fetch), show the answer as it
   streams in with numbered citation links, open a cited passage in its document (GET /v1/passages/{id},
   /v1/documents/{id}), and send feedback (POST /v1/feedback). Plain JavaScript, no libraries. */
(function () {
  "use strict";

  var STRINGS = {
    nl: {
      "page-title": "Vraagbaak – vragen over integratiebeleid",
      skip: "Direct naar de vraag",
      tagline: "Integratiebeleid, uit de documenten zelf",
      title: "Stel uw vraag over integratiebeleid",
      intro: "Vraagbaak zoekt het antwoord in vijf documenten van de Rijksoverheid over integratie en inburgering. Bij elk antwoord ziet u in welk document het staat, zodat u het zelf kunt nalezen.",
      "question-label": "Uw vraag",
      "question-hint": "In het Nederlands of het Engels. Druk op Enter om te versturen, Shift+Enter voor een nieuwe regel.",
      ask: "Vraag stellen",
      examples: "Bijvoorbeeld",
      answer: "Antwoord",
      "abstain-title": "Deze documenten beantwoorden uw vraag niet",
      "abstain-text": "Vraagbaak geeft alleen antwoord met wat in de vijf documenten staat, en daar staat het antwoord op deze vraag niet in. Hieronder staan de passages die er het dichtst bij komen: misschien helpen die u verder.",
      sources: "Bronnen",
      "sources-found": "Gevonden passages",
      "sources-closest": "Passages die er het dichtst bij komen",
      "more-sources": "Andere gevonden passages ({n})",
      "fb-legend": "Was dit antwoord nuttig?",
      "fb-up": "Ja, nuttig",
      "fb-down": "Nee, niet nuttig",
      "fb-comment": "Toelichting",
      optional: "(niet verplicht)",
      "fb-comment-hint": "Wat klopte er niet, of wat miste u? Vul geen persoonlijke gegevens in, zoals uw naam of burgerservicenummer.",
      "fb-send": "Verstuur reactie",
      "fb-thanks": "Bedankt! Uw reactie is opgeslagen en helpt ons Vraagbaak te verbeteren.",
      "fb-need-rating": "Kies eerst ‘Ja, nuttig’ of ‘Nee, niet nuttig’.",
      "fb-failed": "Uw reactie kon niet worden opgeslagen. Probeer het later opnieuw.",
      "fb-count": "{n} van {max} tekens",
      "about-title": "Waar komen de antwoorden vandaan?",
      "about-text": "Vraagbaak zoekt alleen in de documenten hieronder. Staat het antwoord er niet in, dan zegt Vraagbaak dat. Een antwoord is geen persoonlijk advies: lees bij twijfel de bron na of neem contact op met de instantie die erover gaat.",
      footer: "Vraagbaak beantwoordt vragen met citaten uit openbare overheidsdocumenten.",
      "footer-api": "Voor ontwikkelaars: de API",
      close: "Sluiten",
      "whole-document": "Toon het hele document",
      "only-passage": "Toon alleen de passage en wat eromheen staat",
      "empty-question": "Typ eerst uw vraag.",
      "too-long": "Uw vraag is te lang. Houd het bij {max} tekens.",
      searching: "Vraagbaak zoekt in de documenten…",
      writing: "Het antwoord wordt geschreven…",
      "done-status": "Het antwoord staat hieronder, met {n} bronnen.",
      "done-status-1": "Het antwoord staat hieronder, met 1 bron.",
      "done-abstained": "De documenten beantwoorden deze vraag niet. De passages die er het dichtst bij komen staan hieronder.",
      "not-ready": "Vraagbaak is nog aan het opstarten. Probeer het over een minuut opnieuw.",
      "needs-key": "Deze Vraagbaak vraagt een toegangssleutel; de webpagina kan er daarom geen vragen aan stellen.",
      "network": "Vraagbaak is niet bereikbaar. Controleer uw verbinding en probeer het opnieuw.",
      "failed": "Er ging iets mis bij het beantwoorden. Probeer het opnieuw.",
      "error-code": "Foutcode {code}, verzoek {id}",
      source: "Bron {n}",
      "cite-label": "Bron {n}: {title}",
      "open-passage": "Bekijk de passage",
      "note-extractive": "Dit antwoord bestaat uit letterlijke zinnen uit de documenten. Het nummer achter een zin wijst naar de bron.",
      "note-extractive-en": "",
      "note-generative": "Dit antwoord is geschreven door een taalmodel en daarna zin voor zin gecontroleerd tegen de bronnen. Het nummer achter een zin wijst naar de bron.",
      "note-plain": "Een taalmodel heeft zinnen uit de documenten in eenvoudige taal gezet. Elke zin is gecontroleerd tegen de zin waar hij op steunt. Een zin die niet door die controle kwam, staat er letterlijk. Het nummer achter een zin wijst naar de bron.",
      "show-quotes": "Toon de letterlijke zinnen uit de documenten",
      "asked": "Uw vraag: {q}",
      "meta-document": "Document",
      "meta-date": "Datum",
      "meta-kamerstuk": "Kamerstuk",
      "meta-reference": "Kenmerk",
      "meta-type": "Soort document",
      "meta-author": "Van",
      "meta-where": "Vindplaats",
      "meta-official": "Officiële bron",
      "official-link": "Bekijk het document op de officiële site",
      "new-window": "(opent in een nieuw venster)",
      "date-unknown": "niet vermeld",
      "cited-passage": "Geciteerde passage",
      "closest-passage": "Passage die het dichtst bij uw vraag komt",
      "context-before": "Ervoor in het document",
      "footnotes": "Voetnoten",
      "loading": "Laden…",
      "passage-failed": "De passage kon niet worden geladen. Misschien is het document intussen bijgewerkt; stel de vraag dan opnieuw.",
      "question-n": "vraag {n}",
      "questions-n": "vragen {n}",
      examplesList: [
        "Wat gebeurt er met mijn bijstand als ik een startbaan weiger?",
        "Waarom is het overleg met minderhedenorganisaties gestopt?",
        "Wat is de participatieverklaring?"
      ]
    },
    en: {
      "page-title": "Vraagbaak – questions about integration policy",
      skip: "Skip to the question",
      tagline: "Integration policy, from the documents themselves",
      title: "Ask your question about integration policy",
      intro: "Vraagbaak looks for the answer in five Dutch government documents on integration and civic integration. With every answer you see which document it comes from, so you can read it yourself.",
      "question-label": "Your question",
      "question-hint": "In English or Dutch. Press Enter to send, Shift+Enter for a new line.",
      ask: "Ask",
      examples: "For example",
      answer: "Answer",
      "abstain-title": "These documents do not answer your question",
      "abstain-text": "Vraagbaak only answers with what the five documents say, and they do not contain the answer to this question. Below are the passages that come closest: they may still help you.",
      sources: "Sources",
      "sources-found": "Passages found",
      "sources-closest": "The passages that come closest",
      "more-sources": "Other passages found ({n})",
      "fb-legend": "Was this answer useful?",
      "fb-up": "Yes, useful",
      "fb-down": "No, not useful",
      "fb-comment": "Comment",
      optional: "(optional)",
      "fb-comment-hint": "What was wrong, or what was missing? Please do not enter personal details such as your name or citizen service number.",
      "fb-send": "Send feedback",
      "fb-thanks": "Thank you! Your feedback has been saved and helps us improve Vraagbaak.",
      "fb-need-rating": "First choose ‘Yes, useful’ or ‘No, not useful’.",
      "fb-failed": "Your feedback could not be saved. Please try again later.",
      "fb-count": "{n} of {max} characters",
      "about-title": "Where do the answers come from?",
      "about-text": "Vraagbaak only searches the documents below. If the answer is not in them, Vraagbaak says so. An answer is not personal advice: when in doubt, read the source or contact the organisation responsible.",
      footer: "Vraagbaak answers questions with quotes from public Dutch government documents.",
      "footer-api": "For developers: the API",
      close: "Close",
      "whole-document": "Show the whole document",
      "only-passage": "Show only the passage and its surroundings",
      "empty-question": "Please type your question first.",
      "too-long": "Your question is too long. Please keep it under {max} characters.",
      searching: "Vraagbaak is searching the documents…",
      writing: "The answer is being written…",
      "done-status": "The answer is below, with {n} sources.",
      "done-status-1": "The answer is below, with 1 source.",
      "done-abstained": "The documents do not answer this question. The passages that come closest are below.",
      "not-ready": "Vraagbaak is still starting up. Please try again in a minute.",
      "needs-key": "This Vraagbaak requires an access key, so the web page cannot ask it questions.",
      "network": "Vraagbaak cannot be reached. Check your connection and try again.",
      "failed": "Something went wrong while answering. Please try again.",
      "error-code": "Error code {code}, request {id}",
      source: "Source {n}",
      "cite-label": "Source {n}: {title}",
      "open-passage": "View the passage",
      "note-extractive": "This answer consists of sentences quoted from the documents. The number after a sentence points to its source.",
      "note-extractive-en": "The documents are in Dutch, so the quotes are too.",
      "note-generative": "This answer was written by a language model and then checked sentence by sentence against the sources. The number after a sentence points to its source.",
      "note-plain": "A language model put sentences from the documents into plain words. Each sentence was checked against the sentence it is based on. A sentence that failed the check is quoted as it stands in the documents (in Dutch). The number after a sentence points to its source.",
      "show-quotes": "Show the exact sentences from the documents (in Dutch)",
      "asked": "Your question: {q}",
      "meta-document": "Document",
      "meta-date": "Date",
      "meta-kamerstuk": "Parliamentary paper",
      "meta-reference": "Reference",
      "meta-type": "Type of document",
      "meta-author": "From",
      "meta-where": "Location",
      "meta-official": "Official source",
      "official-link": "View the document on the official site",
      "new-window": "(opens in a new window)",
      "date-unknown": "not stated",
      "cited-passage": "Cited passage",
      "closest-passage": "Passage closest to your question",
      "context-before": "Earlier in the document",
      "footnotes": "Footnotes",
      "loading": "Loading…",
      "passage-failed": "The passage could not be loaded. The document may have been updated; please ask your question again.",
      "question-n": "question {n}",
      "questions-n": "questions {n}",
      examplesList: [
        "Which minister is responsible for the local anti-discrimination services?",
        "Why was the minority consultation act withdrawn?",
        "What happens to my benefits if I refuse a starter job?"
      ]
    }
  };

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
    feedbackSent: false
  };

  // ------------------------------------------------------------------ language

  function t(key, values) {
    var text = (STRINGS[state.lang] && STRINGS[state.lang][key]);
    if (text === undefined) text = STRINGS.nl[key];
    if (text === undefined) return key;
    if (values) {
      text = text.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
    }
    return text;
  }

  function initialLanguage() {
    var asked = new URLSearchParams(window.location.search).get("lang");
    if (asked === "nl" || asked === "en") return asked;
    try {
      var saved = window.localStorage.getItem("vraagbaak-lang");
      if (saved === "nl" || saved === "en") return saved;
    } catch (e) { /* storage may be off */ }
    return "nl";
  }

  function applyLanguage(lang) {
    state.lang = lang;
    document.documentElement.lang = lang;
    document.title = t("page-title");
    var nodes = document.querySelectorAll("[data-i18n]");
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute("data-i18n"));
    var other = lang === "nl" ? "en" : "nl";
    var switcher = $("lang-switch");
    switcher.textContent = other === "en" ? "English" : "Nederlands";
    switcher.lang = other;
    switcher.setAttribute("data-lang", other);
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

  function formatDate(iso) {
    if (!iso) return t("date-unknown");
    var parts = String(iso).split("-");
    var locale = state.lang === "en" ? "en-GB" : "nl-NL";
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
    var parts = doc.date ? [formatDate(doc.date)] : [];
    if (doc.reference) parts.push(doc.reference);
    var where = whereInDocument(c);
    if (where) parts.push(where);
    return parts.join(" · ");
  }

  function whereInDocument(c) {
    var numbers = c.question_numbers || [];
    if (numbers.length === 1) return t("question-n", { n: numbers[0] });
    if (numbers.length > 1) return t("questions-n", { n: numbers.join(", ") });
    return c.section || "";
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
      var line = [doc.doc_type, doc.date ? formatDate(doc.date) : null, doc.reference].filter(Boolean).join(" · ");
      var url = safeUrl(doc.url);
      var title = url ? el("a", { href: url, rel: "noopener", text: doc.title }) : el("span", { text: doc.title });
      list.appendChild(el("li", { lang: "nl" }, [title, el("span", { className: "doc-line", text: line })]));
    });
  }

  // ------------------------------------------------------------------ asking

  function setFieldError(message) {
    var field = $("vraag"), error = $("vraag-error");
    if (message) {
      error.textContent = message;
      error.hidden = false;
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", "vraag-error vraag-hint");
    } else {
      error.hidden = true;
      error.textContent = "";
      field.removeAttribute("aria-invalid");
      field.setAttribute("aria-describedby", "vraag-hint");
    }
  }

  function onSubmit(event) {
    event.preventDefault();
    var question = $("vraag").value.trim();
    if (!question) { setFieldError(t("empty-question")); $("vraag").focus(); return; }
    if (question.length > MAX_QUESTION) { setFieldError(t("too-long", { max: MAX_QUESTION })); $("vraag").focus(); return; }
    ask(question);
  }

  function ask(question) {
    setFieldError(null);
    if (state.controller) state.controller.abort();
    var controller = new AbortController();
    state.controller = controller;
    state.question = question;
    state.text = "";
    state.citations = [];
    state.answer = null;
    state.deltas = 0;
    state.error = null;
    state.feedbackSent = false;
    state.revealed = false;
    state.phase = "searching";
    $("examples").hidden = true;
    resetFeedback();
    renderStatus();
    renderResult();
    $("ask-button").disabled = true;

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
    }
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
      container.appendChild(document.createTextNode(text.slice(last, m.index)));
      var n = +m[1];
      container.appendChild(n >= 1 && n <= state.citations.length ? citationLink(n) : document.createTextNode(m[0]));
      last = m.index + m[0].length;
    }
    container.appendChild(document.createTextNode(text.slice(last)));
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
    var link = el("a", { href: "#bron-" + n, className: "passage-link", "data-n": String(n), text: citationTitle(c) });
    return el("li", { id: "bron-" + n, className: "source" }, [
      el("span", { className: "source-n", "aria-hidden": "true", text: String(n) }),
      el("div", { className: "source-body" }, [
        el("p", { className: "source-title" }, [el("span", { className: "visually-hidden", text: t("source", { n: n }) + ": " }), link]),
        el("p", { className: "source-meta", text: citationMeta(c) }),
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

  function renderResult() {
    var result = $("result");
    var answerBox = $("answer");
    if (state.phase === "idle" || (state.phase === "error" && !state.text)) {
      result.hidden = true;
      result.removeAttribute("data-state");
      return;
    }
    result.hidden = false;
    result.setAttribute("data-state", state.phase);
    result.setAttribute("data-deltas", String(state.deltas));
    $("asked").textContent = t("asked", { q: state.question });

    var done = state.phase === "done" ? state.answer : null;
    var abstained = !!(done && done.abstained);
    $("abstain").hidden = !abstained;
    result.classList.toggle("is-abstained", abstained);
    answerBox.hidden = abstained;  // the notice above says it, in the page's language
    answerBox.setAttribute("aria-busy", state.phase === "searching" || state.phase === "streaming" ? "true" : "false");
    if (done) {
      // Extractive answers quote the Dutch documents; the other answers are in the question's language.
      answerBox.lang = done.mode_used === "extractive" && !abstained ? "nl" : (done.language || state.lang);
    } else answerBox.removeAttribute("lang");
    renderAnswerText(answerBox, state.text);

    var note = "";
    if (done && !abstained) {
      note = done.mode_used === "generative" ? t("note-generative") : done.mode_used === "plain" ? t("note-plain")
        : t("note-extractive") + (state.lang === "en" ? " " + t("note-extractive-en") : "");
    }
    $("answer-note").textContent = note;
    renderQuotes(done && !abstained && done.mode_used === "plain" ? done.sentences || [] : []);

    // Sources: the cited ones by number; the rest folded away (or, when abstaining, all as the closest passages).
    var cited = citedNumbers();
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
    metaRow(meta, t("meta-date"), formatDate(doc.date));
    if (doc.reference) metaRow(meta, isKamerstuk(doc.reference) ? t("meta-kamerstuk") : t("meta-reference"), doc.reference);
    metaRow(meta, t("meta-type"), doc.doc_type);
    metaRow(meta, t("meta-author"), doc.author);
    metaRow(meta, t("meta-where"), whereInDocument(detail || c));
    var url = safeUrl(doc.url);
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
    $("fb-error").hidden = true;
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
    var error = $("fb-error");
    if (!checked) {
      error.textContent = t("fb-need-rating");
      error.hidden = false;
      $("fb-up").focus();
      return;
    }
    error.hidden = true;
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
      error.textContent = t("fb-failed");
      error.hidden = false;
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
    $("lang-switch").addEventListener("click", function () {
      var lang = this.getAttribute("data-lang");
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
      $(id).addEventListener("change", function () { $("fb-error").hidden = true; });
    });

    applyLanguage(initialLanguage());
    loadDocuments(0);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
