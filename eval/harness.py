"""``python -m eval run``: every question through search and ask, then scored.

    question ─ search (top 10) ─> retrieval metrics (quote rule)
             └ ask (top 5, mode) ─> sentences ─ judge(s) ─> faithfulness, citation recall/precision,
                                                            unsupported facts
                                  └ reference answer ─> correctness (similarity, key facts)
                                  └ abstained? ─> abstention precision/recall/F1
                                  └ Dutch answer ─> Flesch-Douma readability
                                  └ stale / newer quotes ─> newest cited, stale shown as current, dated, as_of

In-process (the same service functions the CLI and the API call) or against a running API
(``--api URL``: the same record shapes come back over HTTP). One JSON line per finished question
goes to ``OUT/questions.jsonl`` as it finishes, so an interrupted run resumes where it stopped; the
run's settings are fixed in ``OUT/run.json`` and a resume with other settings is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eval import answer_metrics as am
from eval.judges import judge_one
from eval.retrieval import score_question


class RunError(ValueError):
    """A run that cannot start as asked; the message says what to do."""


@dataclass(frozen=True)
class RunConfig:
    questions: str
    mode: str = "extractive"  # extractive | generative | plain
    api: str | None = None
    judges: tuple[str, ...] = ("offline",)
    llm_judge_url: str | None = None
    llm_url: str | None = None  # in-process generative: the answer LLM (else VRAAGBAAK_LLM_BASE_URL)
    search_top_k: int = 10
    answer_top_k: int = 5
    limit: int | None = None

    def fingerprint(self, questions_hash: str) -> str:
        data = {**asdict(self), "questions_hash": questions_hash}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------- backends

class InProcess:
    """The service and answer engine in this process, as the API builds them."""

    def __init__(self, service, config: RunConfig):
        from rag.answer.engine import AnswerEngine
        from rag.answer.llm import LLMClient

        self.service = service
        llm = None
        if config.mode in ("generative", "plain"):
            url = config.llm_url or service.settings.llm_base_url
            if not url:
                raise RunError(f"--mode {config.mode} needs an LLM: --llm-url http://127.0.0.1:8080/v1 "
                               "(start one with `make llm`) or VRAAGBAAK_LLM_BASE_URL")
            # temperature 0: the same inputs give the same answers (deterministic runs)
            llm = LLMClient.from_settings(service.settings.replace(llm_base_url=url, llm_temperature=0.0))
        self.engine = AnswerEngine(service, llm=llm)
        self.llm = llm

    async def search(self, question: str, top_k: int) -> tuple[list[dict], float]:
        started = time.perf_counter()
        result = await asyncio.to_thread(self.service.search, question, top_k)
        return [p.to_dict() for p in result.passages], (time.perf_counter() - started) * 1000

    async def ask(self, question: str, top_k: int, mode: str) -> tuple[dict, float]:
        started = time.perf_counter()
        answer = await self.engine.answer(question, top_k=top_k, mode=mode)
        took = (time.perf_counter() - started) * 1000
        return {"answer": answer.text, "citations": [{"n": n, **p.to_dict()} for n, p in enumerate(answer.passages, 1)],
                "as_of": getattr(answer, "as_of", None), "mode_used": answer.mode_used, "abstained": bool(answer.abstained),
                "fallback_reason": answer.fallback_reason, "language": answer.language,
                "answerability": getattr(answer, "answerability", None),
                "referral": _plain(getattr(answer, "referral", None)),
                "llm": {"model": answer.llm_model, "error": answer.llm_error},
                "sentences": [{"how": c.how, "source": c.source, "text": c.text} for c in answer.sentences]}, took

    async def aclose(self) -> None:
        await self.engine.aclose()


def _plain(value):
    """A referral as JSON-able data, whatever shape the engine gives it (dataclass, dict, text or None)."""
    if value is None or isinstance(value, (str, dict, list)):
        return value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    try:
        return asdict(value)
    except TypeError:
        return str(value)


def first_sentence(text: str) -> str:
    """The answer's first sentence without its [n] markers ("" for an empty answer)."""
    from rag.answer.sentences import parse_markers, split_spans

    spans = [s for s in split_spans(text) if s.text.strip()]
    return am.strip_markers(parse_markers(spans[0].text)[0]) if spans else ""


class OverHttp:
    """A running Vraagbaak API: POST /v1/search and /v1/ask."""

    def __init__(self, base_url: str, api_key: str = ""):
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=300, headers=headers)

    async def _post(self, path: str, body: dict) -> tuple[dict, float]:
        import httpx

        started = time.perf_counter()
        try:
            response = await self.client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise RunError(f"cannot reach the API at {self.client.base_url}{path}: {exc}") from exc
        took = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RunError(f"{path} answered {response.status_code}: {response.text[:300]}")
        return response.json(), took

    async def search(self, question: str, top_k: int) -> tuple[list[dict], float]:
        data, took = await self._post("/v1/search", {"query": question, "top_k": top_k})
        return data["results"], took

    async def ask(self, question: str, top_k: int, mode: str) -> tuple[dict, float]:
        return await self._post("/v1/ask", {"question": question, "top_k": top_k, "mode": mode})

    async def aclose(self) -> None:
        await self.client.aclose()


