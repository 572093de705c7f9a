"""How well the trained model understands messages nobody on the team wrote.

Parses public customer-support messages (Bitext, CLINC150; see bench/dataset_mapping.py for the
label mapping and the study/eval split), the project's own held-out file tests/nlu/test_nlu.yml
and a few generated entity sentences with the trained model loaded once in this process, and
prints accuracy, macro F1, per-intent scores, the worst confusions, how often unrelated messages
would start a store action, entity scores and the time per message. Figures also go to
results/nlu_eval.json (git-ignored); message text never does.

    .venv/bin/python bench/nlu_eval.py                       # eval split, everything
    .venv/bin/python bench/nlu_eval.py --sample 600          # quicker, stratified
    .venv/bin/python bench/nlu_eval.py --split study --show-misses 40   # to write better examples

Figures measured on Bitext: credit Bitext (CDLA-Sharing 1.0). On CLINC150: cite Larson et al.,
"An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction", EMNLP 2019.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import random
import re
import sys
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable, Sequence

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bot.orders.lookup import parse_order_number  # noqa: E402
from bench.dataset_mapping import (  # noqa: E402
    SEED, SPLITS, STORE_ACTION_INTENTS, Example, datasets_dir, load_bitext, load_clinc,
    missing_files, sample, split,
)

DEFAULT_MODEL = PROJECT_ROOT / "models" / "tinsel.tar.gz"
HELDOUT_FILE = PROJECT_ROOT / "tests" / "nlu" / "test_nlu.yml"
RESULTS_FILE = PROJECT_ROOT / "results" / "nlu_eval.json"
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_DOMAIN_LEAK_TARGET = 0.05


# --- parsing ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Parse:
    intent: str                               # top-level intent ("faq", "nlu_fallback", ...)
    faq_key: str                              # "faq/<key>" from the ResponseSelector, else ""
    confidence: float
    entities: tuple[tuple[str, str], ...]     # (entity, value): order_number, email, MONEY, ...
    ms: float


@contextlib.contextmanager
def _silenced_warnings():
    """Some of Rasa's imports reset the warning filters, so filters alone don't silence them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.showwarning = lambda *args, **kwargs: None
        yield


def _quiet_rasa() -> None:
    """Rasa's import-time deprecation warnings and per-parse debug logs would drown the report."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    with _silenced_warnings():
        import rasa.core.agent  # noqa: F401
        import rasa.shared.nlu.training_data.loading  # noqa: F401
        from rasa.utils.log_utils import configure_structlog
    for name in ("rasa", "tensorflow", "absl", "sanic", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    configure_structlog(logging.ERROR)
    # spaCy's CARDINAL/DATE/PERSON are used by actions without being domain entities.
    warnings.filterwarnings("ignore", message=r"Parsed an entity '.*' which is not defined in the domain")


class Parser:
    """The trained model loaded once, parsing messages exactly as a channel's messages are."""

    def __init__(self, model_path: Path):
        _quiet_rasa()
        from rasa.core.agent import Agent

        self.model_path = Path(model_path)
        self._loop = asyncio.new_event_loop()
        with _silenced_warnings():
            self.agent = Agent.load(str(self.model_path))
        self._cache: dict[str, Parse] = {}
        self.timings_ms: list[float] = []

    def raw_parse(self, text: str) -> dict:
        """What Rasa's /model/parse would answer."""
        return self._loop.run_until_complete(self.agent.parse_message(text))

    def parse(self, text: str) -> Parse:
        if text not in self._cache:
            started = time.perf_counter()
            data = self.raw_parse(text)
            ms = (time.perf_counter() - started) * 1000
            self.timings_ms.append(ms)
            self._cache[text] = _to_parse(data, ms)
        return self._cache[text]

    def parse_all(self, examples: Sequence[Example]) -> list[Parse]:
        return [self.parse(ex.text) for ex in examples]

    def close(self) -> None:
        self._loop.close()


