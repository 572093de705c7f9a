"""The trained model still understands messages nobody on the team wrote.

A CI-sized slice of bench/nlu_eval.py: a fixed, stratified sample of the eval split of the
public sets (Bitext customer-support requests; CLINC150 requests that are none of a store's
business, and its small talk and order-status requests), the team's held-out file and the
generated entity sentences. Floors sit a little below the figures measured with
models/tinsel.tar.gz (see bench/README.md); the full figures come from `make bench`. The
public sets live outside the repo; without them those tests skip.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import dataset_mapping as datasets
from bench import nlu_eval

MODEL = Path(os.environ.get("TINSEL_NLU_MODEL", nlu_eval.DEFAULT_MODEL))
SAMPLE_SIZE = 150

# Measured 2026-12-03 on these samples with the model `make train` builds (DIET blended with a
# logistic regression on the sentence vector, nlu_components/) and, in brackets, with
# `rasa train nlu` and random seed 7: Bitext accuracy 0.987 (0.960); unrelated requests starting
# a store action 0.7 % (0.7 %; 1 of 150, bench target 5 %) and getting the out-of-scope answer
# 95.3 % (95.3 %); CLINC150 small talk and order-status requests 0.90 (0.90); held-out accuracy
# 0.963 (0.959), FAQ answers 1.00 (0.98); money recall 0.96. Before the blend one training to the
# next moved these by two to three points (held-out 0.914 to 0.948), so floors sit that far
# below the lower figure. Order numbers and emails are plain regexes and must simply work.
BITEXT_ACCURACY_FLOOR = 0.94
OUT_OF_DOMAIN_STORE_ACTION_CEILING = 0.03
OUT_OF_SCOPE_ANSWER_FLOOR = 0.92
SMALL_TALK_ACCURACY_FLOOR = 0.85
HELDOUT_ACCURACY_FLOOR = 0.93
HELDOUT_FAQ_ANSWER_FLOOR = 0.95
ENTITY_RECALL_FLOOR = {"order_number": 0.95, "email": 0.95, "money": 0.90}
ORDER_NUMBER_PRECISION_FLOOR = 0.95


@pytest.fixture(scope="module")
def parser():
    if not MODEL.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{MODEL} is missing under CI: `make test` trains it first")
        pytest.skip(f"{MODEL} not trained yet (make train)")
    loaded = nlu_eval.Parser(MODEL)
    yield loaded
    loaded.close()


@pytest.fixture(scope="module")
def eval_split():
    missing = datasets.missing_files()
    if missing:
        pytest.skip(f"public datasets not found under {datasets.datasets_dir()} "
                    f"({', '.join(str(m) for m in missing)} missing); set TINSEL_DATASETS")
    return {
        "bitext": datasets.split(datasets.load_bitext(), "eval"),
        "clinc150": datasets.split(datasets.load_clinc(), "eval"),
    }


def _confusions(report: dict) -> str:
    return "; ".join(f"{c['gold']}->{c['predicted']} x{c['count']}" for c in report["worst_confusions"][:5])


def test_customer_support_requests_reach_the_right_intent(eval_split, parser):
    examples = datasets.sample(eval_split["bitext"], SAMPLE_SIZE)
    report = nlu_eval.intent_report(examples, parser.parse_all(examples))
    assert report["accuracy"] >= BITEXT_ACCURACY_FLOOR, (
        f"Bitext accuracy {report['accuracy']:.3f} < {BITEXT_ACCURACY_FLOOR}; worst: {_confusions(report)}")


def test_unrelated_requests_rarely_start_a_store_action(eval_split, parser):
    unrelated = [ex for ex in eval_split["clinc150"] if ex.out_of_domain]
    examples = datasets.sample(unrelated, SAMPLE_SIZE)
    report = nlu_eval.out_of_domain_report(examples, parser.parse_all(examples))
    assert report["messages"] == len(examples) == SAMPLE_SIZE
    assert report["store_action_share"] <= OUT_OF_DOMAIN_STORE_ACTION_CEILING, (
        f"{report['store_action_share']:.1%} of unrelated requests would start a store action "
        f"(ceiling {OUT_OF_DOMAIN_STORE_ACTION_CEILING:.0%}): {report['leaked_to']}")


def test_unrelated_requests_get_the_out_of_scope_answer(eval_split, parser):
    """Bank, travel and smart-home requests get "that's not something I can help with" and the
    list of what Tinsel can do, rather than an FAQ answer, a person or a clarifying question."""
    unrelated = [ex for ex in eval_split["clinc150"] if ex.out_of_domain]
    examples = datasets.sample(unrelated, SAMPLE_SIZE)
    parses = parser.parse_all(examples)
    answered = sum(p.intent == "out_of_scope" for p in parses) / len(parses)
    assert answered >= OUT_OF_SCOPE_ANSWER_FLOOR, (
        f"only {answered:.1%} of unrelated requests got the out-of-scope answer "
        f"(floor {OUT_OF_SCOPE_ANSWER_FLOOR:.0%}); worst: "
        f"{_confusions(nlu_eval.intent_report(examples, parses))}")


def test_everyday_small_talk_reaches_the_small_talk_intents(eval_split, parser):
    """Greetings, goodbyes, thanks, yes/no, "are you a bot?" and "where's my order?" as CLINC150's
    crowd wrote them: each gets its own answer, not the out-of-scope reply or a handoff."""
    mapped = [ex for ex in eval_split["clinc150"] if not ex.out_of_domain]
    examples = datasets.sample(mapped, SAMPLE_SIZE)
    assert {nlu_eval.top_intent(ex.intent) for ex in examples} >= {
        "greet", "goodbye", "thank_you", "affirm", "deny", "bot_challenge", "track_order"}
    report = nlu_eval.intent_report(examples, parser.parse_all(examples))
    assert report["accuracy"] >= SMALL_TALK_ACCURACY_FLOOR, (
        f"CLINC150 small talk accuracy {report['accuracy']:.3f} < {SMALL_TALK_ACCURACY_FLOOR}; "
        f"worst: {_confusions(report)}")


def test_heldout_messages_reach_the_right_intent_and_faq_answer(parser):
    examples = nlu_eval.load_heldout()
    report = nlu_eval.intent_report(examples, parser.parse_all(examples))
    assert report["accuracy"] >= HELDOUT_ACCURACY_FLOOR, (
        f"held-out accuracy {report['accuracy']:.3f} < {HELDOUT_ACCURACY_FLOOR}; worst: {_confusions(report)}")
    assert report["faq_answer_accuracy"] >= HELDOUT_FAQ_ANSWER_FLOOR


def test_order_numbers_emails_and_amounts_are_picked_out_of_sentences(parser):
    report = nlu_eval.synthetic_entity_report(parser)
    short = {kind: (round(s["recall"], 2), round(s["precision"], 2)) for kind, s in report.items()}
    for kind, floor in ENTITY_RECALL_FLOOR.items():
        assert report[kind]["recall"] >= floor, (
            f"{kind} recall below {floor}: (recall, precision) {short}. Rasa 3.6's RegexEntityExtractor "
            "ignores a regex unless its entity is annotated in at least one training example.")
    assert report["order_number"]["precision"] >= ORDER_NUMBER_PRECISION_FLOOR, (
        f"phone numbers, years or prices taken for order numbers after the form's validation: {short}")


def test_only_faq_questions_get_an_faq_answer_chosen(parser):
    """nlu_components/faq_response_selector.py: the selector's pass is skipped for other intents,
    which still list the retrieval intents, with nothing selected."""
    question = parser.raw_parse("what is your return policy?")
    assert question["intent"]["name"] == "faq"
    assert question["response_selector"]["faq"]["response"]["intent_response_key"].startswith("faq/")
    other = parser.raw_parse("where is my order 104701?")
    assert other["intent"]["name"] != "faq"
    assert other["response_selector"] == {"all_retrieval_intents": ["faq"]}