# ---------------------------------------------------------------------------------- scoring one question

@dataclass
class Scorer:
    """Judges and the encoder used for correctness; the lexicon names what counts as a name."""

    judges: dict  # name -> judge
    encoder: object
    lexicon: object
    file_to_doc: dict[str, str] = field(default_factory=dict)
    doc_keys: dict[str, str] = field(default_factory=dict)  # document id → its place in time (dating.date_key)

    async def judge_sentences(self, judge, sentences: list[tuple[str, tuple[int, ...]]], passages: list[str],
                              language: str, question: str) -> list[am.SentenceJudgements]:
        out = []
        for text, cited in sentences:
            valid = tuple(c for c in cited if 1 <= c <= len(passages))
            cited_texts = [passages[c - 1] for c in valid]
            together = (await judge_one(judge, text, cited_texts, language, question)).supported if valid else False
            s = am.SentenceJudgements(text, valid, together)
            if len(valid) > 1:  # ALCE precision needs each citation alone and the others without it
                for c in valid:
                    s.alone[c] = (await judge_one(judge, text, [passages[c - 1]], language, question)).supported
                    rest = [passages[o - 1] for o in valid if o != c]
                    s.without[c] = (await judge_one(judge, text, rest, language, question)).supported
            s.any_source_supports = together or (
                bool(passages) and (await judge_one(judge, text, passages, language, question)).supported)
            out.append(s)
        return out

    def similarity(self, a: str, b: str) -> float:
        vectors = self.encoder._encode_raw(self.encoder.document_inputs([a, b]), False)
        return float(vectors[0] @ vectors[1])

    def dating(self, q: dict, shown: str, answer: dict) -> dict:
        """The dates of one answer (``am.dating_scores``): labels read from the text as shown."""
        from eval.metrics import normalise
        from rag.answer.dating import has_notice, read_labels, strip_annotations
        from rag.search.recency import date_key
        from rag.answer.sentences import parse_markers, split_spans
        from rag.types import DocumentMeta

        sources = {}
        for c in answer.get("citations", []):
            d = c.get("document") or {}
            meta = DocumentMeta(id=d.get("id", ""), title=d.get("title", ""), date=d.get("date"),
                                date_source=d.get("date_source"), date_bound=d.get("date_bound"))
            sources[c["n"]] = {"doc": d.get("id"), "date": d.get("date") or d.get("date_bound"),
                               "key": date_key(meta), "text": c.get("text", "")}
        checks = {normalise(s.get("text") or ""): s.get("source") for s in answer.get("sentences") or []}
        sentences = []
        for span in split_spans(strip_annotations(shown)):
            bare, cites = parse_markers(span.text)
            if bare.strip():
                sentences.append({"text": bare, "source": checks.get(normalise(bare)), "cites": list(cites)})
        if answer.get("abstained"):
            sentences = []
        labels = read_labels(shown, {n: src["doc"] for n, src in sources.items()})
        return am.dating_scores(q, sentences, sources, labels, answer.get("as_of"), has_notice(shown),
                                self.file_to_doc, self.doc_keys)

    async def score(self, q: dict, passages: list[dict], answer: dict) -> dict:
        from rag.answer.dating import strip_annotations
        from rag.answer.language import detect_language
        from rag.answer.sentences import parse_markers, split_spans

        record: dict = {"id": q["id"], "lang": q.get("lang"), "kind": q.get("kind"),
                        "answerable": bool(q.get("answerable", True)), "question": q["question"]}
        if record["answerable"] and q.get("gold"):
            rel = score_question(q, passages, self.file_to_doc)
            record["retrieval"] = {k: v for k, v in rel.items() if k not in ("id", "lang", "kind", "n_gold")}
        shown = answer.get("answer", "")
        # Judged without what rag/answer/dating.py adds (date labels, resolved time words, the horizon
        # notice): those are metadata about the sources, not claims drawn from them.
        text = strip_annotations(shown)
        cited_passages = [c.get("text", "") for c in answer.get("citations", [])]
        language = answer.get("language") or detect_language(text)
        record["answer"] = {"text": shown, "as_of": answer.get("as_of"), "mode_used": answer.get("mode_used"),
                            "abstained": bool(answer.get("abstained")), "fallback_reason": answer.get("fallback_reason"), "language": language,
                            "sources": [c.get("id") for c in answer.get("citations", [])],
                            "referral": bool(answer.get("referral")),
                            "answerability": {k: v for k, v in (answer.get("answerability") or {}).items()
                                              if k in ("answerable", "probability", "reason", "expected_type")} or None,
                            # the language the answer is written in (plain answers: the question's, unless quoted)
                            "text_language": detect_language(am.strip_markers(text), fallback=language),
                            "how": [s.get("how") for s in answer.get("sentences") or []]}
        if any(k in q for k in ("stale", "newer")) or q.get("kind") in ("now", "past"):
            record["dating"] = self.dating(q, shown, answer)
        if answer.get("abstained") or not text.strip():
            record["judged"] = {}
            return record
        sentences = [parse_markers(span.text) for span in split_spans(text)]
        sentences = [(bare, cited) for bare, cited in sentences if bare.strip()]
        judged = {}
        for name, judge in self.judges.items():
            started = time.perf_counter()
            js = await self.judge_sentences(judge, sentences, cited_passages, language, q["question"])
            judged[name] = {
                "faithfulness": am.faithfulness(js), "citation_recall": am.citation_recall(js),
                "citation_precision": am.citation_precision(js), "judge_ms": round((time.perf_counter() - started) * 1000, 1),
                "sentences": [{"text": s.text, "citations": list(s.citations), "cited_supports": s.cited_supports,
                               "any_source_supports": s.any_source_supports,
                               "irrelevant_citations": am.irrelevant_citations(s)} for s in js],
            }
        record["judged"] = judged
        facts = [f for bare, cited in sentences
                 for f in am.unsupported_facts(bare, [cited_passages[c - 1] for c in cited if 1 <= c <= len(cited_passages)],
                                               language, self.lexicon)]
        record["unsupported_facts"] = facts
        record["sentences"] = len(sentences)
        reference = q.get("reference_answer")
        if reference and record["answerable"]:
            plain = am.strip_markers(text)
            ref_lang = q.get("lang") or detect_language(reference)
            same = language == ref_lang
            first = am.key_fact_recall(first_sentence(text), reference, same_language=same, lexicon=self.lexicon,
                                       answer_language=language, reference_language=ref_lang)
            record["correctness"] = {
                "similarity": round(self.similarity(plain, reference), 4),
                "key_fact_recall": am.key_fact_recall(plain, reference, same_language=same,
                                                      lexicon=self.lexicon, answer_language=language,
                                                      reference_language=ref_lang),
                # "leads with the answer": the first sentence states at least one of the reference's key facts
                "first_sentence_key_fact": None if first is None else first > 0}
        if language == "nl":
            score = am.flesch_douma(text)
            record["readability"] = round(score, 1) if score is not None else None
        return record