def _to_parse(data: dict, ms: float) -> Parse:
    intent = (data.get("intent") or {}).get("name") or ""
    faq_key = ""
    if intent == "faq":
        selected = (data.get("response_selector") or {}).get("faq") or {}
        faq_key = (selected.get("response") or {}).get("intent_response_key") or ""
    entities = tuple((e.get("entity", ""), str(e.get("value", ""))) for e in data.get("entities") or [])
    return Parse(intent, faq_key, float((data.get("intent") or {}).get("confidence") or 0.0), entities, ms)


# --- intent scores ----------------------------------------------------------------------------

def top_intent(intent: str) -> str:
    return intent.split("/", 1)[0]


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def intent_report(examples: Sequence[Example], parses: Sequence[Parse]) -> dict:
    """Accuracy and F1 at the level DIET decides (all FAQ answers are one intent, `faq`).

    Macro F1 averages the intents this set contains; intents that were only predicted (e.g.
    nlu_fallback) show up in the table with support 0, where their precision is what hurts.
    Which FAQ answer was picked is scored separately (faq_answer_accuracy).
    """
    gold = [top_intent(ex.intent) for ex in examples]
    pred = [p.intent for p in parses]
    n = len(gold)
    labels = sorted(set(gold) | set(pred))
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    per_intent = {}
    for label in labels:
        prec = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        rec = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        per_intent[label] = {"precision": prec, "recall": rec, "f1": _f1(prec, rec),
                             "support": tp[label] + fn[label], "predicted": tp[label] + fp[label]}
    gold_labels = sorted(set(gold))
    confusions = Counter((g, p) for g, p in zip(gold, pred) if g != p)
    source_labels: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for ex, g, p in zip(examples, gold, pred):
        if g != p:
            source_labels[(g, p)][ex.label] += 1
    faq = [(ex, p) for ex, p in zip(examples, parses) if "/" in ex.intent and p.intent == "faq"]
    return {
        "messages": n,
        "accuracy": sum(tp.values()) / n if n else 0.0,
        "macro_f1": sum(per_intent[l]["f1"] for l in gold_labels) / len(gold_labels) if gold_labels else 0.0,
        "fallback_rate": pred.count(FALLBACK_INTENT) / n if n else 0.0,
        "faq_answer_accuracy": (sum(ex.intent == p.faq_key for ex, p in faq) / len(faq)) if faq else None,
        "faq_answer_messages": len(faq),
        "per_intent": per_intent,
        "worst_confusions": [
            {"gold": g, "predicted": p, "count": c,
             "source_labels": dict(source_labels[(g, p)].most_common(3))}
            for (g, p), c in confusions.most_common(10)
        ],
    }


def out_of_domain_report(examples: Sequence[Example], parses: Sequence[Parse]) -> dict:
    """How often a message that is none of the store's business would start a store action."""
    pairs = [(ex, p) for ex, p in zip(examples, parses) if ex.out_of_domain]
    leaks = [(ex, p) for ex, p in pairs if p.intent in STORE_ACTION_INTENTS]
    by_label = Counter(ex.label for ex, _ in leaks)
    oos = [(ex, p) for ex, p in pairs if ex.label == "oos"]
    return {
        "messages": len(pairs),
        "store_action_share": len(leaks) / len(pairs) if pairs else 0.0,
        "target": OUT_OF_DOMAIN_LEAK_TARGET,
        "oos_label_store_action_share": (
            sum(p.intent in STORE_ACTION_INTENTS for _, p in oos) / len(oos) if oos else None),
        "handled_share": (sum(p.intent in ("out_of_scope", FALLBACK_INTENT) for _, p in pairs) / len(pairs)
                          if pairs else 0.0),
        "leaked_to": dict(Counter(p.intent for _, p in leaks).most_common()),
        "leaking_labels": dict(by_label.most_common(10)),
    }


# --- entity scores ----------------------------------------------------------------------------

def _digits(value: str) -> str:
    return re.sub(r"\D", "", value).lstrip("0")


def bitext_order_id_report(examples: Sequence[Example], parses: Sequence[Parse]) -> dict:
    """Is Bitext's order id extracted as our order_number, with the right digits?

    Bitext's own labels are sometimes inconsistent: in about 200 of its 473 order_id rows the
    span at start/end_offset is not entity_value (leading zeros dropped from the value, or the
    value truncated from the number actually typed: "370795561790" labelled "3707955617").
    So the typed digit run that contains the labelled value counts as right, as does the value;
    leading zeros are stripped on both sides.
    """
    rows = [(ex, p) for ex, p in zip(examples, parses) if ex.entity_type == "order_id"]
    right = extracted = in_format = right_in_format = 0
    for ex, p in rows:
        typed = [run for run in re.findall(r"\d+", ex.text) if ex.entity_value in run]
        accepted = {_digits(ex.entity_value)} | {_digits(run) for run in typed}
        found = {_digits(v) for v in assistant_order_numbers(p)}
        hit = bool(found & accepted)
        right += hit
        extracted += bool(found)
        if typed and all(5 <= len(run) <= 12 for run in typed):
            in_format += 1
            right_in_format += hit
    spurious = sum(
        any(e == "order_number" for e, _ in p.entities)
        for ex, p in zip(examples, parses) if ex.source == "bitext" and ex.entity_type != "order_id"
        and not re.search(r"\d{5}", ex.text)
    )
    return {
        "messages": len(rows),
        "recall": right / len(rows) if rows else None,
        "precision": right / extracted if extracted else None,
        "recall_on_5_to_12_digit_ids": right_in_format / in_format if in_format else None,
        "messages_with_5_to_12_digit_ids": in_format,
        "order_number_without_any_5_digit_number": spurious,
    }


_FIRST_NAMES = ["jane", "sam", "li.wei", "maria_g", "o.connor", "k.patel", "tom+gifts", "anna.b"]
_DOMAINS = ["gmail.com", "yahoo.co.uk", "outlook.com", "example.org", "mail.tinsel-shop.com"]


def synthetic_entity_sentences(seed: int = SEED) -> list[tuple[str, list[tuple[str, str]]]]:
    """Sentences with known order numbers, emails and amounts, plus look-alikes that are none.

    Gold entities are (order_number|email|money, value); the look-alikes (phone numbers, years,
    a price written as "$54321") must not become order numbers.
    """
    rng = random.Random(seed)
    templates = [
        ("where is order {order}", ["order"]),
        ("can you track #{order} for me", ["order"]),
        ("my order number is {order} and my email is {email}", ["order", "email"]),
        ("order {order}, {email}", ["order", "email"]),
        ("the email on the order is {email}", ["email"]),
        ("{email}", ["email"]),
        ("i was charged {money} twice for order {order}", ["money", "order"]),
        ("can i get a refund of {money}", ["money"]),
        ("the scarf cost {money} and it arrived torn", ["money"]),
        ("i paid {money} for gift wrap on order no. {order}", ["money", "order"]),
        ("looking for a present under {money}", ["money"]),
        ("call me on 555-867-{four}", []),
        ("my number is +4479{eight}", []),
        ("i ordered it on december 3 {year}", []),
        ("the tv was ${five}, i want that back", ["price"]),
    ]
    sentences = []
    for _ in range(4):
        for template, kinds in templates:
            amount = f"{rng.randint(5, 250)}{rng.choice(['', f'.{rng.randint(10, 99)}'])}"
            values = {
                "order": str(rng.randint(100000, 999999)),
                "email": f"{rng.choice(_FIRST_NAMES)}{rng.randint(1, 99)}@{rng.choice(_DOMAINS)}",
                "money": rng.choice([f"${amount}", f"{amount} dollars"]),
                "four": str(rng.randint(1000, 9999)), "eight": str(rng.randint(10000000, 99999999)),
                "year": rng.choice(["2025", "2026"]), "five": str(rng.randint(10000, 99999)),
            }
            gold = {"order": ("order_number", values["order"]), "email": ("email", values["email"]),
                    "money": ("money", amount), "price": ("money", values["five"])}
            sentences.append((template.format(**values), [gold[k] for k in kinds]))
    return sentences


def _normalized_entity(kind: str, value: str) -> str:
    if kind == "order_number":
        return _digits(value)
    if kind == "email":
        return value.strip().lower()
    match = re.search(r"\d[\d,]*(?:\.\d+)?", value)
    try:
        return str(Decimal(match.group(0).replace(",", ""))) if match else ""
    except InvalidOperation:
        return ""