# ---------------------------------------------------------------------------------- the run

def questions_hash(rows: list[dict]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def prepare_out(out: Path, config: RunConfig, qhash: str, fresh: bool) -> dict[str, dict]:
    """The finished records of an earlier run with the same settings (resume), or none."""
    out.mkdir(parents=True, exist_ok=True)
    run_file, records_file = out / "run.json", out / "questions.jsonl"
    fingerprint = config.fingerprint(qhash)
    if run_file.exists() and not fresh:
        earlier = json.loads(run_file.read_text())
        if earlier.get("fingerprint") != fingerprint:
            raise RunError(f"{out} holds a run with other settings ({earlier.get('config')}); "
                           "use another --out, or --fresh to start over there")
    elif fresh or not run_file.exists():
        records_file.unlink(missing_ok=True)
        run_file.write_text(json.dumps({"fingerprint": fingerprint, "config": asdict(config)}, indent=1))
    done = {}
    if records_file.exists():
        for line in records_file.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut off by an interruption: that question runs again
            done[record["id"]] = record
    return done


async def run(config: RunConfig, service, judges: dict, out: Path, fresh: bool = False,
              progress: bool = True, api_key: str = "") -> dict:
    from eval.retrieval import load_questions
    from eval.report import build_report
    from rag.answer.facts import CorpusLexicon

    rows = load_questions(Path(config.questions))
    if config.limit:
        rows = rows[: config.limit]
    done = prepare_out(out, config, questions_hash(rows), fresh)
    backend = OverHttp(config.api, api_key) if config.api else InProcess(service, config)
    from rag.search.recency import date_key

    scorer = Scorer(judges, service.encoder, CorpusLexicon.from_texts(c.text for c in service.index.chunks),
                    {d.file: d.id for d in service.index.documents.values() if d.file},
                    {d.id: date_key(d) for d in service.index.documents.values() if date_key(d)})
    todo = [q for q in rows if q["id"] not in done]
    if todo:  # load the model and fill caches before anything is timed
        await backend.search(todo[0]["question"], config.search_top_k)
        await backend.ask(todo[0]["question"], config.answer_top_k, "extractive")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(rows), initial=len(rows) - len(todo), desc=f"eval {config.mode}", unit="question")
    try:
        with open(out / "questions.jsonl", "a", encoding="utf-8") as sink:
            for q in todo:
                passages, search_ms = await backend.search(q["question"], config.search_top_k)
                answer, answer_ms = await backend.ask(q["question"], config.answer_top_k, config.mode)
                started = time.perf_counter()
                record = await scorer.score(q, passages, answer)
                record["latency_ms"] = {"search": round(search_ms, 1), "answer": round(answer_ms, 1),
                                        "judge": round((time.perf_counter() - started) * 1000, 1)}
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()  # one finished question at a time: an interruption loses at most one
                done[q["id"]] = record
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        await backend.aclose()
    records = [done[q["id"]] for q in rows if q["id"] in done]  # input order: deterministic reports
    return build_report(config, records, judges)