ENTITY_KINDS = {"order_number": "order_number", "email": "email", "money": "MONEY"}


def assistant_order_numbers(parse: Parse) -> list[str]:
    """Order numbers as the assistant reads them: every `order_number` entity passes through
    bot.orders.lookup.parse_order_number in the form validator, which drops what is not an order
    number (DIET also tags prices, phone numbers and dates as order_number)."""
    return [n for e, v in parse.entities if e == "order_number" and (n := parse_order_number(v))]


def raw_order_number_precision(parser: Parser, seed: int = SEED) -> float:
    """Share of DIET/regex `order_number` entities that are real order numbers, before validation."""
    right = total = 0
    for text, gold in synthetic_entity_sentences(seed):
        want = {_digits(v) for k, v in gold if k == "order_number"}
        got = {v for e, v in parser.parse(text).entities if e == "order_number"}
        total += len(got)
        right += sum(_digits(v) in want and v.lstrip("#").isdigit() for v in got)
    return right / total if total else 1.0


def synthetic_entity_report(parser: Parser, seed: int = SEED) -> dict:
    tp, fp, fn = Counter(), Counter(), Counter()
    for text, gold in synthetic_entity_sentences(seed):
        parse = parser.parse(text)
        for kind, rasa_name in ENTITY_KINDS.items():
            want = Counter(_normalized_entity(kind, v) for k, v in gold if k == kind)
            # DIET and the regex extractor may both report the same order number; the slot
            # takes one value, so each distinct value counts once.
            values = assistant_order_numbers(parse) if kind == "order_number" else [
                v for e, v in parse.entities if e == rasa_name]
            got = Counter({_normalized_entity(kind, v) for v in values})
            hits = sum((want & got).values())
            tp[kind] += hits
            fp[kind] += sum(got.values()) - hits
            fn[kind] += sum(want.values()) - hits
    report = {}
    for kind in ENTITY_KINDS:
        prec = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else 0.0
        rec = tp[kind] / (tp[kind] + fn[kind]) if tp[kind] + fn[kind] else 0.0
        report[kind] = {"precision": prec, "recall": rec, "f1": _f1(prec, rec),
                        "expected": tp[kind] + fn[kind]}
    return report


# --- data ---------------------------------------------------------------------------------------

def load_heldout(path: Path = HELDOUT_FILE) -> list[Example]:
    """The team's own held-out file, read with Rasa's reader (FAQ rows keep their answer key)."""
    _quiet_rasa()
    from rasa.shared.nlu.training_data.loading import load_data

    with _silenced_warnings():
        training_data = load_data(str(path))
    examples = []
    for message in training_data.intent_examples:
        intent = message.get("intent_response_key") or message.get("intent")
        examples.append(Example(source="heldout", text=message.get("text"), label=intent, intent=intent))
    return examples


def public_sets(part: str, sample_size: int | None, seed: int = SEED) -> dict[str, list[Example]]:
    sets = {"bitext": split(load_bitext(), part, seed), "clinc150": split(load_clinc(), part, seed)}
    if sample_size:
        sets = {name: sample(examples, sample_size, seed) for name, examples in sets.items()}
    return sets


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# --- report -----------------------------------------------------------------------------------

def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def print_intent_report(name: str, report: dict) -> None:
    print(f"\n== {name}: {report['messages']} messages ==")
    line = (f"accuracy {_fmt(report['accuracy'])}   macro F1 {_fmt(report['macro_f1'])}   "
            f"fallback {report['fallback_rate']:.1%}")
    if report["faq_answer_accuracy"] is not None:
        line += f"   right FAQ answer {_fmt(report['faq_answer_accuracy'])} (of {report['faq_answer_messages']} faq)"
    print(line)
    print(f"  {'intent':<16}{'prec':>7}{'rec':>7}{'f1':>7}{'gold':>6}{'pred':>6}")
    for label, s in sorted(report["per_intent"].items(), key=lambda kv: (-kv[1]["support"], kv[0])):
        print(f"  {label:<16}{_fmt(s['precision'], 2):>7}{_fmt(s['recall'], 2):>7}{_fmt(s['f1'], 2):>7}"
              f"{s['support']:>6}{s['predicted']:>6}")
    if report["worst_confusions"]:
        print("  worst confusions (gold -> predicted: count; source labels)")
        for c in report["worst_confusions"]:
            sources = ", ".join(f"{k} {v}" for k, v in c["source_labels"].items())
            print(f"    {c['gold']} -> {c['predicted']}: {c['count']}; {sources}")


def print_out_of_domain(report: dict) -> None:
    verdict = "OK" if report["store_action_share"] <= report["target"] else "ABOVE TARGET"
    print(f"  out-of-domain (incl. oos) -> store action: {report['store_action_share']:.1%} of "
          f"{report['messages']} (target <= {report['target']:.0%}: {verdict}); 'oos' label alone "
          f"{_fmt(report['oos_label_store_action_share'])}; answered out_of_scope or fallback "
          f"{report['handled_share']:.1%}")
    if report["leaked_to"]:
        print("    leaked to: " + ", ".join(f"{k} {v}" for k, v in report["leaked_to"].items()))
        print("    from labels: " + ", ".join(f"{k} {v}" for k, v in report["leaking_labels"].items()))


def print_misses(name: str, examples: Sequence[Example], parses: Sequence[Parse], limit: int) -> None:
    misses = [(ex, p) for ex, p in zip(examples, parses) if top_intent(ex.intent) != p.intent]
    misses.sort(key=lambda m: (m[0].intent, m[1].intent, m[0].text))
    print(f"\n-- {name}: {len(misses)} study messages misclassified; showing {min(limit, len(misses))} --")
    step = max(1, len(misses) // limit) if limit else 1
    for ex, p in misses[::step][:limit]:
        print(f"  [{ex.label} -> {ex.intent}] got {p.intent} ({p.confidence:.2f}): {ex.text}")


def model_info(path: Path) -> dict:
    stat = path.stat()
    return {"path": str(path), "bytes": stat.st_size,
            "modified": datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat(timespec="seconds")}


def print_bitext_order_ids(ids: dict) -> None:
    print(f"  Bitext order ids -> order_number: recall {_fmt(ids['recall'])} precision {_fmt(ids['precision'])} "
          f"of {ids['messages']}; recall on 5-12 digit ids {_fmt(ids['recall_on_5_to_12_digit_ids'])} "
          f"(of {ids['messages_with_5_to_12_digit_ids']}; ours have 6, the regex takes 5-12); "
          f"order_number in {ids['order_number_without_any_5_digit_number']} messages without any 5-digit number")


def print_synthetic_entities(synthetic: dict) -> None:
    for kind, s in synthetic.items():
        print(f"  synthetic {kind:<13} precision {_fmt(s['precision'])} recall {_fmt(s['recall'])} "
              f"F1 {_fmt(s['f1'])} ({s['expected']} expected)")


def speed_report(timings_ms: Sequence[float], load_seconds: float) -> dict:
    return {"parses": len(timings_ms), "mean_ms": sum(timings_ms) / len(timings_ms) if timings_ms else 0.0,
            "p95_ms": percentile(timings_ms, 0.95), "model_load_s": load_seconds}


def print_speed(speed: dict) -> None:
    print(f"\n== speed == {speed['parses']} parses: mean {speed['mean_ms']:.1f} ms, "
          f"p95 {speed['p95_ms']:.1f} ms per message (model load {speed['model_load_s']:.0f} s)")


# --- the run ----------------------------------------------------------------------------------

def evaluation_sets(part: str, sample_size: int | None) -> tuple[dict[str, list[Example]], Path | None]:
    """The public sets (skipped, with a word why, when their files are missing) and the team's
    held-out file; and the public sets' directory, or None when they were skipped."""
    root = datasets_dir()
    missing = missing_files(root)
    if missing:
        print(f"Public datasets not found under {root} (missing: {', '.join(str(m) for m in missing)}).\n"
              "Skipping the Bitext and CLINC150 figures; set TINSEL_DATASETS to their directory to run them.")
        sets: dict[str, list[Example]] = {}
    else:
        sets = public_sets(part, sample_size)
    if HELDOUT_FILE.is_file():
        sets["heldout"] = load_heldout()
    return sets, None if missing else root


def evaluate_intents(
    parser: Parser, sets: dict[str, list[Example]], part: str
) -> tuple[dict[str, dict], dict[str, list[Parse]]]:
    """Each set's intent report, printed as it is done (CLINC150 also out of domain); and the parses."""
    reports: dict[str, dict] = {}
    parsed: dict[str, list[Parse]] = {}
    for name, examples in sets.items():
        parsed[name] = parser.parse_all(examples)
        report = intent_report(examples, parsed[name])
        if name == "clinc150":
            report["out_of_domain"] = out_of_domain_report(examples, parsed[name])
        reports[name] = report
        print_intent_report(f"{name} ({part} split)" if name != "heldout" else "heldout (tests/nlu/test_nlu.yml)",
                            report)
        if name == "clinc150":
            print_out_of_domain(report["out_of_domain"])
    return reports, parsed


def evaluate_entities(parser: Parser, sets: dict[str, list[Example]], parsed: dict[str, list[Parse]]) -> dict:
    """Bitext's order ids (with the public sets), the synthetic sentences and the order numbers
    before validation, printed; returned as the results' entries of the same names."""
    print("\n== entities ==")
    results: dict = {}
    if "bitext" in sets:
        results["bitext_order_ids"] = bitext_order_id_report(sets["bitext"], parsed["bitext"])
        print_bitext_order_ids(results["bitext_order_ids"])
    results["synthetic_entities"] = synthetic_entity_report(parser)
    print_synthetic_entities(results["synthetic_entities"])
    raw = raw_order_number_precision(parser)
    results["raw_order_number_precision"] = raw
    print(f"  order_number entities before the form's validation: precision {_fmt(raw)} "
          "(DIET also tags prices, phone numbers and dates)")
    return results


def write_results(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nFigures written to {path}. Bitext data: Bitext, CDLA-Sharing 1.0. CLINC150: Larson et al., EMNLP 2019.")


def cannot_run(args: argparse.Namespace) -> str | None:
    """Why this run cannot go ahead, or None."""
    if args.show_misses and args.split != "study":
        return "--show-misses only works with --split study: the eval split is looked at as figures only."
    if not Path(args.model).is_file():
        return f"No trained model at {Path(args.model)}: run `make train` (or pass --model)."
    return None


def main(argv: Iterable[str] | None = None) -> int:
    args = _arguments().parse_args(argv)
    problem = cannot_run(args)
    if problem:
        print(problem)
        return 2
    model = Path(args.model)
    sets, datasets = evaluation_sets(args.split, args.sample)

    print(f"Loading {model} ...", flush=True)
    started = time.perf_counter()
    parser = Parser(model)
    load_seconds = time.perf_counter() - started

    print(f"Tinsel NLU benchmark: model {model} | split {args.split} | seed {SEED}"
          + (f" | sample {args.sample} per public set" if args.sample else ""))
    results: dict = {"model": model_info(model), "split": args.split, "seed": SEED,
                     "sample": args.sample, "datasets": str(datasets) if datasets else None,
                     "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    results["sets"], parsed = evaluate_intents(parser, sets, args.split)
    results.update(evaluate_entities(parser, sets, parsed))
    results["speed"] = speed_report(parser.timings_ms, load_seconds)
    print_speed(results["speed"])

    if args.show_misses:
        for name, examples in sets.items():
            if name != "heldout":
                print_misses(name, examples, parsed[name], args.show_misses)
    parser.close()
    write_results(Path(args.json), results)
    return 0


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="trained model (.tar.gz)")
    parser.add_argument("--split", choices=SPLITS, default="eval",
                        help="eval (default): figures only; study: the part the team may read")
    parser.add_argument("--sample", type=int, default=None, metavar="N",
                        help="a stratified, seeded sample of N messages from each public set")
    parser.add_argument("--show-misses", type=int, default=0, metavar="N",
                        help="with --split study: print N misclassified messages per public set")
    parser.add_argument("--json", default=str(RESULTS_FILE), help="where to write the figures")
    return parser


if __name__ == "__main__":
    sys.exit(main())
